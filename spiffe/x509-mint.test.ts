import { spawnSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SpiffeErrorCode } from './errors.js'
import { parseSpiffeId, parseTrustDomain } from './id.js'
import { createSelfSignedCa, mintX509Ca } from './x509-ca.js'
import type { X509Ca } from './x509-ca.js'
import { pemEncode as toPem } from './pem.js'
import type { X509Authority } from './x509-issuer.js'
import { KEY_TYPES, generateKeyPair } from './x509-keys.js'
import type { KeyType } from './x509-keys.js'
import { mintX509Svid } from './x509-mint.js'
import type { MintX509SvidRequest } from './x509-mint.js'
import { parseX509Svid, verifyX509Svid } from './x509-svid.js'
import { Bundle } from './bundle.js'
import { KU, buildCert, opensslVerify, testKeys, thrown, x509 } from './testdata/x509.js'

const td = parseTrustDomain('example.org')
const id = parseSpiffeId('spiffe://example.org/ns/prod/sa/web')
const NOW = new Date('2026-03-01T12:00:00.000Z')

/** A root CA and an intermediate under it, per key type. */
interface Authorities {
  root: X509Ca
  intermediate: X509Authority & X509Ca
}

function authorities(type: KeyType, now = new Date()): Authorities {
  const root = createSelfSignedCa({ trustDomain: td, privateKey: generateKeyPair(type).privateKey, ttlSeconds: 86_400, now })
  const key = generateKeyPair(type)
  const minted = mintX509Ca({ parent: root, trustDomain: td, publicKey: key.publicKey, ttlSeconds: 43_200, now })
  return { root, intermediate: { ...minted, privateKey: key.privateKey } }
}

const byType = new Map<KeyType, Authorities>()
beforeAll(() => {
  for (const type of KEY_TYPES) byType.set(type, authorities(type, NOW))
})

function ext<T extends x509.Extension>(cert: x509.X509Certificate, type: new (raw: ArrayBuffer) => T, oid: string): T {
  const found = cert.getExtension(oid)
  expect(found, `extension ${oid}`).not.toBeNull()
  return new type(found!.rawData)
}

