import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Bundle } from './bundle.js'
import { parseSpiffeId, parseTrustDomain } from './id.js'
import { createSelfSignedCa, mintX509Ca } from './x509-ca.js'
import type { X509Ca } from './x509-ca.js'
import type { X509Authority } from './x509-issuer.js'
import { KEY_TYPES, generateKeyPair } from './x509-keys.js'
import { mintX509Svid } from './x509-mint.js'
import { verifyX509Svid } from './x509-svid.js'
import { KU, opensslVerify, thrown, x509 } from './testdata/x509.js'

const td = parseTrustDomain('example.org')
const NOW = new Date('2026-03-01T12:00:00.000Z')

/** The CA profile every signing certificate we make must have. */
function expectCaProfile(der: Uint8Array, trustDomain = 'example.org'): x509.X509Certificate {
  const cert = new x509.X509Certificate(der)
  const bc = cert.getExtension(x509.BasicConstraintsExtension)!
  expect([bc.critical, bc.ca]).toEqual([true, true])
  const ku = cert.getExtension(x509.KeyUsagesExtension)!
  expect(ku.critical).toBe(true)
  expect(ku.usages).toBe(KU.keyCertSign | KU.cRLSign)
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!
  expect(san.names.items.map((n) => [n.type, n.value])).toEqual([['url', `spiffe://${trustDomain}`]])
  expect(cert.getExtension('2.5.29.37')).toBeNull()
  expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/)
  expect(cert.subject).not.toBe('')
  return cert
}

describe('createSelfSignedCa', () => {
  it.each(KEY_TYPES)('ID-13, X509-07, X509-13, X509-15, X509-19: %s root has the CA profile and signs itself', async (type) => {
    const key = generateKeyPair(type)
    const ca = createSelfSignedCa({ trustDomain: td, privateKey: key.privateKey, ttlSeconds: 86_400, now: NOW })
    const cert = expectCaProfile(ca.certificateDer)
    expect(await cert.isSelfSigned()).toBe(true)
    expect(cert.issuer).toBe(cert.subject)
    expect(cert.subjectName.toJSON()).toEqual([{ C: ['US'] }, { O: ['SPIFFE'] }, { '2.5.4.5': [ca.serial.toString()] }])
    expect(cert.notBefore.toISOString()).toBe('2026-03-01T11:59:50.000Z')
    expect(cert.notAfter.toISOString()).toBe('2026-03-02T12:00:00.000Z')
    expect([ca.notBefore, ca.notAfter]).toEqual([cert.notBefore, cert.notAfter])
    expect(BigInt('0x' + cert.serialNumber)).toBe(ca.serial)
    // A self-signed certificate may leave out the AKI; ours does.
    expect(cert.getExtension('2.5.29.35')).toBeNull()
    expect(ca.intermediatesDer).toEqual([])
    expect(ca.privateKey).toBe(key.privateKey)
  })

  it('X509-14: uses a given subject and pathLen', () => {
    const ca = createSelfSignedCa({
      trustDomain: td,
      privateKey: generateKeyPair('ec-p256').privateKey,
      ttlSeconds: 3600,
      subject: [{ type: 'O', value: 'Steeple' }, { type: 'CN', value: 'example.org CA' }],
      pathLen: 1,
    })
    const cert = expectCaProfile(ca.certificateDer)
    expect(cert.subject).toBe('O=Steeple, CN=example.org CA')
    expect(cert.getExtension(x509.BasicConstraintsExtension)!.pathLength).toBe(1)
  })

  it('gives each CA a distinct default subject, so rotated CAs never share an issuer name', () => {
    const make = (): X509Ca => createSelfSignedCa({ trustDomain: td, privateKey: generateKeyPair('ec-p256').privateKey, ttlSeconds: 3600 })
    expect(new x509.X509Certificate(make().certificateDer).subject).not.toBe(new x509.X509Certificate(make().certificateDer).subject)
  })

  it.each([
    ['a zero TTL', { ttlSeconds: 0 }, 'INVALID_MINT_REQUEST', 'x509mint: ttlSeconds must be a positive whole number of seconds, got 0'],
    ['an empty subject', { subject: [] }, 'INVALID_MINT_REQUEST', 'x509mint: CA subject must not be empty'],
    ['a negative pathLen', { pathLen: -1 }, 'INVALID_MINT_REQUEST', 'x509mint: pathLen must be a whole number from 0 to 255'],
    ['an Ed25519 key', { privateKey: generateKeyPairSync('ed25519').privateKey }, 'INVALID_MINT_REQUEST', 'x509mint: CA key type must be one of ec-p256, ec-p384, rsa-2048'],
    ['INTEROP-10: a trust domain with a trailing dot', { trustDomain: parseTrustDomain('example.org.') }, 'INVALID_TRUST_DOMAIN', 'spiffeid: trust domain labels must not be empty (no leading, trailing or repeated dots)'],
  ] as const)('refuses %s', (_name, change, code, message) => {
    const err = thrown(() => createSelfSignedCa({ trustDomain: td, privateKey: generateKeyPair('ec-p256').privateKey, ttlSeconds: 3600, ...change }))
    expect([err.code, err.message]).toEqual([code, message])
  })
})

