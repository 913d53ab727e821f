import { readFileSync } from 'node:fs'
import type { KeyObject } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { Bundle, BundleSet } from './bundle.js'
import { parseSpiffeId, parseTrustDomain } from './id.js'
import { createSelfSignedCa, mintX509Ca } from './x509-ca.js'
import type { X509Authority } from './x509-issuer.js'
import { generateKeyPair } from './x509-keys.js'
import { mintX509Svid } from './x509-mint.js'
import { pemEncode as toPem } from './pem.js'
import { parseX509Svid, parseX509SvidPem, spiffeIdFromCertificate, verifyX509Svid } from './x509-svid.js'
import { OPENSSL_TEXT, withKeyOffCurve } from './testdata/damaged-bundles.js'
import { KU, buildCert, der, goErrorAsOurs, testKeys, thrown, x509 } from './testdata/x509.js'
import type { TestKeys } from './testdata/x509.js'

interface VectorCase {
  id: string
  recipe: string
  expect: string
  go_spiffe_error?: string
}
const vectors = JSON.parse(
  readFileSync(new URL('../test/data/vectors/x509-svid-validation.json', import.meta.url), 'utf8'),
) as { parse: VectorCase[]; verify: VectorCase[] }

const td1 = parseTrustDomain('domain1.test')
const td2 = parseTrustDomain('domain2.test')

function pkcs8(key: KeyObject): Buffer {
  return key.export({ type: 'pkcs8', format: 'der' })
}

// ---------------------------------------------------------------------------------------------
// parse: go-spiffe x509svid.ParseRaw

interface ParseInput {
  chain: Uint8Array | Uint8Array[]
  key: Uint8Array
  expectedId?: string
}

