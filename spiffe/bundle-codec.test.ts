import { generateKeyPairSync, KeyObject, webcrypto, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as x509 from '@peculiar/x509'
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT } from 'jose'
import type { JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { Bundle } from './bundle.js'
import type { JwtAuthority } from './bundle.js'
import {
  encodeBundleMap,
  encodeJwtBundleJwks,
  encodeSpiffeBundle,
  parseBundleMap,
  parseJwtBundleJwks,
  parseSpiffeBundle,
} from './bundle-codec.js'
import { SpiffeError } from './errors.js'
import { parseTrustDomain } from './id.js'
import { OPENSSL_TEXT, damagedSpiffeBundles } from './testdata/damaged-bundles.js'

// --- vectors ---------------------------------------------------------------------------------

interface GoSpiffeDocResult {
  ok: boolean
  error?: string
  x509_authorities?: number
  jwt_authorities?: number
  refresh_hint_seconds?: number | null
  sequence_number?: number | null
}
interface SpecDocResult {
  valid?: boolean
  x509_cas?: number
  jwt_keys?: number | string[]
  spiffe_refresh_hint?: number
  spiffe_sequence?: number
}
interface BundleDocument {
  name: string
  document: Record<string, unknown>
  go_spiffe_spiffebundle_parse: GoSpiffeDocResult
  spec_consumer_result: SpecDocResult
}
interface JwksDocument {
  name: string
  document: Record<string, unknown>
  go_spiffe_jwtbundle_parse: { ok: boolean; error?: string; jwt_authorities?: number }
}
interface SyntheticCase {
  name: string
  go_spiffe: { ok: boolean; error?: string; error_contains?: string }
  spec: { valid?: boolean; result?: string; note?: string }
  document_template: Record<string, unknown>
}
interface BundleVectors {
  spiffe_bundle_documents: BundleDocument[]
  workload_api_jwks_documents: JwksDocument[]
  synthetic_cases: SyntheticCase[]
  bundle_map_example: { document: Record<string, unknown> }
}

const vectors = JSON.parse(
  readFileSync(new URL('../test/data/vectors/bundles.json', import.meta.url), 'utf8'),
) as BundleVectors

// --- fixtures ---------------------------------------------------------------------------------

x509.cryptoProvider.set(webcrypto)

type KeyKind = 'P-256' | 'P-384' | 'P-521' | 'RSA'

const WEBCRYPTO_PARAMS: Record<KeyKind, { generate: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams; sign: webcrypto.Algorithm | webcrypto.EcdsaParams }> = {
  'P-256': { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams },
  'P-384': { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } as webcrypto.EcdsaParams },
  'P-521': { generate: { name: 'ECDSA', namedCurve: 'P-521' }, sign: { name: 'ECDSA', hash: 'SHA-512' } as webcrypto.EcdsaParams },
  RSA: {
    generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  },
}

interface TestCa {
  der: Uint8Array
  publicKey: KeyObject
}

/** A self-signed certificate with URI SAN spiffe://<td>; a CA unless `ca` is false. */
async function makeCa(td: string, kind: KeyKind, ca = true): Promise<TestCa> {
  const params = WEBCRYPTO_PARAMS[kind]
  const keys = (await webcrypto.subtle.generateKey(params.generate, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `O=SPIFFE, CN=${td}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    keys,
    signingAlgorithm: params.sign,
    extensions: [
      new x509.BasicConstraintsExtension(ca, undefined, true),
      new x509.KeyUsagesExtension(
        ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: ca ? `spiffe://${td}` : `spiffe://${td}/workload` }]),
    ],
  })
  return { der: new Uint8Array(cert.rawData), publicKey: KeyObject.from(keys.publicKey) }
}

interface TestJwtKey {
  authority: JwtAuthority
  privateKey: KeyObject
  alg: string
}

function makeJwtKey(kid: string, kind: KeyKind): TestJwtKey {
  const pair =
    kind === 'RSA'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: kind })
  const alg = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', RSA: 'RS256' }[kind]
  return { authority: { kid, publicKey: pair.publicKey }, privateKey: pair.privateKey, alg }
}

function publicJwk(key: KeyObject): Record<string, string> {
  return key.export({ format: 'jwk' }) as Record<string, string>
}

const b64 = (der: Uint8Array): string => Buffer.from(der).toString('base64')
const td = parseTrustDomain('example.org')
const local = parseTrustDomain('local')

/** The P-384 CA inside go-spiffe's fixtures (expired in 2023: parsing only). */
const fixtureX509Key = vectors.spiffe_bundle_documents[0]!.document.keys as Record<string, unknown>[]
const FIXTURE_CA_JWK = fixtureX509Key[0] as { crv: string; x: string; y: string; x5c: string[] }
const FIXTURE_CA_MEMBERS = { crv: FIXTURE_CA_JWK.crv, x: FIXTURE_CA_JWK.x, y: FIXTURE_CA_JWK.y }

function errorOf(fn: () => unknown): SpiffeError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(SpiffeError)
    return err as SpiffeError
  }
  throw new Error('expected a SpiffeError, nothing was thrown')
}

function expectInvalid(fn: () => unknown, message: RegExp): void {
  const err = errorOf(fn)
  expect(err.code).toBe('INVALID_BUNDLE')
  expect(err.message).toMatch(message)
}

function parseDoc(doc: unknown): Bundle {
  return parseSpiffeBundle(td, JSON.stringify(doc))
}

let caP256: TestCa
let caRsa: TestCa
let leafCert: TestCa
let jwtP256: TestJwtKey
let jwtP384: TestJwtKey
let jwtRsa: TestJwtKey
/** A P-256 public key whose x coordinate starts with a zero byte. */
let leadingZeroKey: Record<string, string>

beforeAll(async () => {
  ;[caP256, caRsa, leafCert] = await Promise.all([
    makeCa('example.org', 'P-256'),
    makeCa('example.org', 'RSA'),
    makeCa('example.org', 'P-256', false),
  ])
  jwtP256 = makeJwtKey('jwt-p256', 'P-256')
  jwtP384 = makeJwtKey('jwt-p384', 'P-384')
  jwtRsa = makeJwtKey('jwt-rsa', 'RSA')
  for (;;) {
    const jwk = publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)
    if (Buffer.from(jwk.x!, 'base64url')[0] === 0) {
      leadingZeroKey = jwk
      break
    }
  }
})

// --- go-spiffe test fixtures ------------------------------------------------------------------