describe('mintX509Svid', () => {
  const combos = KEY_TYPES.flatMap((caType) => KEY_TYPES.map((leafType) => [caType, leafType] as const))

  it.each(combos)(
    'X509-01, X509-03, X509-05, X509-06, X509-07, X509-08, X509-09, X509-10, X509-11: %s CA, %s leaf profile read back by @peculiar/x509',
    (caType, leafType) => {
      const { root } = byType.get(caType)!
      const leafKey = generateKeyPair(leafType)
      const minted = mintX509Svid({ ca: root, spiffeId: id, publicKey: leafKey.publicKey, ttlSeconds: 3600, dnsNames: ['web.example.org', '*.web.example.org'], now: NOW })
      const cert = new x509.X509Certificate(minted.certificateDer)

      expect(cert.subject).toBe('')
      expect(Buffer.from(cert.subjectName.toArrayBuffer())).toEqual(Buffer.from([0x30, 0x00]))
      const san = ext(cert, x509.SubjectAlternativeNameExtension, '2.5.29.17')
      expect(san.critical).toBe(true)
      expect(san.names.items.map((n) => [n.type, n.value])).toEqual([
        ['url', 'spiffe://example.org/ns/prod/sa/web'],
        ['dns', 'web.example.org'],
        ['dns', '*.web.example.org'],
      ])

      const bc = ext(cert, x509.BasicConstraintsExtension, '2.5.29.19')
      expect([bc.critical, bc.ca, bc.pathLength]).toEqual([true, false, undefined])
      // cA DEFAULT FALSE is left out: the value is an empty SEQUENCE.
      expect(Buffer.from(bc.value).toString('hex')).toBe('3000')

      const ku = ext(cert, x509.KeyUsagesExtension, '2.5.29.15')
      expect(ku.critical).toBe(true)
      expect(ku.usages).toBe(leafType === 'rsa-2048' ? KU.digitalSignature | KU.keyEncipherment : KU.digitalSignature)

      const eku = ext(cert, x509.ExtendedKeyUsageExtension, '2.5.29.37')
      expect(eku.usages).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])

      const ski = ext(cert, x509.SubjectKeyIdentifierExtension, '2.5.29.14')
      const aki = ext(cert, x509.AuthorityKeyIdentifierExtension, '2.5.29.35')
      const rootSki = ext(new x509.X509Certificate(root.certificateDer), x509.SubjectKeyIdentifierExtension, '2.5.29.14')
      expect(aki.keyId).toBe(rootSki.keyId)
      expect(ski.keyId).toMatch(/^[0-9a-f]{40}$/)

      expect(cert.issuer).toBe(new x509.X509Certificate(root.certificateDer).subject)
      expect(cert.publicKey.rawData).toEqual(new Uint8Array(leafKey.publicKey.export({ type: 'spki', format: 'der' })).buffer)
      expect(cert.extensions).toHaveLength(6)
      expect(minted.id.equals(id)).toBe(true)
      expect(minted.chainDer).toEqual([minted.certificateDer])
    },
  )

  it('X509-05: with a subject, the SAN is not critical and the subject is written in order', () => {
    const { root } = byType.get('ec-p256')!
    const minted = mintX509Svid({
      ca: root,
      spiffeId: id,
      publicKey: generateKeyPair('ec-p256').publicKey,
      ttlSeconds: 60,
      subject: [{ type: 'C', value: 'US' }, { type: 'O', value: 'SPIRE' }, { type: 'CN', value: 'web ü' }],
      now: NOW,
    })
    const cert = new x509.X509Certificate(minted.certificateDer)
    expect(cert.subject).toBe('C=US, O=SPIRE, CN=web ü')
    expect(ext(cert, x509.SubjectAlternativeNameExtension, '2.5.29.17').critical).toBe(false)
  })

  it('INTEROP-10, INTEROP-11: random positive 16-octet serials; notBefore backdated 10 s; notAfter = now + TTL', () => {
    const { root } = byType.get('ec-p256')!
    const publicKey = generateKeyPair('ec-p256').publicKey
    const serials = new Set<bigint>()
    for (let i = 0; i < 200; i++) {
      const minted = mintX509Svid({ ca: root, spiffeId: id, publicKey, ttlSeconds: 3600, now: NOW })
      const cert = new x509.X509Certificate(minted.certificateDer)
      expect(cert.serialNumber).toMatch(/^[4-7][0-9a-f]{31}$/)
      expect(BigInt('0x' + cert.serialNumber)).toBe(minted.serial)
      serials.add(minted.serial)
      expect(cert.notBefore.toISOString()).toBe('2026-03-01T11:59:50.000Z')
      expect(cert.notAfter.toISOString()).toBe('2026-03-01T13:00:00.000Z')
      expect(minted.notBefore).toEqual(cert.notBefore)
      expect(minted.notAfter).toEqual(cert.notAfter)
    }
    expect(serials.size).toBe(200)
  })

  it('INTEROP-11: an SVID never outlives its CA (notAfter capped at the CA notAfter)', () => {
    const { root, intermediate } = byType.get('ec-p256')!
    const a = mintX509Svid({ ca: root, spiffeId: id, publicKey: generateKeyPair('ec-p256').publicKey, ttlSeconds: 10 * 86_400, now: NOW })
    expect(a.notAfter).toEqual(root.notAfter)
    const b = mintX509Svid({ ca: intermediate, spiffeId: id, publicKey: generateKeyPair('ec-p256').publicKey, ttlSeconds: 10 * 86_400, now: NOW })
    expect(b.notAfter).toEqual(intermediate.notAfter)
    expect(intermediate.notAfter.getTime()).toBeLessThanOrEqual(root.notAfter.getTime())
  })

  it('X509-16: under an intermediate, the chain is leaf + intermediate and verifies to the root', () => {
    const { root, intermediate } = byType.get('ec-p384')!
    const leafKey = generateKeyPair('ec-p256')
    const minted = mintX509Svid({ ca: intermediate, spiffeId: id, publicKey: leafKey.publicKey, ttlSeconds: 600, now: NOW })
    expect(minted.chainDer).toEqual([minted.certificateDer, intermediate.certificateDer])
    const verified = verifyX509Svid(minted.chainDer, new Bundle(td, { x509Authorities: [root.certificateDer] }), { now: NOW })
    expect(verified.verifiedChains).toEqual([[minted.certificateDer, intermediate.certificateDer, root.certificateDer]])
    expect(parseX509Svid(Buffer.concat(minted.chainDer), leafKey.privateKey.export({ type: 'pkcs8', format: 'der' })).id.equals(id)).toBe(true)
  })

  const rootCa = (): X509Ca => byType.get('ec-p256')!.root
  const base = (): MintX509SvidRequest => ({ ca: rootCa(), spiffeId: id, publicKey: generateKeyPair('ec-p256').publicKey, ttlSeconds: 60, now: NOW })
  const refusals: [string, () => MintX509SvidRequest, SpiffeErrorCode, string][] = [
    ['X509-04: a root ID', () => ({ ...base(), spiffeId: parseSpiffeId('spiffe://example.org') }), 'INVALID_SPIFFE_ID', 'spiffeid: leaf SPIFFE ID must have a non-root path'],
    ['INTEROP-10: a trust domain with an empty label', () => ({ ...base(), spiffeId: parseSpiffeId('spiffe://example..org/x') }), 'INVALID_TRUST_DOMAIN', 'spiffeid: trust domain labels must not be empty (no leading, trailing or repeated dots)'],
    ['INTEROP-10: a trust domain with a trailing dot', () => ({ ...base(), spiffeId: parseSpiffeId('spiffe://example.org./x') }), 'INVALID_TRUST_DOMAIN', 'spiffeid: trust domain labels must not be empty (no leading, trailing or repeated dots)'],
    ['ID-11: an ID over 2048 bytes', () => ({ ...base(), spiffeId: parseSpiffeId('spiffe://example.org/' + 'a'.repeat(2040)) }), 'INVALID_SPIFFE_ID', 'spiffeid: must not be longer than 2048 bytes'],
    ['ID-16: an ID of another trust domain', () => ({ ...base(), spiffeId: parseSpiffeId('spiffe://other.org/x') }), 'INVALID_MINT_REQUEST', 'x509mint: SPIFFE ID spiffe://other.org/x is not in the CA\'s trust domain "example.org"'],
    ['a zero TTL', () => ({ ...base(), ttlSeconds: 0 }), 'INVALID_MINT_REQUEST', 'x509mint: ttlSeconds must be a positive whole number of seconds, got 0'],
    ['a negative TTL', () => ({ ...base(), ttlSeconds: -5 }), 'INVALID_MINT_REQUEST', 'x509mint: ttlSeconds must be a positive whole number of seconds, got -5'],
    ['a fractional TTL', () => ({ ...base(), ttlSeconds: 1.5 }), 'INVALID_MINT_REQUEST', 'x509mint: ttlSeconds must be a positive whole number of seconds, got 1.5'],
    ['a NaN TTL', () => ({ ...base(), ttlSeconds: Number.NaN }), 'INVALID_MINT_REQUEST', 'x509mint: ttlSeconds must be a positive whole number of seconds, got NaN'],
    ['a DNS name with a space', () => ({ ...base(), dnsNames: ['a b.example'] }), 'INVALID_MINT_REQUEST', 'x509mint: DNS name "a b.example" is not a valid host name'],
    ['an empty DNS label', () => ({ ...base(), dnsNames: ['a..example'] }), 'INVALID_MINT_REQUEST', 'x509mint: DNS name "a..example" is not a valid host name'],
    ['a non-ASCII DNS name', () => ({ ...base(), dnsNames: ['bücher.example'] }), 'INVALID_MINT_REQUEST', 'x509mint: DNS name "bücher.example" is not a valid host name'],
    ['a wildcard not in first place', () => ({ ...base(), dnsNames: ['a.*.example'] }), 'INVALID_MINT_REQUEST', 'x509mint: DNS name "a.*.example" is not a valid host name'],
    ['a bad PrintableString country', () => ({ ...base(), subject: [{ type: 'C', value: 'U@' }] }), 'INVALID_MINT_REQUEST', 'x509mint: subject C must be a PrintableString'],
    ['an over-long common name', () => ({ ...base(), subject: [{ type: 'CN', value: 'x'.repeat(65) }] }), 'INVALID_MINT_REQUEST', 'x509mint: subject CN must be 1 to 64 characters'],
    ['an X25519 leaf key', () => ({ ...base(), publicKey: generateKeyPairSync('x25519').publicKey }), 'INVALID_MINT_REQUEST', 'x509mint: public key must be an RSA, EC or Ed25519 key'],
    ['an EC key on secp256k1', () => ({ ...base(), publicKey: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey }), 'INVALID_MINT_REQUEST', 'x509mint: EC keys must be on P-256, P-384 or P-521'],
    ['a 1024-bit RSA leaf key', () => ({ ...base(), publicKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey }), 'INVALID_MINT_REQUEST', 'x509mint: RSA keys must have at least 2048 bits'],
    ['a CA key that does not match the CA certificate', () => ({ ...base(), ca: { certificateDer: rootCa().certificateDer, privateKey: generateKeyPair('ec-p256').privateKey } }), 'INVALID_MINT_REQUEST', 'x509mint: CA private key does not match the CA certificate'],
    ['a public key as the CA key', () => ({ ...base(), ca: { certificateDer: rootCa().certificateDer, privateKey: generateKeyPair('ec-p256').publicKey } }), 'INVALID_MINT_REQUEST', 'x509mint: CA key must be a private key'],
    ['an expired CA', () => ({ ...base(), now: new Date(rootCa().notAfter.getTime() + 1000) }), 'INVALID_MINT_REQUEST', 'x509mint: CA certificate has expired'],
    ['a CA not yet valid', () => ({ ...base(), now: new Date(rootCa().notBefore.getTime() - 1000) }), 'INVALID_MINT_REQUEST', 'x509mint: CA certificate is not yet valid'],
    ['a leaf as the CA', () => {
      const leafKey = generateKeyPair('ec-p256')
      const leaf = mintX509Svid({ ...base(), publicKey: leafKey.publicKey })
      return { ...base(), ca: { certificateDer: leaf.certificateDer, privateKey: leafKey.privateKey } }
    }, 'INVALID_MINT_REQUEST', 'x509mint: CA certificate must have CA flag set to true'],
    ['bytes that are not a certificate as the CA', () => ({ ...base(), ca: { certificateDer: Buffer.from('nope'), privateKey: generateKeyPair('ec-p256').privateKey } }), 'INVALID_MINT_REQUEST', 'x509mint: cannot parse CA certificate'],
  ]

  it.each(refusals)('refuses %s', (_name, request, code, message) => {
    const err = thrown(() => mintX509Svid(request()))
    expect([err.code, err.message]).toEqual([code, message])
  })

  it('X509-08, X509-10, INTEROP-04: a leaf without digitalSignature or with CA bits is never producible', () => {
    for (const type of KEY_TYPES) {
      const { root } = byType.get(type)!
      for (const leafType of [...KEY_TYPES, 'ed25519', 'ec-p521'] as const) {
        const key =
          leafType === 'ed25519'
            ? generateKeyPairSync('ed25519')
            : leafType === 'ec-p521'
              ? generateKeyPairSync('ec', { namedCurve: 'secp521r1' })
              : generateKeyPair(leafType)
        const cert = new x509.X509Certificate(mintX509Svid({ ca: root, spiffeId: id, publicKey: key.publicKey, ttlSeconds: 60, now: NOW }).certificateDer)
        const usages = ext(cert, x509.KeyUsagesExtension, '2.5.29.15').usages
        expect(usages & KU.digitalSignature).toBe(KU.digitalSignature)
        expect(usages & (KU.keyCertSign | KU.cRLSign)).toBe(0)
        expect(ext(cert, x509.BasicConstraintsExtension, '2.5.29.19').ca).toBe(false)
      }
    }
  })
})