describe('parseX509Svid (vectors parse cases)', () => {
  let caKeys: TestKeys
  let ca: x509.X509Certificate
  let leafKeys: TestKeys
  let otherKeys: TestKeys
  const recipes = new Map<string, () => Promise<ParseInput[]>>()

  beforeAll(async () => {
    caKeys = await testKeys('P-256')
    leafKeys = await testKeys('P-256')
    otherKeys = await testKeys('P-256')
    ca = await buildCert({ keys: caKeys, subject: 'O=CA1', ca: true, keyUsage: KU.keyCertSign | KU.cRLSign, uris: ['spiffe://domain1.test'] })
  })

  /** A leaf under `ca` for `leafKeys`, changed by `change`. */
  const leaf = async (change: Partial<Parameters<typeof buildCert>[0]> = {}): Promise<Buffer> =>
    der(await buildCert({ keys: leafKeys, issuer: { cert: ca, keys: caKeys }, ca: false, keyUsage: KU.digitalSignature, uris: ['spiffe://domain1.test/workload'], ...change }))
  const one = async (change: Partial<Parameters<typeof buildCert>[0]> = {}): Promise<ParseInput[]> => [
    { chain: await leaf(change), key: pkcs8(leafKeys.privateKey) },
  ]

  recipes.set('p-ok-single', async () => {
    // Every key type go-spiffe accepts for a leaf, minted by us under CAs of each of our key types.
    const out: ParseInput[] = []
    for (const caType of ['ec-p256', 'ec-p384', 'rsa-2048'] as const) {
      const caKey = generateKeyPair(caType).privateKey
      const authority = createSelfSignedCa({ trustDomain: td1, privateKey: caKey, ttlSeconds: 3600 })
      for (const leafKey of [
        generateKeyPair('ec-p256'),
        generateKeyPair('ec-p384'),
        generateKeyPair('rsa-2048'),
        (await import('node:crypto')).generateKeyPairSync('ec', { namedCurve: 'secp521r1' }),
        (await import('node:crypto')).generateKeyPairSync('ed25519'),
      ]) {
        const minted = mintX509Svid({ ca: authority, spiffeId: parseSpiffeId('spiffe://domain1.test/workload'), publicKey: leafKey.publicKey, ttlSeconds: 60 })
        out.push({ chain: Buffer.concat(minted.chainDer), key: pkcs8(leafKey.privateKey), expectedId: 'spiffe://domain1.test/workload' })
      }
    }
    return out
  })
  recipes.set('p-ok-chain', async () => {
    const root = createSelfSignedCa({ trustDomain: td1, privateKey: generateKeyPair('ec-p256').privateKey, ttlSeconds: 3600 })
    const interKey = generateKeyPair('ec-p256')
    const inter: X509Authority = { ...mintX509Ca({ parent: root, trustDomain: td1, publicKey: interKey.publicKey, ttlSeconds: 600 }), privateKey: interKey.privateKey }
    const leafKey = generateKeyPair('ec-p256')
    const minted = mintX509Svid({ ca: inter, spiffeId: parseSpiffeId('spiffe://domain1.test/workload'), publicKey: leafKey.publicKey, ttlSeconds: 60 })
    expect(minted.chainDer).toHaveLength(2)
    return [
      { chain: Buffer.concat(minted.chainDer), key: pkcs8(leafKey.privateKey), expectedId: 'spiffe://domain1.test/workload' },
      { chain: [...minted.chainDer], key: pkcs8(leafKey.privateKey), expectedId: 'spiffe://domain1.test/workload' },
    ]
  })
  recipes.set('p-no-certs', async () => [{ chain: new Uint8Array(0), key: pkcs8(leafKeys.privateKey) }, { chain: [], key: pkcs8(leafKeys.privateKey) }])
  recipes.set('p-no-key', async () => [{ chain: await leaf(), key: new Uint8Array(0) }])
  recipes.set('p-key-not-pkcs8', async () => {
    const rsa = generateKeyPair('rsa-2048')
    return [
      { chain: await leaf(), key: leafKeys.privateKey.export({ type: 'sec1', format: 'der' }) },
      { chain: await leaf(), key: rsa.privateKey.export({ type: 'pkcs1', format: 'der' }) },
    ]
  })
  recipes.set('p-pem-instead-of-der', async () => [{ chain: Buffer.from(toPem('CERTIFICATE', await leaf())), key: pkcs8(leafKeys.privateKey) }])
  recipes.set('p-key-mismatch', async () => [{ chain: await leaf(), key: pkcs8(otherKeys.privateKey) }])
  recipes.set('p-no-uri-san', async () => [...(await one({ uris: [], dnsNames: ['workload.domain1.test'] })), ...(await one({ uris: [] }))])
  recipes.set('p-two-uri-sans', () => one({ uris: ['spiffe://domain1.test/a', 'spiffe://domain1.test/b'] }))
  recipes.set('p-root-path', () => one({ uris: ['spiffe://domain1.test'] }))
  recipes.set('p-leaf-ca', () => one({ ca: true }))
  recipes.set('p-leaf-no-digitalsignature', async () => [...(await one({ keyUsage: KU.keyAgreement })), ...(await one({ keyUsage: undefined }))])
  recipes.set('p-leaf-certsign', () => one({ keyUsage: KU.digitalSignature | KU.keyCertSign }))
  recipes.set('p-leaf-crlsign', () => one({ keyUsage: KU.digitalSignature | KU.cRLSign }))
  recipes.set('p-intermediate-not-ca', async () => {
    const notCa = await buildCert({ keys: caKeys, subject: 'O=CA1', ca: false, keyUsage: KU.keyCertSign })
    return [{ chain: [await leaf(), der(notCa)], key: pkcs8(leafKeys.privateKey) }]
  })
  recipes.set('p-intermediate-no-certsign', async () => {
    const noSign = await buildCert({ keys: caKeys, subject: 'O=CA1', ca: true, keyUsage: KU.cRLSign })
    return [{ chain: [await leaf(), der(noSign)], key: pkcs8(leafKeys.privateKey) }]
  })
  recipes.set('p-trailing-dot-td', () => one({ uris: ['spiffe://trustdomain./x'] }))

  it('has a recipe for every parse vector', () => {
    expect([...recipes.keys()].sort()).toEqual(vectors.parse.map((v) => v.id).sort())
  })

  it.each(vectors.parse.map((v) => [v.id, v] as const))(
    'X509-02, X509-04, INTEROP-04: %s',
    async (_id, vector) => {
      const inputs = await recipes.get(vector.id)!()
      expect(inputs.length).toBeGreaterThan(0)
      for (const input of inputs) {
        if (vector.expect === 'accept') {
          const svid = parseX509Svid(input.chain, input.key, { hint: 'internal' })
          expect(svid.id.toString()).toBe(input.expectedId)
          expect(svid.hint).toBe('internal')
          expect(svid.certificatesDer()).toEqual(Buffer.concat(Array.isArray(input.chain) ? input.chain : [input.chain]))
          expect(svid.privateKey.equals(parseX509Svid(input.chain, svid.privateKeyDer()).privateKey)).toBe(true)
        } else {
          const err = thrown(() => parseX509Svid(input.chain, input.key))
          expect(err.code).toBe('INVALID_X509_SVID')
          expect(err.message).toContain(goErrorAsOurs(vector.go_spiffe_error!))
          expect(err.message).toMatch(/^x509svid: /)
        }
      }
    },
  )

  it('parses the PEM form and refuses PEM without a PKCS#8 key', async () => {
    const root = createSelfSignedCa({ trustDomain: td1, privateKey: generateKeyPair('ec-p256').privateKey, ttlSeconds: 3600 })
    const leafKey = generateKeyPair('ec-p256')
    const minted = mintX509Svid({ ca: root, spiffeId: parseSpiffeId('spiffe://domain1.test/web'), publicKey: leafKey.publicKey, ttlSeconds: 60 })
    const svid = parseX509SvidPem(toPem('CERTIFICATE', minted.certificateDer), leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)
    expect(svid.id.toString()).toBe('spiffe://domain1.test/web')
    expect(svid.expiresAt).toEqual(minted.notAfter)
    expect(parseX509SvidPem(svid.certificatesPem(), svid.privateKeyPem()).id.equals(svid.id)).toBe(true)
    const sec1 = leafKey.privateKey.export({ type: 'sec1', format: 'pem' }) as string
    expect(thrown(() => parseX509SvidPem(svid.certificatesPem(), sec1)).message).toBe('x509svid: no private key found')
    expect(thrown(() => parseX509SvidPem('', svid.privateKeyPem())).message).toBe('x509svid: certificate validation failed: no certificates found')
  })

  it('refuses truncated DER and trailing bytes after the last certificate', async () => {
    const cert = await leaf()
    for (const chain of [cert.subarray(0, cert.length - 1), Buffer.concat([cert, Buffer.of(0x30)])]) {
      expect(thrown(() => parseX509Svid(chain, pkcs8(leafKeys.privateKey))).message).toBe('x509svid: cannot parse DER encoded certificate')
    }
  })

  it('X509-01: spiffeIdFromCertificate reads the single URI SAN, root IDs included', async () => {
    expect(spiffeIdFromCertificate(der(ca)).toString()).toBe('spiffe://domain1.test')
    expect(spiffeIdFromCertificate(await leaf()).toString()).toBe('spiffe://domain1.test/workload')
    const plainCa = await buildCert({ keys: caKeys, subject: 'O=Plain', ca: true, keyUsage: KU.keyCertSign })
    const err = thrown(() => spiffeIdFromCertificate(der(plainCa)))
    expect([err.code, err.message]).toEqual(['INVALID_X509_SVID', 'x509svid: certificate contains no URI SAN'])
  })
})