/**
 * Per document: which side of the vector Steeple follows and why. The vector file's rule: a
 * consumer follows the spec (ignores what it cannot use) unless noted; where the spec is silent we
 * do what go-spiffe does, so a bundle is never good for Steeple yet broken for go-spiffe workloads.
 */
const DOCUMENT_POLICY: Record<string, { ids: string; follow: 'go_spiffe' | 'spec'; error?: RegExp }> = {
  spiffebundle_valid_1: { ids: 'BUN-01, X509-24, JWT-15', follow: 'spec' },
  spiffebundle_valid_2: { ids: 'BUN-01, BUN-09, BUN-10', follow: 'spec' },
  // JWT-SVID.md §6.1 binds publishers only; the spec has no consumer rule for a missing kid, and
  // go-spiffe rejects the whole bundle, so we do too (a key without kid cannot select a token anyway).
  spiffebundle_missing_kid: { ids: 'JWT-14', follow: 'go_spiffe', error: /^spiffebundle: keys\[1\]\.kid: must be a non-empty string on a JWT key$/ },
  // go-spiffe rejects the bundle; X509-SVID.md §6.2 says all but the first x5c value MUST be ignored.
  spiffebundle_multiple_x509: { ids: 'X509-24', follow: 'spec' },
  spiffebundle_no_keys: { ids: 'BUN-02', follow: 'spec', error: /^spiffebundle: keys: must be present$/ },
}

describe('parseSpiffeBundle: go-spiffe fixtures', () => {
  const cases = vectors.spiffe_bundle_documents.map((doc) => {
    const policy = DOCUMENT_POLICY[doc.name]
    return [`${policy?.ids ?? 'UNLISTED'}: ${doc.name} (Steeple follows ${policy?.follow ?? '?'})`, doc] as const
  })

  it.each(cases)('%s', (_title, doc) => {
    const policy = DOCUMENT_POLICY[doc.name]
    if (policy === undefined) throw new Error(`no Steeple policy for vector ${doc.name}`)
    const go = doc.go_spiffe_spiffebundle_parse
    const spec = doc.spec_consumer_result
    const expectOk = policy.follow === 'go_spiffe' ? go.ok : spec.valid !== false
    if (!expectOk) {
      expectInvalid(() => parseSpiffeBundle(local, JSON.stringify(doc.document)), policy.error!)
      return
    }
    const bundle = parseSpiffeBundle(local, JSON.stringify(doc.document))
    expect(bundle.trustDomain.name).toBe('local')
    expect(bundle.x509Authorities).toHaveLength(policy.follow === 'spec' ? spec.x509_cas! : go.x509_authorities!)
    const jwtKeys = spec.jwt_keys!
    if (policy.follow === 'spec' && Array.isArray(jwtKeys)) {
      expect([...bundle.jwtAuthorities.keys()]).toEqual(jwtKeys)
    } else {
      expect(bundle.jwtAuthorities.size).toBe(policy.follow === 'spec' ? jwtKeys : go.jwt_authorities)
    }
    const sequence = policy.follow === 'spec' ? spec.spiffe_sequence : go.sequence_number
    const hint = policy.follow === 'spec' ? spec.spiffe_refresh_hint : go.refresh_hint_seconds
    expect(bundle.sequenceNumber).toBe(sequence == null ? undefined : BigInt(sequence))
    expect(bundle.refreshHintSeconds).toBe(hint ?? undefined)
  })

  it('X509-24: only x5c[0] is used; it is the CA certificate of the fixture', () => {
    const doc = vectors.spiffe_bundle_documents.find((d) => d.name === 'spiffebundle_multiple_x509')!
    const bundle = parseSpiffeBundle(local, JSON.stringify(doc.document))
    const cert = new X509Certificate(bundle.x509Authorities[0]!)
    expect(cert.ca).toBe(true)
    expect(cert.subjectAltName).toBe('URI:spiffe://local')
  })
})

describe('parseJwtBundleJwks: go-spiffe fixtures', () => {
  const error: Record<string, RegExp> = {
    jwks_missing_kid: /^jwtbundle: keys\[1\]\.kid: must be a non-empty string on a JWT key$/,
  }
  it.each(vectors.workload_api_jwks_documents.map((doc) => [doc.name, doc] as const))(
    'WJ-07: %s (as go-spiffe jwtbundle.Parse)',
    (_name, doc) => {
      const go = doc.go_spiffe_jwtbundle_parse
      if (!go.ok) {
        expectInvalid(() => parseJwtBundleJwks(local, JSON.stringify(doc.document)), error[doc.name]!)
        return
      }
      const bundle = parseJwtBundleJwks(local, JSON.stringify(doc.document))
      expect(bundle.jwtAuthorities.size).toBe(go.jwt_authorities)
      expect(bundle.x509Authorities).toHaveLength(0)
    },
  )
})

// --- synthetic cases --------------------------------------------------------------------------

interface SyntheticPolicy {
  ids: string
  follow: 'go_spiffe' | 'spec'
  parser: 'spiffe' | 'jwks'
  build: () => unknown
  /** When accepted: how many X.509 and JWT authorities remain. */
  counts?: [number, number]
  /** When rejected: our message. */
  error?: RegExp
}

function ecMembers(jwk: Record<string, string>): { crv: string; x: string; y: string } {
  return { crv: jwk.crv!, x: jwk.x!, y: jwk.y! }
}

/**
 * Every synthetic case of the vector file, filled with real key material. `follow` names the field
 * of the case whose verdict Steeple takes (see DOCUMENT_POLICY for the rule).
 */