describe('mintX509Ca', () => {
  it.each(KEY_TYPES)('X509-13, X509-16: %s intermediate under a root: CA profile, AKI = parent SKI, validity capped', (type) => {
    const root = createSelfSignedCa({ trustDomain: td, privateKey: generateKeyPair(type).privateKey, ttlSeconds: 3600, now: NOW })
    const key = generateKeyPair(type)
    const minted = mintX509Ca({ parent: root, trustDomain: td, publicKey: key.publicKey, ttlSeconds: 86_400, now: NOW })
    const cert = expectCaProfile(minted.certificateDer)
    const rootCert = new x509.X509Certificate(root.certificateDer)
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(rootCert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId)
    expect(cert.issuer).toBe(rootCert.subject)
    expect(minted.notAfter).toEqual(root.notAfter)
    expect(minted.intermediatesDer).toEqual([])
    const result = opensslVerify([root.certificateDer], [], minted.certificateDer, ['-attime', String(NOW.getTime() / 1000)])
    expect(result.ok, result.output).toBe(true)
  })

  it('X509-16: two intermediate levels; an SVID from the lower one verifies in OpenSSL and in verifyX509Svid', () => {
    const root = createSelfSignedCa({ trustDomain: td, privateKey: generateKeyPair('ec-p384').privateKey, ttlSeconds: 86_400 })
    const k1 = generateKeyPair('ec-p256')
    const upper: X509Authority = { ...mintX509Ca({ parent: root, trustDomain: td, publicKey: k1.publicKey, ttlSeconds: 43_200 }), privateKey: k1.privateKey }
    const k2 = generateKeyPair('rsa-2048')
    const lowerMinted = mintX509Ca({ parent: upper, trustDomain: td, publicKey: k2.publicKey, ttlSeconds: 3600 })
    expect(lowerMinted.intermediatesDer).toEqual([upper.certificateDer])
    const lower: X509Authority = { ...lowerMinted, privateKey: k2.privateKey }
    const leaf = mintX509Svid({ ca: lower, spiffeId: parseSpiffeId('spiffe://example.org/w'), publicKey: generateKeyPair('ec-p256').publicKey, ttlSeconds: 600 })
    expect(leaf.chainDer).toEqual([leaf.certificateDer, lower.certificateDer, upper.certificateDer])
    const result = opensslVerify([root.certificateDer], leaf.chainDer.slice(1), leaf.certificateDer)
    expect(result.ok, result.output).toBe(true)
    expect(verifyX509Svid(leaf.chainDer, new Bundle(td, { x509Authorities: [root.certificateDer] })).verifiedChains[0]).toHaveLength(4)
  })

  it('X509-16: an upstream CA of another trust domain may sign our CA', () => {
    const upstream = createSelfSignedCa({ trustDomain: parseTrustDomain('upstream.test'), privateKey: generateKeyPair('ec-p256').privateKey, ttlSeconds: 3600 })
    const minted = mintX509Ca({ parent: upstream, trustDomain: td, publicKey: generateKeyPair('ec-p256').publicKey, ttlSeconds: 600 })
    expectCaProfile(minted.certificateDer, 'example.org')
  })

  it('refuses a public key the CA could not sign with, and a parent that is not a CA', () => {
    const root = createSelfSignedCa({ trustDomain: td, privateKey: generateKeyPair('ec-p256').privateKey, ttlSeconds: 3600 })
    const ed = thrown(() => mintX509Ca({ parent: root, trustDomain: td, publicKey: generateKeyPairSync('ed25519').publicKey, ttlSeconds: 600 }))
    expect(ed.message).toBe('x509mint: CA key type must be one of ec-p256, ec-p384, rsa-2048')
    const leafKey = generateKeyPair('ec-p256')
    const leaf = mintX509Svid({ ca: root, spiffeId: parseSpiffeId('spiffe://example.org/w'), publicKey: leafKey.publicKey, ttlSeconds: 60 })
    const notCa = thrown(() => mintX509Ca({ parent: { certificateDer: leaf.certificateDer, privateKey: leafKey.privateKey }, trustDomain: td, publicKey: generateKeyPair('ec-p256').publicKey, ttlSeconds: 600 }))
    expect(notCa.message).toBe('x509mint: CA certificate must have CA flag set to true')
  })
})

describe('what our CA certificates leave out', () => {
  it('X509-17, X509-18: no URI name constraints and no extended key usage, on roots and intermediates', () => {
    const rootKey = generateKeyPair('ec-p256').privateKey
    const root = createSelfSignedCa({ trustDomain: td, privateKey: rootKey, ttlSeconds: 3600, now: NOW })
    const intermediate = mintX509Ca({
      parent: root,
      trustDomain: td,
      publicKey: generateKeyPair('ec-p256').publicKey,
      ttlSeconds: 600,
      now: NOW,
    })
    for (const der of [root.certificateDer, intermediate.certificateDer]) {
      const cert = new x509.X509Certificate(der)
      expect(cert.getExtension('2.5.29.30')).toBeNull() // nameConstraints
      expect(cert.getExtension('2.5.29.37')).toBeNull() // extKeyUsage
    }
  })
})