// ---------------------------------------------------------------------------------------------
// verify: go-spiffe x509svid.Verify plus X509-SVID.md §5.2

interface VerifyInput {
  chain: Uint8Array[]
  bundles: Bundle | BundleSet
  now?: Date
}

describe('verifyX509Svid (vectors verify cases)', () => {
  let ca1Keys: TestKeys
  let ca2Keys: TestKeys
  let leafKeys: TestKeys
  let ca1: x509.X509Certificate
  let ca2: x509.X509Certificate
  let set1: BundleSet

  beforeAll(async () => {
    ca1Keys = await testKeys('P-256')
    ca2Keys = await testKeys('P-384')
    leafKeys = await testKeys('P-256')
    ca1 = await buildCert({ keys: ca1Keys, subject: 'O=CA1', ca: true, keyUsage: KU.keyCertSign | KU.cRLSign, uris: ['spiffe://domain1.test'] })
    ca2 = await buildCert({ keys: ca2Keys, subject: 'O=CA2', ca: true, keyUsage: KU.keyCertSign | KU.cRLSign, uris: ['spiffe://domain2.test'] })
    set1 = new BundleSet([new Bundle(td1, { x509Authorities: [der(ca1)] }), new Bundle(td2, { x509Authorities: [der(ca2)] })])
  })

  const failure = (chain: Uint8Array | Uint8Array[], bundles: Bundle | BundleSet): string => thrown(() => verifyX509Svid(chain, bundles)).message
  const leaf = async (change: Partial<Parameters<typeof buildCert>[0]> = {}): Promise<Buffer> =>
    der(await buildCert({ keys: leafKeys, issuer: { cert: ca1, keys: ca1Keys }, ca: false, keyUsage: KU.digitalSignature, uris: ['spiffe://domain1.test/workload'], ...change }))

  const recipes: Record<string, () => Promise<VerifyInput>> = {
    'v-success': async () => ({ chain: [await leaf()], bundles: set1 }),
    'v-empty-chain': async () => ({ chain: [], bundles: set1 }),
    'v-no-bundle-for-td': async () => ({ chain: [await leaf()], bundles: new BundleSet([new Bundle(td2, { x509Authorities: [der(ca2)] })]) }),
    'v-empty-bundle': async () => ({ chain: [await leaf()], bundles: new BundleSet([new Bundle(td1)]) }),
    'v-wrong-roots': async () => ({ chain: [await leaf()], bundles: new Bundle(td1, { x509Authorities: [der(ca2)] }) }),
    'v-bad-scheme': async () => ({ chain: [await leaf({ uris: ['sparfe://domain1.test/workload'] })], bundles: set1 }),
    'v-no-uri-san': async () => ({ chain: [await leaf({ uris: [], dnsNames: ['workload.domain1.test'] })], bundles: set1 }),
    'v-two-uri-sans': async () => ({ chain: [await leaf({ uris: ['spiffe://domain1.test/workload', 'spiffe://domain1.test/workload'] })], bundles: set1 }),
    'v-leaf-ca': async () => ({ chain: [await leaf({ ca: true, keyUsage: KU.digitalSignature })], bundles: set1 }),
    'v-leaf-certsign': async () => ({ chain: [await leaf({ keyUsage: KU.digitalSignature | KU.keyCertSign })], bundles: set1 }),
    'v-leaf-crlsign': async () => ({ chain: [await leaf({ keyUsage: KU.digitalSignature | KU.cRLSign })], bundles: set1 }),
    'v-expired': async () => {
      const notAfter = new Date(Math.floor(Date.now() / 1000) * 1000 + 600_000)
      return { chain: [await leaf({ notAfter })], bundles: set1, now: new Date(notAfter.getTime() + 1000) }
    },
    'v-root-path': async () => ({ chain: [await leaf({ uris: ['spiffe://domain1.test'] })], bundles: set1 }),
    'v-not-yet-valid': async () => {
      const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 30_000)
      return { chain: [await leaf({ notBefore })], bundles: set1, now: new Date(notBefore.getTime() - 1000) }
    },
  }
  const ourMessages: Record<string, string> = {
    'v-root-path': 'x509svid: leaf certificate SPIFFE ID must have a non-root path',
    'v-not-yet-valid': 'x509svid: could not verify leaf certificate: certificate is not yet valid',
  }

  it('has a recipe for every verify vector', () => {
    expect(Object.keys(recipes).sort()).toEqual(vectors.verify.map((v) => v.id).sort())
  })

  it.each(vectors.verify.map((v) => [v.id, v] as const))('X509-20, X509-21: %s', async (_id, vector) => {
    const input = await recipes[vector.id]!()
    const run = (): ReturnType<typeof verifyX509Svid> => verifyX509Svid(input.chain, input.bundles, input.now === undefined ? {} : { now: input.now })
    if (vector.expect === 'accept') {
      const verified = run()
      expect(verified.id.toString()).toBe('spiffe://domain1.test/workload')
      expect(verified.verifiedChains).toEqual([[input.chain[0], der(ca1)]])
      return
    }
    const err = thrown(run)
    expect(err.code).toBe(vector.id === 'v-no-bundle-for-td' ? 'BUNDLE_NOT_FOUND' : 'X509_SVID_VERIFICATION_FAILED')
    if (vector.go_spiffe_error !== undefined) expect(err.message).toBe(goErrorAsOurs(vector.go_spiffe_error))
    else expect(err.message).toBe(ourMessages[vector.id])
  })

  it('X509-20: a concatenated DER chain verifies the same as a list', async () => {
    expect(verifyX509Svid(await leaf(), set1).id.toString()).toBe('spiffe://domain1.test/workload')
  })

  it('X509-20: the leaf is checked only against its own trust domain bundle', async () => {
    const foreign = der(await buildCert({ keys: leafKeys, issuer: { cert: ca2, keys: ca2Keys }, ca: false, keyUsage: KU.digitalSignature, uris: ['spiffe://domain1.test/workload'] }))
    // CA2 is trusted, but only for domain2.test.
    expect(thrown(() => verifyX509Svid([foreign], set1)).message).toBe(
      'x509svid: could not verify leaf certificate: certificate signed by unknown authority',
    )
  })

  it('X509-16, X509-20: leaf → intermediate → root, with the intermediate presented', async () => {
    const interKeys = await testKeys('P-384')
    const inter = await buildCert({ keys: interKeys, issuer: { cert: ca1, keys: ca1Keys }, subject: 'O=Inter', ca: true, keyUsage: KU.keyCertSign, uris: ['spiffe://domain1.test'] })
    const leafDer = der(await buildCert({ keys: leafKeys, issuer: { cert: inter, keys: interKeys }, ca: false, keyUsage: KU.digitalSignature, uris: ['spiffe://domain1.test/w'] }))
    const verified = verifyX509Svid([leafDer, der(inter)], set1)
    expect(verified.verifiedChains).toEqual([[leafDer, der(inter), der(ca1)]])
    expect(thrown(() => verifyX509Svid([leafDer], set1)).message).toBe('x509svid: could not verify leaf certificate: certificate signed by unknown authority')
  })

  it('X509-20: RFC 5280 issuer checks: CA flag, keyCertSign, pathLen, validity, unknown critical extensions', async () => {
    const interKeys = await testKeys('P-256')
    const make = async (change: Partial<Parameters<typeof buildCert>[0]>, root = ca1, rootKeys = ca1Keys): Promise<Uint8Array[]> => {
      const inter = await buildCert({ keys: interKeys, issuer: { cert: root, keys: rootKeys }, subject: 'O=Inter', ca: true, keyUsage: KU.keyCertSign, ...change })
      const leafDer = der(await buildCert({ keys: leafKeys, issuer: { cert: inter, keys: interKeys }, ca: false, keyUsage: KU.digitalSignature, uris: ['spiffe://domain1.test/w'] }))
      return [leafDer, der(inter)]
    }
    const prefix = 'x509svid: could not verify leaf certificate: '
    const chainNotCa = await make({ ca: false })
    expect(thrown(() => verifyX509Svid(chainNotCa, set1)).message).toBe(`${prefix}signing certificate must have CA flag set to true`)
    expect(failure(await make({ keyUsage: KU.cRLSign }), set1)).toBe(`${prefix}signing certificate must have 'keyCertSign' set as key usage`)
    expect(failure(await make({ notAfter: new Date(Date.now() - 1000), notBefore: new Date(Date.now() - 60_000) }), set1)).toBe(`${prefix}certificate has expired`)
    const critical = new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([0x05, 0x00]))
    expect(failure(await make({ extraExtensions: [critical] }), set1)).toBe(`${prefix}certificate has an unhandled critical extension 1.3.6.1.4.1.99999.1`)
    // pathLen 0 on the root allows no intermediate below it.
    const strictRoot = await buildCert({ keys: ca1Keys, subject: 'O=CA1', ca: true, pathLen: 0, keyUsage: KU.keyCertSign, uris: ['spiffe://domain1.test'] })
    const strictBundle = new Bundle(td1, { x509Authorities: [der(strictRoot)] })
    expect(failure(await make({}, strictRoot, ca1Keys), strictBundle)).toBe(`${prefix}too many intermediates for path length constraint`)
    expect(verifyX509Svid(await make({ pathLen: 0 }), set1).id.toString()).toBe('spiffe://domain1.test/w')
  })

  it('X509-20: an expired root does not anchor a path', async () => {
    const old = await buildCert({ keys: ca1Keys, subject: 'O=CA1', ca: true, keyUsage: KU.keyCertSign, notBefore: new Date(Date.now() - 7_200_000), notAfter: new Date(Date.now() - 3_600_000) })
    expect(failure([await leaf()], new Bundle(td1, { x509Authorities: [der(old)] }))).toBe(
      'x509svid: could not verify leaf certificate: certificate has expired',
    )
  })

  it('X509-20: an unknown critical extension on the leaf fails', async () => {
    const critical = new x509.Extension('1.3.6.1.4.1.99999.2', true, new Uint8Array([0x05, 0x00]))
    expect(failure([await leaf({ extraExtensions: [critical] })], set1)).toBe(
      'x509svid: could not verify leaf certificate: certificate has an unhandled critical extension 1.3.6.1.4.1.99999.2',
    )
  })

  it('X509-20: a mesh of presented intermediates with one name and key is refused within a bounded effort', async () => {
    const meshKeys = await testKeys('P-256')
    const mesh: x509.X509Certificate[] = []
    const first = await buildCert({ keys: meshKeys, subject: 'O=Mesh', ca: true, keyUsage: KU.keyCertSign })
    for (let i = 0; i < 12; i++) mesh.push(await buildCert({ keys: meshKeys, issuer: { cert: first, keys: meshKeys }, subject: 'O=Mesh', ca: true, keyUsage: KU.keyCertSign }))
    const leafDer = der(await buildCert({ keys: leafKeys, issuer: { cert: first, keys: meshKeys }, ca: false, keyUsage: KU.digitalSignature, uris: ['spiffe://domain1.test/w'] }))
    expect(failure([leafDer, ...mesh.map(der)], set1)).toMatch(/^x509svid: could not verify leaf certificate: too many (signature checks to build a chain|candidate paths)$/)
  })

  it('ID-14: a byte flipped inside the signed SPIFFE ID fails verification', async () => {
    const root = createSelfSignedCa({ trustDomain: td1, privateKey: generateKeyPair('ec-p256').privateKey, ttlSeconds: 3600 })
    const minted = mintX509Svid({ ca: root, spiffeId: parseSpiffeId('spiffe://domain1.test/payments'), publicKey: generateKeyPair('ec-p256').publicKey, ttlSeconds: 60 })
    const bundle = new Bundle(td1, { x509Authorities: [root.certificateDer] })
    expect(verifyX509Svid([minted.certificateDer], bundle).id.toString()).toBe('spiffe://domain1.test/payments')
    const tampered = Buffer.from(minted.certificateDer)
    const at = tampered.indexOf('payments')
    tampered[at] = 'q'.charCodeAt(0)
    expect(spiffeIdFromCertificate(tampered).toString()).toBe('spiffe://domain1.test/qayments')
    expect(thrown(() => verifyX509Svid([tampered], bundle)).message).toBe('x509svid: could not verify leaf certificate: certificate signed by unknown authority')
  })
})