const SYNTHETIC_POLICY: Record<string, SyntheticPolicy> = {
  'empty keys array': {
    ids: 'BUN-02, BUN-03',
    follow: 'spec',
    parser: 'spiffe',
    build: () => ({ keys: [] }),
    counts: [0, 0],
  },
  'keys null': {
    ids: 'BUN-02',
    follow: 'spec',
    parser: 'spiffe',
    build: () => ({ keys: null }),
    error: /^spiffebundle: keys: must be present$/,
  },
  'unknown use is skipped': {
    ids: 'BUN-04',
    follow: 'spec',
    parser: 'spiffe',
    build: () => ({ keys: [{ kty: 'EC', use: 'something-else', ...ecMembers(publicJwk(jwtP256.authority.publicKey)) }] }),
    counts: [0, 0],
  },
  'missing use is skipped': {
    ids: 'BUN-04',
    follow: 'spec',
    parser: 'spiffe',
    build: () => ({ keys: [{ kty: 'EC', ...ecMembers(publicJwk(jwtP256.authority.publicKey)) }] }),
    counts: [0, 0],
  },
  // go-jose fails the whole set on an unknown kty; §4.2.1 says the JWK MUST be ignored.
  'unknown kty': {
    ids: 'BUN-04',
    follow: 'spec',
    parser: 'spiffe',
    build: () => ({ keys: [{ kty: 'XYZ', use: 'jwt-svid', kid: 'k1' }] }),
    counts: [0, 0],
  },
  'missing kty': {
    ids: 'BUN-05',
    follow: 'spec',
    parser: 'spiffe',
    build: () => ({ keys: [{ use: 'jwt-svid', kid: 'k1' }] }),
    error: /^spiffebundle: keys\[0\]\.kty: must be present$/,
  },
  // go-spiffe rejects the bundle; X509-SVID.md §6.2 says such an entry MUST be ignored.
  'x509-svid entry without x5c': {
    ids: 'X509-24',
    follow: 'spec',
    parser: 'spiffe',
    build: () => ({ keys: [{ kty: 'EC', use: 'x509-svid', ...ecMembers(publicJwk(caP256.publicKey)) }] }),
    counts: [0, 0],
  },
  'x509-svid entry whose key members do not match x5c[0]': {
    ids: 'INTEROP-07',
    follow: 'go_spiffe',
    parser: 'spiffe',
    build: () => ({
      keys: [{ kty: 'EC', use: 'x509-svid', ...ecMembers(publicJwk(jwtP256.authority.publicKey)), x5c: [b64(caP256.der)] }],
    }),
    error: /^spiffebundle: keys\[0\]\.x5c\[0\]: certificate public key must be the key the JWK members describe$/,
  },
  'x509-svid entry with only kty/use/x5c (no key members)': {
    ids: 'INTEROP-07',
    follow: 'go_spiffe',
    parser: 'spiffe',
    build: () => ({ keys: [{ kty: 'EC', use: 'x509-svid', x5c: [b64(caP256.der)] }] }),
    error: /^spiffebundle: keys\[0\]\.crv: must be present in an EC key$/,
  },
  'x5c encoded as base64url': {
    ids: 'X509-23',
    follow: 'go_spiffe',
    parser: 'spiffe',
    build: () => {
      const der = Buffer.from(FIXTURE_CA_JWK.x5c[0]!, 'base64')
      // The fixture's base64 has both '+' and '/', so its base64url form really differs.
      expect(FIXTURE_CA_JWK.x5c[0]).toMatch(/\+.*\/|\/.*\+/)
      return { keys: [{ kty: 'EC', use: 'x509-svid', ...FIXTURE_CA_MEMBERS, x5c: [der.toString('base64url')] }] }
    },
    error: /^spiffebundle: keys\[0\]\.x5c\[0\]: must be a padded standard base64 DER X\.509 certificate/,
  },
  'EC coordinate without leading zero bytes': {
    ids: 'INTEROP-06',
    follow: 'go_spiffe',
    parser: 'spiffe',
    build: () => ({
      keys: [{
        kty: 'EC',
        use: 'jwt-svid',
        kid: 'k1',
        crv: 'P-256',
        x: Buffer.from(leadingZeroKey.x!, 'base64url').subarray(1).toString('base64url'),
        y: leadingZeroKey.y,
      }],
    }),
    error: /^spiffebundle: keys\[0\]\.x: must be 32 bytes long for P-256$/,
  },
  'spiffe_sequence as string': {
    ids: 'BUN-09',
    follow: 'spec',
    parser: 'spiffe',
    build: () => ({ keys: [], spiffe_sequence: '1' }),
    error: /^spiffebundle: spiffe_sequence: must be an unsigned 64-bit integer$/,
  },
  'spiffe_refresh_hint as float': {
    ids: 'BUN-10',
    follow: 'spec',
    parser: 'spiffe',
    build: () => ({ keys: [], spiffe_refresh_hint: 1.5 }),
    error: /^spiffebundle: spiffe_refresh_hint: must be a non-negative integer number of seconds$/,
  },
  'jwt-svid key with kid but no use inside Workload API JWKS': {
    ids: 'WJ-07',
    follow: 'go_spiffe',
    parser: 'jwks',
    build: () => ({ keys: [{ kty: 'EC', kid: 'k1', ...ecMembers(publicJwk(jwtP256.authority.publicKey)) }] }),
    counts: [0, 1],
  },
  'x509-svid key inside Workload API JWKS': {
    ids: 'WJ-08',
    follow: 'spec',
    parser: 'jwks',
    build: () => ({
      keys: [{ kty: 'EC', use: 'x509-svid', ...ecMembers(publicJwk(caP256.publicKey)), x5c: [b64(caP256.der)] }],
    }),
    // go-spiffe fails on the missing kid first; so do we, before looking at `use`.
    error: /^jwtbundle: keys\[0\]\.kid: must be a non-empty string on a JWT key$/,
  },
}

describe('synthetic bundle cases', () => {
  const cases = vectors.synthetic_cases.map((c) => {
    const policy = SYNTHETIC_POLICY[c.name]
    return [`${policy?.ids ?? 'UNLISTED'}: ${c.name} (Steeple follows ${policy?.follow ?? '?'})`, c] as const
  })

  it.each(cases)('%s', (_title, c) => {
    const policy = SYNTHETIC_POLICY[c.name]
    if (policy === undefined) throw new Error(`no Steeple policy for vector ${c.name}`)
    // A spec verdict without `valid` is given as a result ("JWK ignored"), which means accepted.
    const expectOk = policy.follow === 'go_spiffe' ? c.go_spiffe.ok : c.spec.valid ?? c.spec.result !== undefined
    const doc = JSON.stringify(policy.build())
    const parse = (): Bundle => (policy.parser === 'spiffe' ? parseSpiffeBundle(td, doc) : parseJwtBundleJwks(td, doc))
    if (!expectOk) {
      expectInvalid(parse, policy.error!)
      return
    }
    const bundle = parse()
    expect([bundle.x509Authorities.length, bundle.jwtAuthorities.size]).toEqual(policy.counts)
  })

  it('WJ-07, BUN-06: a key without use counts in a Workload API JWKS but is skipped in a SPIFFE bundle', () => {
    const doc = JSON.stringify(SYNTHETIC_POLICY['jwt-svid key with kid but no use inside Workload API JWKS']!.build())
    expect(parseJwtBundleJwks(td, doc).jwtAuthorities.size).toBe(1)
    expect(parseSpiffeBundle(td, doc).jwtAuthorities.size).toBe(0)
  })

  it('WJ-08: a Workload API JWKS key with a kid but another use is rejected', () => {
    const doc = { keys: [{ kty: 'EC', kid: 'ca', use: 'x509-svid', ...ecMembers(publicJwk(caP256.publicKey)) }] }
    expectInvalid(() => parseJwtBundleJwks(td, JSON.stringify(doc)), /^jwtbundle: keys\[0\]\.use: must be "jwt-svid" or "sig": a JWT bundle holds only JWT-SVID keys$/)
    const sig = { keys: [{ ...doc.keys[0], use: 'sig' }] }
    expect(parseJwtBundleJwks(td, JSON.stringify(sig)).findJwtAuthority('ca')).toBeDefined()
  })
})

