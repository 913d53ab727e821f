import { spawnSync } from 'node:child_process'
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SpiffeError } from './errors.js'
import { parseCsr, createCsr } from './csr.js'
import { parseSpiffeId, parseTrustDomain } from './id.js'
import { createSelfSignedCa } from './x509-ca.js'
import { generateKeyPair } from './x509-keys.js'
import { mintX509Svid } from './x509-mint.js'
import { testKeys, thrown, x509 } from './testdata/x509.js'

const dir = mkdtempSync(join(tmpdir(), 'steeple-csr-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const keys: [string, () => KeyObject][] = [
  ['ec-p256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey],
  ['ec-p384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
  ['rsa-2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
]

describe('createCsr', () => {
  it.each(keys)('%s: parseCsr accepts it and finds the key', (_name, make) => {
    const key = make()
    const csr = parseCsr(createCsr(key))
    const expected = (k: KeyObject) => (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' })
    expect(expected(csr.publicKey)).toEqual(expected(key))
    expect(csr.uris).toEqual([])
    expect(csr.dnsNames).toEqual([])
  })

  it('openssl verifies its self-signature', () => {
    const path = join(dir, 'req.der')
    writeFileSync(path, createCsr(keys[0]![1]()))
    const run = spawnSync('openssl', ['req', '-inform', 'DER', '-in', path, '-verify', '-noout'], { encoding: 'utf8' })
    expect(run.status).toBe(0)
    expect(run.stdout + run.stderr).toMatch(/verify OK/)
  })

  it('refuses a key type the CA signer set does not cover', () => {
    expect(() => createCsr(generateKeyPairSync('ed25519').privateKey)).toThrow(SpiffeError)
  })
})

const NOW = new Date('2026-03-01T12:00:00.000Z')
const id = parseSpiffeId('spiffe://example.org/ns/prod/sa/web')

describe('parseCsr', () => {
  const ca = createSelfSignedCa({ trustDomain: parseTrustDomain('example.org'), privateKey: generateKeyPair('ec-p256').privateKey, ttlSeconds: 86_400, now: NOW })
  const csrFor = async (kind: 'P-256' | 'RSA', names: { type: 'url' | 'dns'; value: string }[]): Promise<{ csr: x509.Pkcs10CertificateRequest; publicKey: KeyObject }> => {
    const keys = await testKeys(kind)
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=ignored',
      keys: keys.web,
      signingAlgorithm: keys.algorithm,
      extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
    })
    return { csr, publicKey: keys.publicKey }
  }

  it.each(['P-256', 'RSA'] as const)('reads the key and SANs of a %s CSR, as DER and PEM, and mints from it', async (kind) => {
    const { csr, publicKey } = await csrFor(kind, [{ type: 'url', value: 'spiffe://example.org/agent' }, { type: 'dns', value: 'node1.example.org' }])
    for (const input of [new Uint8Array(csr.rawData), csr.toString('pem')]) {
      const parsed = parseCsr(input)
      expect(parsed.publicKey.equals(publicKey)).toBe(true)
      expect(parsed.uris).toEqual(['spiffe://example.org/agent'])
      expect(parsed.dnsNames).toEqual(['node1.example.org'])
      const minted = mintX509Svid({ ca, spiffeId: id, publicKey: parsed.publicKey, ttlSeconds: 60, now: NOW })
      expect(new x509.X509Certificate(minted.certificateDer).publicKey.rawData).toEqual(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })).buffer)
    }
  })

  it('reads a CSR without extensions', async () => {
    const { csr } = await csrFor('P-256', [])
    expect(parseCsr(new Uint8Array(csr.rawData))).toMatchObject({ uris: [], dnsNames: [] })
  })

  it('refuses a CSR whose self-signature does not verify, and bytes that are not a CSR', async () => {
    const { csr } = await csrFor('P-256', [{ type: 'url', value: 'spiffe://example.org/agent' }])
    const tampered = Buffer.from(csr.rawData)
    tampered[tampered.indexOf('agent')] = 'b'.charCodeAt(0)
    const bad = thrown(() => parseCsr(tampered))
    expect([bad.code, bad.message]).toEqual(['INVALID_MINT_REQUEST', 'x509mint: invalid CSR: signature does not verify'])
    expect(thrown(() => parseCsr(Buffer.from('not a csr'))).message).toBe('x509mint: invalid CSR: malformed DER')
    expect(thrown(() => parseCsr('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n')).message).toBe(
      'x509mint: invalid CSR: no CERTIFICATE REQUEST PEM block',
    )
  })
})