describe('minted certificates in OpenSSL', () => {
  it.each(KEY_TYPES)('X509-20: %s leaf under a root passes openssl verify -x509_strict for TLS client and server', (type) => {
    const { root } = authorities(type)
    const minted = mintX509Svid({ ca: root, spiffeId: id, publicKey: generateKeyPair(type).publicKey, ttlSeconds: 600, dnsNames: ['web.example.org'] })
    for (const purpose of ['sslclient', 'sslserver']) {
      const result = opensslVerify([root.certificateDer], [], minted.certificateDer, ['-purpose', purpose])
      expect(result.ok, result.output).toBe(true)
      expect(result.output).toMatch(/leaf\.pem: OK$/)
    }
  })

  it.each(KEY_TYPES)('X509-16, X509-20: %s leaf under an intermediate passes openssl verify, and fails without the intermediate', (type) => {
    const { root, intermediate } = authorities(type)
    const minted = mintX509Svid({ ca: intermediate, spiffeId: id, publicKey: generateKeyPair(type).publicKey, ttlSeconds: 600 })
    const ok = opensslVerify([root.certificateDer], minted.chainDer.slice(1), minted.certificateDer, ['-purpose', 'sslclient'])
    expect(ok.ok, ok.output).toBe(true)
    expect(opensslVerify([root.certificateDer], [], minted.certificateDer).ok).toBe(false)
  })

  it('ID-14: openssl rejects a leaf whose SPIFFE ID was changed after signing', () => {
    const { root } = authorities('ec-p256')
    const minted = mintX509Svid({ ca: root, spiffeId: id, publicKey: generateKeyPair('ec-p256').publicKey, ttlSeconds: 600 })
    const tampered = Buffer.from(minted.certificateDer)
    tampered[tampered.indexOf('/sa/web') + 4] = 'x'.charCodeAt(0)
    const result = opensslVerify([root.certificateDer], [], tampered)
    expect(result.ok).toBe(false)
    expect(result.output).toMatch(/signature failure/)
  })
})