// --- more reading rules -----------------------------------------------------------------------

describe('parseSpiffeBundle', () => {
  it('BUN-08: unknown top-level members are ignored', () => {
    const bundle = parseDoc({ keys: [], spiffe_sequence: 3, vendor_extension: { anything: [1, 2] } })
    expect(bundle.sequenceNumber).toBe(3n)
  })

  it('BUN-09: spiffe_sequence keeps every digit past 2^53 and up to 2^64-1', () => {
    expect(parseSpiffeBundle(td, '{"keys":[],"spiffe_sequence":9007199254740993}').sequenceNumber).toBe(9007199254740993n)
    expect(parseSpiffeBundle(td, '{"keys":[],"spiffe_sequence":18446744073709551615}').sequenceNumber).toBe(2n ** 64n - 1n)
    expect(parseSpiffeBundle(td, '{"keys":[],"spiffe_sequence":0}').sequenceNumber).toBe(0n)
  })

  it.each(['18446744073709551616', '-1', '1.0', '1e3', '-0', 'true', '[1]', '123456789012345678901234567890'])(
    'BUN-09: spiffe_sequence %s is rejected',
    (value) => {
      expectInvalid(
        () => parseSpiffeBundle(td, `{"keys":[],"spiffe_sequence":${value}}`),
        /^spiffebundle: spiffe_sequence: must be an unsigned 64-bit integer$/,
      )
    },
  )

  it.each(['-5', '60.0', '6e1', '"60"', '9007199254740992'])('BUN-10: spiffe_refresh_hint %s is rejected', (value) => {
    expectInvalid(
      () => parseSpiffeBundle(td, `{"keys":[],"spiffe_refresh_hint":${value}}`),
      /^spiffebundle: spiffe_refresh_hint: must be a non-negative integer number of seconds$/,
    )
  })

  it('BUN-09, BUN-10: null sequence and hint read as absent (as go-spiffe)', () => {
    const bundle = parseSpiffeBundle(td, '{"keys":[],"spiffe_sequence":null,"spiffe_refresh_hint":null}')
    expect(bundle.sequenceNumber).toBeUndefined()
    expect(bundle.refreshHintSeconds).toBeUndefined()
  })

  it('X509-24, JWT-15: x509-svid and jwt-svid keys go to their own sets; the X.509 set is the union of CAs', () => {
    const only509 = parseDoc({
      keys: [
        { use: 'x509-svid', ...publicJwk(caP256.publicKey), x5c: [b64(caP256.der)] },
        { use: 'x509-svid', ...publicJwk(caRsa.publicKey), x5c: [b64(caRsa.der)] },
      ],
    })
    expect(only509.x509Authorities.map((der) => Buffer.from(der))).toEqual([Buffer.from(caP256.der), Buffer.from(caRsa.der)])
    // No jwt-svid key: the trust domain does not do JWT-SVIDs; none may be trusted.
    expect(only509.jwtAuthorities.size).toBe(0)
    expect(only509.findJwtAuthority('anything')).toBeUndefined()
  })

  it('X509-24: the same CA listed twice is kept once', () => {
    const key = { use: 'x509-svid', ...publicJwk(caP256.publicKey), x5c: [b64(caP256.der)] }
    expect(parseDoc({ keys: [key, key] }).x509Authorities).toHaveLength(1)
  })

  it('X509-24: x5c values after the first are not even decoded', () => {
    const bundle = parseDoc({ keys: [{ use: 'x509-svid', ...publicJwk(caP256.publicKey), x5c: [b64(caP256.der), '%%%', 7] }] })
    expect(bundle.x509Authorities).toHaveLength(1)
  })

  it('BUN-04: wit-svid keys are skipped (Steeple has no WIT-SVIDs)', () => {
    const bundle = parseDoc({ keys: [{ use: 'wit-svid', kid: 'w', ...publicJwk(jwtP256.authority.publicKey) }] })
    expect(bundle.isEmpty).toBe(true)
  })

  it('BUN-04: use is case sensitive, so JWT-SVID is an unknown use and skipped', () => {
    const bundle = parseDoc({ keys: [{ use: 'JWT-SVID', kid: 'k', ...publicJwk(jwtP256.authority.publicKey) }] })
    expect(bundle.isEmpty).toBe(true)
  })

  const rejected: [string, () => unknown, RegExp][] = [
    ['a non-CA certificate in x5c', () => ({ keys: [{ use: 'x509-svid', ...publicJwk(leafCert.publicKey), x5c: [b64(leafCert.der)] }] }), /^spiffebundle: keys\[0\]\.x5c\[0\]: must be a CA certificate/],
    ['bytes after the certificate', () => ({ keys: [{ use: 'x509-svid', ...publicJwk(caP256.publicKey), x5c: [b64(Buffer.concat([caP256.der, Buffer.from([0])]))] }] }), /^spiffebundle: keys\[0\]\.x5c\[0\]: must be exactly one DER-encoded X\.509 certificate$/],
    ['x5c that is not DER', () => ({ keys: [{ use: 'x509-svid', ...publicJwk(caP256.publicKey), x5c: [b64(Buffer.from('hello'))] }] }), /^spiffebundle: keys\[0\]\.x5c\[0\]: must be exactly one DER-encoded X\.509 certificate$/],
    ['x5c without padding', () => {
      // The fixture certificate's base64 ends in padding (its length is not a multiple of 3).
      expect(FIXTURE_CA_JWK.x5c[0]).toMatch(/=$/)
      return { keys: [{ use: 'x509-svid', kty: 'EC', ...FIXTURE_CA_MEMBERS, x5c: [FIXTURE_CA_JWK.x5c[0]!.replace(/=+$/, '')] }] }
    }, /^spiffebundle: keys\[0\]\.x5c\[0\]: must be a padded standard base64 DER X\.509 certificate/],
    ['x5c that is not an array', () => ({ keys: [{ use: 'x509-svid', ...publicJwk(caP256.publicKey), x5c: b64(caP256.der) }] }), /^spiffebundle: keys\[0\]\.x5c: must be an array of base64 DER certificates$/],
    ['a duplicate kid', () => ({ keys: [{ use: 'jwt-svid', kid: 'a', ...publicJwk(jwtP256.authority.publicKey) }, { use: 'jwt-svid', kid: 'a', ...publicJwk(jwtP384.authority.publicKey) }] }), /^spiffebundle: keys\[1\]\.kid: must be unique in the bundle, "a" is repeated$/],
    ['an empty kid', () => ({ keys: [{ use: 'jwt-svid', kid: '', ...publicJwk(jwtP256.authority.publicKey) }] }), /^spiffebundle: keys\[0\]\.kid: must be a non-empty string on a JWT key$/],
    ['a private key', () => ({ keys: [{ use: 'jwt-svid', kid: 'a', ...(jwtP256.privateKey.export({ format: 'jwk' }) as object) }] }), /^spiffebundle: keys\[0\]\.d: must not be present: a public key holds no private key members$/],
    ['an unsupported curve', () => ({ keys: [{ use: 'jwt-svid', kid: 'a', ...publicJwk(jwtP256.authority.publicKey), crv: 'secp256k1' }] }), /^spiffebundle: keys\[0\]\.crv: must be "P-256", "P-384" or "P-521" for an EC key$/],
    ['a point off the curve', () => {
      const jwk = publicJwk(jwtP256.authority.publicKey)
      const y = Buffer.from(jwk.y!, 'base64url')
      y[31]! ^= 1
      return { keys: [{ use: 'jwt-svid', kid: 'a', ...jwk, y: y.toString('base64url') }] }
    }, /^spiffebundle: keys\[0\]: x and y must be a point on P-256$/],
    ['a coordinate with padding', () => ({ keys: [{ use: 'jwt-svid', kid: 'a', ...publicJwk(jwtP256.authority.publicKey), x: `${publicJwk(jwtP256.authority.publicKey).x}=` }] }), /^spiffebundle: keys\[0\]\.x: must be non-empty unpadded base64url$/],
    ['an RSA key without e', () => ({ keys: [{ use: 'jwt-svid', kid: 'a', kty: 'RSA', n: publicJwk(jwtRsa.authority.publicKey).n }] }), /^spiffebundle: keys\[0\]\.e: must be present in an RSA key$/],
    ['an OKP key on X25519', () => ({ keys: [{ use: 'jwt-svid', kid: 'a', kty: 'OKP', crv: 'X25519', x: Buffer.alloc(32, 9).toString('base64url') }] }), /^spiffebundle: keys\[0\]\.crv: must be "Ed25519" for an OKP key$/],
    ['a kid that is not a string', () => ({ keys: [{ use: 'jwt-svid', kid: 5, ...publicJwk(jwtP256.authority.publicKey) }] }), /^spiffebundle: keys\[0\]\.kid: must be a string$/],
    ['a JWK that is not an object', () => ({ keys: ['x'] }), /^spiffebundle: keys\[0\]: must be a JSON object$/],
    ['keys that is not an array', () => ({ keys: {} }), /^spiffebundle: keys: must be an array$/],
  ]
  it.each(rejected)('rejects %s', (_what, build, message) => {
    expectInvalid(() => parseDoc(build()), message)
  })

  it('accepts an Ed25519 JWT key (go-jose reads OKP too)', () => {
    const { publicKey } = generateKeyPairSync('ed25519')
    expect(parseDoc({ keys: [{ use: 'jwt-svid', kid: 'ed', ...publicJwk(publicKey) }] }).findJwtAuthority('ed')?.publicKey.equals(publicKey)).toBe(true)
  })

  it.each([
    ['{"keys":[],"keys":[]}', /^spiffebundle: invalid JSON: duplicate member name "keys"$/],
    ['{"keys":[{"kty":"EC","kty":"RSA"}]}', /^spiffebundle: invalid JSON: duplicate member name "kty"$/],
    ['{"keys":[]', /^spiffebundle: invalid JSON: expected ',' or '}'$/],
    ['{"keys":[]} x', /^spiffebundle: invalid JSON: unexpected data after the top-level value$/],
    ['{"keys":[01]}', /^spiffebundle: invalid JSON: expected ',' or ']'$/],
    ['{"keys":["\u0001"]}', /^spiffebundle: invalid JSON: control character in string$/],
    ['{"keys":["\\x"]}', /^spiffebundle: invalid JSON: invalid escape in string$/],
    ['{\'keys\':[]}', /^spiffebundle: invalid JSON: expected a member name$/],
    ['[]', /^spiffebundle: document must be a JSON object$/],
    ['', /^spiffebundle: invalid JSON: unexpected character$/],
    [`{"keys":[],"x":${'['.repeat(40)}${']'.repeat(40)}}`, /^spiffebundle: invalid JSON: nesting deeper than 32 levels$/],
  ])('rejects malformed JSON %j', (json, message) => {
    expectInvalid(() => parseSpiffeBundle(td, json), message)
  })

  // Valid and invalid JSON values, judged against JSON.parse (members here are ignored: BUN-08).
  const values = [
    '0', '-0', '1.5e-3', '1E+2', '-12.25', '01', '1.', '.5', '+1', '1e', '-', '--1', '0x10', 'NaN', 'Infinity',
    '"\\u00e9"', '"\\ud800"', '"\\u12"', '"\\u12g4"', '"a\tb"', '"\\\\"', '"\\/"', '"unterminated',
    'true', 'tru', 'nul', 'null', 'False', '[1,]', '[,1]', '[1 2]', '{"a":1,}', '{"a" 1}', '{1:2}', '{"a":1}',
    ' [ ] ', '\f[]', '\u00a0[]', '[]\n', '"\u2028"',
  ]
  it.each(values)('accepts the JSON value %j exactly when JSON.parse does', (value) => {
    let valid = true
    try {
      JSON.parse(value)
    } catch {
      valid = false
    }
    const json = `{"keys":[],"x":${value}}`
    if (valid) expect(parseSpiffeBundle(td, json).isEmpty).toBe(true)
    else expectInvalid(() => parseSpiffeBundle(td, json), /^spiffebundle: invalid JSON: /)
  })

  it('reads JSON escapes and whitespace like JSON.parse does', () => {
    const json = ' {\n\t"keys" : [ ] , "x\\u0041\\n\\"\\/" : [ 1.5e-3 , -0 , true , false , null , "\\ud83d\\ude00" ] }\r\n'
    expect(() => JSON.parse(json)).not.toThrow()
    expect(parseSpiffeBundle(td, json).isEmpty).toBe(true)
  })

  it('reads UTF-8 bytes and rejects invalid UTF-8', () => {
    expect(parseSpiffeBundle(td, new TextEncoder().encode('{"keys":[],"spiffe_sequence":7}')).sequenceNumber).toBe(7n)
    expectInvalid(() => parseSpiffeBundle(td, new Uint8Array([0x7b, 0xff, 0x7d])), /^spiffebundle: invalid JSON: document is not valid UTF-8$/)
  })

  it('BUN-11: the bundle belongs to the trust domain it was read for', () => {
    const other = parseTrustDomain('other.test')
    expect(parseSpiffeBundle(other, '{"keys":[]}').trustDomain.equals(other)).toBe(true)
  })
})

