import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../../common/errors.js'
import {
  createSelfSignedCa,
  decodeCertificate,
  generateKeyPair,
  mintX509Svid,
  parseSpiffeId,
  parseTrustDomain,
  pemEncode,
} from '../../../spiffe/index.js'
import { DiskUpstreamAuthority } from './index.js'

const td = parseTrustDomain('example.org')
const dir = mkdtempSync(join(tmpdir(), 'steeple-upstream-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function writeUpstream(name: string) {
  const key = generateKeyPair('ec-p256').privateKey
  const root = createSelfSignedCa({ trustDomain: td, privateKey: key, ttlSeconds: 86400 })
  const certPath = join(dir, `${name}.crt`)
  const keyPath = join(dir, `${name}.key`)
  writeFileSync(certPath, pemEncode('CERTIFICATE', root.certificateDer))
  writeFileSync(keyPath, key.export({ format: 'pem', type: 'pkcs8' }) as string)
  return { root, certPath, keyPath }
}

describe('disk upstream authority', () => {
  it('X509-16: signs the server CA as an intermediate under the operator CA; leaves chain to the upstream root in openssl', async () => {
    const { root, certPath, keyPath } = writeUpstream('upstream')
    const upstream = await DiskUpstreamAuthority.load(certPath, keyPath, undefined)
    const serverKey = generateKeyPair('ec-p256')
    const minted = await upstream.mintX509Ca(serverKey.publicKey, td, 3600, new Date())
    expect(minted.upstreamRootsDer.map((d) => Buffer.from(d).toString('hex'))).toEqual([Buffer.from(root.certificateDer).toString('hex')])
    expect(minted.intermediatesDer).toEqual([])
    const ca = decodeCertificate(minted.caCertificateDer)
    expect(ca.basicConstraints?.ca).toBe(true)
    expect(ca.uris).toEqual(['spiffe://example.org'])

    const leaf = mintX509Svid({
      ca: { certificateDer: minted.caCertificateDer, privateKey: serverKey.privateKey },
      spiffeId: parseSpiffeId('spiffe://example.org/workload'),
      publicKey: generateKeyPair('ec-p256').publicKey,
      ttlSeconds: 60,
    })
    const rootFile = join(dir, 'root.pem')
    const chainFile = join(dir, 'chain.pem')
    const leafFile = join(dir, 'leaf.pem')
    writeFileSync(rootFile, pemEncode('CERTIFICATE', root.certificateDer))
    writeFileSync(chainFile, pemEncode('CERTIFICATE', minted.caCertificateDer))
    writeFileSync(leafFile, pemEncode('CERTIFICATE', leaf.certificateDer))
    const r = spawnSync('openssl', ['verify', '-CAfile', rootFile, '-untrusted', chainFile, leafFile], { encoding: 'utf8' })
    expect(r.stdout + r.stderr).toMatch(/leaf\.pem: OK/)
  })

  it('refuses a key that does not belong to the certificate, naming the config key', async () => {
    const a = writeUpstream('a')
    const b = writeUpstream('b')
    const err = await DiskUpstreamAuthority.load(a.certPath, b.keyPath, undefined).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message).toMatch(/key_file_path: the key does not match the upstream CA certificate/)
  })

  it('names a missing file', async () => {
    const err = await DiskUpstreamAuthority.load(join(dir, 'absent.crt'), join(dir, 'absent.key'), undefined).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(/cert_file_path: cannot read .*absent\.crt: ENOENT/)
  })
})