// Go's crypto/x509 is the parser of every go-spiffe workload and SPIRE peer.
const goAvailable = spawnSync('go', ['version']).status === 0

describe.skipIf(!goAvailable)('minted certificates in Go crypto/x509 (needs go on PATH)', () => {
  let dir: string
  let checker: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'steeple-go-x509-'))
    checker = join(dir, 'go-x509-check')
    const build = spawnSync('go', ['build', '-o', checker, 'main.go'], {
      cwd: fileURLToPath(new URL('./testdata/go-x509-check/', import.meta.url)),
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'off' },
    })
    expect(build.status, build.stderr).toBe(0)
  }, 180_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const goCheck = (rootsDer: readonly Uint8Array[], chainDer: readonly Uint8Array[]): { uris?: string[]; error?: string } => {
    writeFileSync(join(dir, 'roots.pem'), rootsDer.map((d) => toPem('CERTIFICATE', d)).join(''))
    writeFileSync(join(dir, 'chain.pem'), chainDer.map((d) => toPem('CERTIFICATE', d)).join(''))
    const run = spawnSync(checker, [join(dir, 'roots.pem'), join(dir, 'chain.pem')], { encoding: 'utf8' })
    return JSON.parse(run.stdout) as { uris?: string[]; error?: string }
  }

  it.each(KEY_TYPES)('INTEROP-10: %s leaves under a root and under an intermediate parse and verify in Go', (type) => {
    const { root, intermediate } = authorities(type)
    for (const ca of [root, intermediate]) {
      const minted = mintX509Svid({ ca, spiffeId: id, publicKey: generateKeyPair(type).publicKey, ttlSeconds: 600, dnsNames: ['web.example.org'] })
      expect(goCheck([root.certificateDer], minted.chainDer)).toEqual({ uris: ['spiffe://example.org/ns/prod/sa/web'] })
    }
  })

  it('INTEROP-10: Go and our parser both refuse a URI SAN with a trailing-dot trust domain', async () => {
    const caKeys = await testKeys('P-256')
    const leafKeys = await testKeys('P-256')
    const ca = await buildCert({ keys: caKeys, subject: 'O=CA', ca: true, keyUsage: KU.keyCertSign })
    const leaf = Buffer.from((await buildCert({ keys: leafKeys, issuer: { cert: ca, keys: caKeys }, ca: false, keyUsage: KU.digitalSignature, uris: ['spiffe://trustdomain./x'] })).rawData)
    expect(goCheck([Buffer.from(ca.rawData)], [leaf]).error).toBe('x509: cannot parse URI "spiffe://trustdomain./x": invalid domain')
    expect(() => parseX509Svid(leaf, leafKeys.privateKey.export({ type: 'pkcs8', format: 'der' }))).toThrow(
      'x509svid: cannot parse DER encoded certificate: cannot parse URI "spiffe://trustdomain./x": invalid domain',
    )
  })
})