// --- damaged bundles ----------------------------------------------------------------------------

describe('damaged bundles: a typed error naming the member and the rule, never OpenSSL\'s text', () => {
  const damaged = damagedSpiffeBundles()

  it.each(damaged.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const err = errorOf(() => parseSpiffeBundle(td, c.json))
    expect(err.code).toBe('INVALID_BUNDLE')
    expect(err.message).toBe(`spiffebundle: ${c.member}: ${c.rule}`)
    expect(err.message).not.toMatch(OPENSSL_TEXT)
  })

  it('keeps what OpenSSL said about a certificate key off its curve as the cause only', () => {
    const c = damaged.find((d) => d.name === 'x5c[0] whose certificate key is off its curve')!
    const err = errorOf(() => parseSpiffeBundle(td, c.json))
    expect(err.message).toBe('spiffebundle: keys[2].x5c[0]: certificate must hold a well-formed public key')
    expect((err.cause as Error).message).toMatch(OPENSSL_TEXT)
  })

  it('names the trust domain and the member inside a bundle map', () => {
    const c = damaged.find((d) => d.name === 'x5c[0] that is not base64')!
    const map = `{"trust_domains":{"a.test":${c.json}}}`
    expectInvalid(() => parseBundleMap(map), /^bundlemap: trust domain "a\.test": keys\[2\]\.x5c\[0\]: must be a padded standard base64 DER X\.509 certificate/)
  })
})