// ---------------------------------------------------------------------------------------------
// certificates whose public key OpenSSL cannot load

describe('a certificate key off its curve', () => {
  const root = createSelfSignedCa({ trustDomain: td1, privateKey: generateKeyPair('ec-p256').privateKey, ttlSeconds: 3600 })
  const leafKey = generateKeyPair('ec-p256')
  const minted = mintX509Svid({ ca: root, spiffeId: parseSpiffeId('spiffe://domain1.test/web'), publicKey: leafKey.publicKey, ttlSeconds: 60 })

  it('in the SVID: cannot parse, with OpenSSL\'s text only as the cause', () => {
    const err = thrown(() => parseX509Svid(withKeyOffCurve(minted.certificateDer), pkcs8(leafKey.privateKey)))
    expect([err.code, err.message]).toEqual(['INVALID_X509_SVID', 'x509svid: cannot parse DER encoded certificate'])
    expect(String((err.cause as Error).cause)).toMatch(OPENSSL_TEXT)
  })

  it('in the bundle: the authority cannot anchor a chain, and the error is ours', () => {
    const bundle = new Bundle(td1, { x509Authorities: [withKeyOffCurve(root.certificateDer)] })
    const err = thrown(() => verifyX509Svid([minted.certificateDer], bundle))
    expect([err.code, err.message]).toEqual(['X509_SVID_VERIFICATION_FAILED', 'x509svid: could not verify leaf certificate: certificate signed by unknown authority'])
  })
})