// --- writing ----------------------------------------------------------------------------------

/** Members each published JWK may carry (BUN-07): RFC 7517 key members plus x5c or kid. */
const ALLOWED_MEMBERS: Record<string, Record<string, string[]>> = {
  'x509-svid': { EC: ['crv', 'kty', 'use', 'x', 'x5c', 'y'], RSA: ['e', 'kty', 'n', 'use', 'x5c'] },
  'jwt-svid': { EC: ['crv', 'kid', 'kty', 'use', 'x', 'y'], RSA: ['e', 'kid', 'kty', 'n', 'use'] },
}

describe('encodeSpiffeBundle', () => {
  let bundle: Bundle
  beforeAll(() => {
    bundle = new Bundle(td, {
      x509Authorities: [caP256.der, caRsa.der],
      jwtAuthorities: [jwtP256.authority, jwtP384.authority, jwtRsa.authority],
      sequenceNumber: 42n,
      refreshHintSeconds: 300,
    })
  })

  it('BUN-01, BUN-05, BUN-06, BUN-07, X509-22, JWT-14: every JWK has kty and use, x509-svid without kid, jwt-svid with kid, nothing extra', () => {
    const doc = JSON.parse(encodeSpiffeBundle(bundle)) as { keys: Record<string, unknown>[] }
    expect(doc.keys).toHaveLength(5)
    for (const key of doc.keys) {
      const use = key.use as string
      const kty = key.kty as string
      expect(Object.keys(key).sort()).toEqual(ALLOWED_MEMBERS[use]![kty])
    }
    expect(doc.keys.filter((k) => k.use === 'x509-svid').every((k) => !('kid' in k))).toBe(true)
    expect(doc.keys.filter((k) => k.use === 'jwt-svid').map((k) => k.kid)).toEqual(['jwt-p256', 'jwt-p384', 'jwt-rsa'])
  })

  it('X509-23: each x509-svid JWK has exactly one padded standard base64 x5c holding a self-signed CA', () => {
    const doc = JSON.parse(encodeSpiffeBundle(bundle)) as { keys: { use: string; x5c?: string[] }[] }
    const x5cs = doc.keys.filter((k) => k.use === 'x509-svid').map((k) => k.x5c!)
    expect(x5cs.map((x5c) => x5c.length)).toEqual([1, 1])
    for (const [value] of x5cs) {
      expect(value).toMatch(/^[A-Za-z0-9+/]+={0,2}$/)
      expect(value!.length % 4).toBe(0)
      const cert = new X509Certificate(Buffer.from(value!, 'base64'))
      expect(cert.ca).toBe(true)
      expect(cert.checkIssued(cert)).toBe(true)
      expect(cert.verify(cert.publicKey)).toBe(true)
    }
  })

  it('BUN-09, BUN-10: spiffe_sequence and spiffe_refresh_hint are integers when known, absent otherwise', () => {
    const json = encodeSpiffeBundle(bundle)
    expect(json).toMatch(/"spiffe_refresh_hint":300[,}]/)
    expect(json).toMatch(/"spiffe_sequence":42[,}]/)
    const bare = JSON.parse(encodeSpiffeBundle(new Bundle(td))) as Record<string, unknown>
    expect(bare).toEqual({ keys: [] })
  })

  it('BUN-09: a sequence number past 2^53 is printed as an exact JSON integer and read back', () => {
    const big = 2n ** 63n + 7n
    const json = encodeSpiffeBundle(new Bundle(td), { sequenceNumber: big })
    expect(json).toBe('{"keys":[],"spiffe_sequence":9223372036854775815}')
    expect(parseSpiffeBundle(td, json).sequenceNumber).toBe(big)
  })

  it('BUN-09: a sequence number that does not fit in 64 bits is refused', () => {
    expectInvalid(() => encodeSpiffeBundle(new Bundle(td, { sequenceNumber: 2n ** 64n })), /^spiffebundle: sequence number must fit in an unsigned 64-bit integer$/)
    expectInvalid(() => encodeSpiffeBundle(new Bundle(td), { sequenceNumber: -1n }), /^bundle: sequence number must not be negative$/)
  })

  it('BUN-10: options replace the refresh hint and sequence number; invalid ones are refused', () => {
    const doc = JSON.parse(encodeSpiffeBundle(bundle, { refreshHintSeconds: 60, sequenceNumber: 43n })) as Record<string, unknown>
    expect([doc.spiffe_refresh_hint, doc.spiffe_sequence]).toEqual([60, 43])
    expectInvalid(() => encodeSpiffeBundle(bundle, { refreshHintSeconds: 1.5 }), /^bundle: refresh hint must be a whole number of seconds$/)
  })

  it('INTEROP-08: an empty bundle is {"keys":[]}, never without keys or with null', () => {
    expect(encodeSpiffeBundle(new Bundle(td))).toBe('{"keys":[]}')
    expect(encodeJwtBundleJwks(new Bundle(td))).toBe('{"keys":[]}')
  })

  it('BUN-01: encode then parse gives the same bundle', () => {
    const back = parseSpiffeBundle(td, encodeSpiffeBundle(bundle))
    expect(back.x509Authorities.map((d) => Buffer.from(d))).toEqual(bundle.x509Authorities.map((d) => Buffer.from(d)))
    expect([...back.jwtAuthorities.keys()]).toEqual([...bundle.jwtAuthorities.keys()])
    for (const [kid, authority] of bundle.jwtAuthorities) {
      expect(back.findJwtAuthority(kid)!.publicKey.equals(authority.publicKey)).toBe(true)
    }
    expect(back.sequenceNumber).toBe(42n)
    expect(back.refreshHintSeconds).toBe(300)
  })

  it('BUN-01: the go-spiffe fixtures survive parse → encode → parse', () => {
    for (const doc of vectors.spiffe_bundle_documents.filter((d) => d.go_spiffe_spiffebundle_parse.ok)) {
      const first = parseSpiffeBundle(local, JSON.stringify(doc.document))
      const again = parseSpiffeBundle(local, encodeSpiffeBundle(first))
      expect(again.x509Authorities.map((d) => Buffer.from(d))).toEqual(first.x509Authorities.map((d) => Buffer.from(d)))
      expect([...again.jwtAuthorities.keys()]).toEqual([...first.jwtAuthorities.keys()])
      expect(again.sequenceNumber).toBe(first.sequenceNumber)
      expect(again.refreshHintSeconds).toBe(first.refreshHintSeconds)
    }
  })

  it('INTEROP-07: the x5c certificate key equals the JWK key members, read by jose importJWK', async () => {
    const doc = JSON.parse(encodeSpiffeBundle(bundle)) as { keys: (JWK & { x5c?: string[] })[] }
    const x509Keys = doc.keys.filter((k) => k.use === 'x509-svid')
    expect(x509Keys).toHaveLength(2)
    for (const jwk of x509Keys) {
      const fromMembers = KeyObject.from((await importJWK(jwk, jwk.kty === 'RSA' ? 'RS256' : 'ES256')) as webcrypto.CryptoKey)
      const fromCert = new X509Certificate(Buffer.from(jwk.x5c![0]!, 'base64')).publicKey
      expect(fromMembers.equals(fromCert)).toBe(true)
    }
  })

  it('INTEROP-06, JWT-14: jose importJWK reads every jwt-svid key and verifies tokens signed with it', async () => {
    const doc = JSON.parse(encodeSpiffeBundle(bundle)) as { keys: JWK[] }
    for (const key of [jwtP256, jwtP384, jwtRsa]) {
      const jwk = doc.keys.find((k) => k.kid === key.authority.kid)!
      const token = await new SignJWT({ sub: 'spiffe://example.org/w' })
        .setProtectedHeader({ alg: key.alg, kid: key.authority.kid, typ: 'JWT' })
        .setAudience('a')
        .setExpirationTime('5m')
        .sign(key.privateKey)
      const { payload } = await jwtVerify(token, await importJWK(jwk, key.alg), { audience: 'a' })
      expect(payload.sub).toBe('spiffe://example.org/w')
    }
  })

  it('INTEROP-06: EC coordinates are written at full length (P-521: 66 bytes)', () => {
    // A P-521 coordinate has a zero first byte half of the time, so 16 keys exercise the padding.
    const keys = Array.from({ length: 16 }, (_, i) => makeJwtKey(`k${i}`, 'P-521').authority)
    const doc = JSON.parse(encodeSpiffeBundle(new Bundle(td, { jwtAuthorities: keys }))) as { keys: { x: string; y: string }[] }
    for (const key of doc.keys) {
      expect([Buffer.from(key.x, 'base64url').length, Buffer.from(key.y, 'base64url').length]).toEqual([66, 66])
    }
  })

  it('INTEROP-06: key types go-jose cannot use for JWT-SVIDs are not published', () => {
    const { publicKey } = generateKeyPairSync('ed25519')
    expectInvalid(
      () => encodeSpiffeBundle(new Bundle(td, { jwtAuthorities: [{ kid: 'ed', publicKey }] })),
      /^spiffebundle: JWT authority "ed": key must be EC P-256, P-384, P-521 or RSA to be published$/,
    )
  })

  it('X509-23: a non-CA certificate is not published as an X.509 authority', () => {
    expectInvalid(
      () => encodeSpiffeBundle(new Bundle(td, { x509Authorities: [leafCert.der] })),
      /^spiffebundle: X.509 authority 0: must be a CA certificate/,
    )
  })

  it('a private key handed in as a JWT authority is never written out', () => {
    const misuse = new Bundle(td, { jwtAuthorities: [{ kid: 'oops', publicKey: jwtP256.privateKey }] })
    expect(() => encodeSpiffeBundle(misuse)).toThrow(TypeError)
    expect(() => encodeJwtBundleJwks(misuse)).toThrow(TypeError)
  })
})

describe('encodeJwtBundleJwks', () => {
  let bundle: Bundle
  beforeAll(() => {
    bundle = new Bundle(td, {
      x509Authorities: [caP256.der],
      jwtAuthorities: [jwtP256.authority, jwtP384.authority, jwtRsa.authority],
      sequenceNumber: 9n,
      refreshHintSeconds: 60,
    })
  })

  it('WJ-07, WJ-08: only JWT keys, each with a kid, no x509-svid CA, no spiffe_* members', () => {
    const doc = JSON.parse(encodeJwtBundleJwks(bundle)) as { keys: Record<string, unknown>[] }
    expect(Object.keys(doc)).toEqual(['keys'])
    expect(doc.keys.map((k) => k.kid)).toEqual(['jwt-p256', 'jwt-p384', 'jwt-rsa'])
    for (const key of doc.keys) {
      expect(key).not.toHaveProperty('x5c')
      expect(key.use === undefined || key.use === 'jwt-svid').toBe(true)
    }
    const back = parseJwtBundleJwks(td, encodeJwtBundleJwks(bundle))
    expect([...back.jwtAuthorities.keys()]).toEqual([...bundle.jwtAuthorities.keys()])
    expect(back.x509Authorities).toHaveLength(0)
  })

  it('WJ-07: jose createLocalJWKSet selects each key by kid and verifies tokens signed with it', async () => {
    const jwks = createLocalJWKSet(JSON.parse(encodeJwtBundleJwks(bundle)) as { keys: JWK[] })
    for (const key of [jwtP256, jwtP384, jwtRsa]) {
      const token = await new SignJWT({ sub: 'spiffe://example.org/w' })
        .setProtectedHeader({ alg: key.alg, kid: key.authority.kid, typ: 'JWT' })
        .setAudience('a')
        .setExpirationTime('5m')
        .sign(key.privateKey)
      const { protectedHeader } = await jwtVerify(token, jwks, { audience: 'a' })
      expect(protectedHeader.kid).toBe(key.authority.kid)
    }
  })

  it('WJ-08: use is left out because jose skips JWKS keys whose use is not "sig"', async () => {
    // The same key with use=jwt-svid (as in a SPIFFE bundle) is invisible to createLocalJWKSet.
    const withUse = createLocalJWKSet(JSON.parse(encodeSpiffeBundle(new Bundle(td, { jwtAuthorities: [jwtP256.authority] }))) as { keys: JWK[] })
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'jwt-p256' })
      .sign(jwtP256.privateKey)
    await expect(jwtVerify(token, withUse)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' })
  })
})

// --- bundle maps ------------------------------------------------------------------------------

describe('bundle maps', () => {
  it('BUN-13: the specification example parses', () => {
    const set = parseBundleMap(JSON.stringify(vectors.bundle_map_example.document))
    const bundle = set.get(parseTrustDomain('example.com'))!
    expect(set.size).toBe(1)
    expect(bundle.sequenceNumber).toBe(12035488n)
    expect(bundle.isEmpty).toBe(true)
  })

  it('BUN-13: a duplicate trust domain is rejected (JSON.parse would keep the last one)', () => {
    const json = '{"trust_domains":{"a.test":{"keys":[]},"b.test":{"keys":[]},"a.test":{"keys":[]}}}'
    expect(() => JSON.parse(json)).not.toThrow()
    expectInvalid(() => parseBundleMap(json), /^bundlemap: duplicate trust domain "a.test"$/)
  })

  it('BUN-13: duplicates elsewhere in the map are malformed JSON', () => {
    expectInvalid(() => parseBundleMap('{"trust_domains":{"a.test":{"keys":[],"keys":[]}}}'), /^bundlemap: invalid JSON: duplicate member name "keys"$/)
  })

  it('BUN-13: trust_domains must be present and may be empty', () => {
    expect(parseBundleMap('{"trust_domains":{}}').size).toBe(0)
    expectInvalid(() => parseBundleMap('{}'), /^bundlemap: trust_domains: must be present and be a JSON object$/)
    expectInvalid(() => parseBundleMap('{"trust_domains":[]}'), /^bundlemap: trust_domains: must be present and be a JSON object$/)
  })

  it.each([
    ['spiffe://a.test', /^bundlemap: trust domain "spiffe:\/\/a.test": key must be a trust domain name, not a SPIFFE ID$/],
    ['A.test', /^bundlemap: trust domain "A.test": key must be a trust domain name$/],
    ['', /^bundlemap: trust domain "": key must be a trust domain name$/],
  ])('BUN-13: map key %j is not a trust domain name', (name, message) => {
    expectInvalid(() => parseBundleMap(`{"trust_domains":{${JSON.stringify(name)}:{"keys":[]}}}`), message)
  })

  it('BUN-13: an invalid member bundle names its trust domain', () => {
    expectInvalid(() => parseBundleMap('{"trust_domains":{"a.test":{"spiffe_sequence":1}}}'), /^bundlemap: trust domain "a.test": keys: must be present$/)
  })

  it('BUN-14: member refresh hints are not written, and ignored when read', () => {
    const a = new Bundle(parseTrustDomain('a.test'), { x509Authorities: [caP256.der], sequenceNumber: 2n ** 60n, refreshHintSeconds: 30 })
    const b = new Bundle(parseTrustDomain('b.test'), { jwtAuthorities: [jwtRsa.authority], refreshHintSeconds: 30 })
    const json = encodeBundleMap([b, a])
    expect(json).not.toContain('spiffe_refresh_hint')
    expect(json.indexOf('"a.test"')).toBeLessThan(json.indexOf('"b.test"'))
    const set = parseBundleMap(json)
    expect(set.get(a.trustDomain)!.sequenceNumber).toBe(2n ** 60n)
    expect(Buffer.from(set.get(a.trustDomain)!.x509Authorities[0]!)).toEqual(Buffer.from(caP256.der))
    expect(set.get(b.trustDomain)!.findJwtAuthority('jwt-rsa')!.publicKey.equals(jwtRsa.authority.publicKey)).toBe(true)

    const withHint = parseBundleMap('{"trust_domains":{"a.test":{"keys":[],"spiffe_refresh_hint":5}}}')
    expect(withHint.get(a.trustDomain)!.refreshHintSeconds).toBeUndefined()
  })

  it('BUN-13: producers never write two bundles for one trust domain', () => {
    const one = new Bundle(parseTrustDomain('a.test'))
    expectInvalid(() => encodeBundleMap([one, one.with({ sequenceNumber: 1n })]), /^bundlemap: duplicate trust domain "a.test"$/)
    expect(encodeBundleMap([])).toBe('{"trust_domains":{}}')
  })

  it('BUN-13: a member that cannot be published names its trust domain', () => {
    const a = parseTrustDomain('a.test')
    expectInvalid(() => encodeBundleMap([new Bundle(a, { x509Authorities: [leafCert.der] })]), /^bundlemap: trust domain "a.test": X.509 authority 0: must be a CA certificate/)
    expectInvalid(() => encodeBundleMap([new Bundle(a, { sequenceNumber: 2n ** 64n })]), /^bundlemap: trust domain "a.test": sequence number must fit in an unsigned 64-bit integer$/)
  })
})
