import { KeyObject, constants, generateKeyPairSync, sign, verify, webcrypto } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as x509 from '@peculiar/x509'
import { SignJWT, createLocalJWKSet, jwtVerify } from 'jose'
import type { JWK } from 'jose'
import { describe, expect, it } from 'vitest'
import { Bundle, BundleSet } from './bundle.js'
import type { BundleSource } from './bundle.js'
import { SpiffeError } from './errors.js'
import type { SpiffeErrorCode } from './errors.js'
import { parseSpiffeId, parseTrustDomain } from './id.js'
import { publicKeyToJwk } from './jose-keys.js'
import { DEFAULT_JWT_SVID_LEEWAY_SECONDS, parseAndValidateJwtSvid, parseJwtSvidInsecure, signJwtSvid } from './jwt-svid.js'
import type { JwtSvidSigningAlgorithm, SignJwtSvidParams } from './jwt-svid.js'

interface VectorCase {
  id: string
  expect: string
  token?: string
  token_ref?: string
  recipe?: string
  go_spiffe_error?: string
  go_spiffe_error_contains?: string
}

interface Vectors {
  setup: {
    trust_domain: string
    default_header: Record<string, unknown>
    default_claims: Record<string, unknown>
    default_validator_audience: string
  }
  hs256_token_from_go_spiffe_tests: string
  cases: VectorCase[]
}

const vectors = JSON.parse(
  readFileSync(new URL('../test/data/vectors/jwt-svid-validation.json', import.meta.url), 'utf8'),
) as Vectors

// A fixed clock with a fraction of a second, so rounding of iat shows.
const NOW = new Date('2031-03-04T05:06:07.890Z')
const NOW_S = Math.floor(NOW.getTime() / 1000)

// setup.jwt_authorities: authority1 = ECDSA P-384 (key1), authority2 = RSA 2048 (key2).
const key1 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
const key2 = generateKeyPairSync('rsa', { modulusLength: 2048 })
const keyP256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const keyEd = generateKeyPairSync('ed25519')

const td = parseTrustDomain(vectors.setup.trust_domain)
const bundle = new Bundle(td, {
  jwtAuthorities: [
    { kid: 'authority1', publicKey: key1.publicKey },
    { kid: 'authority2', publicKey: key2.publicKey },
  ],
})
const AUDIENCE = vectors.setup.default_validator_audience
const LEAF = parseSpiffeId('spiffe://trustdomain/host')

function b64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url')
}

function decodePart(token: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
}

/** Signs like any JWS library would, independent of the code under test. */
function rawSign(alg: string, key: KeyObject, data: Buffer): Buffer {
  if (alg === 'none') return Buffer.alloc(0)
  if (alg === 'EdDSA') return sign(null, data, key)
  const hash = `sha${alg.slice(2)}`
  if (alg.startsWith('ES')) return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' })
  if (alg.startsWith('PS')) {
    return sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 })
  }
  return sign(hash, data, key)
}

interface MintOptions {
  header?: (header: Record<string, unknown>) => void
  claims?: (claims: Record<string, unknown>) => void
  /** Raw payload JSON, for values JSON.stringify cannot write (1e400). */
  payloadJson?: string
  key?: KeyObject
}

/** A token from setup.default_header / default_claims, edited by a recipe, signed with key1 by default. */
function mint(options: MintOptions = {}): string {
  const header: Record<string, unknown> = { ...vectors.setup.default_header }
  const claims: Record<string, unknown> = {
    ...vectors.setup.default_claims,
    aud: [...(vectors.setup.default_claims.aud as string[])],
    exp: NOW_S + 60,
    iat: NOW_S,
  }
  options.header?.(header)
  options.claims?.(claims)
  const input = `${b64(JSON.stringify(header))}.${b64(options.payloadJson ?? JSON.stringify(claims))}`
  const signature = rawSign(String(header.alg), options.key ?? key1.privateKey, Buffer.from(input, 'latin1'))
  return `${input}.${signature.toString('base64url')}`
}

/** A copy of `token` with one payload character changed such that the payload still parses. */
function tamperPayload(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string]
  for (let i = Math.floor(p.length / 2); i < p.length - 1; i++) {
    const replacement = p[i] === 'A' ? 'B' : 'A'
    const candidate = `${h}.${p.slice(0, i)}${replacement}${p.slice(i + 1)}.${s}`
    try {
      parseJwtSvidInsecure(candidate)
      return candidate
    } catch {
      // This position breaks the JSON; try the next one.
    }
  }
  throw new Error('no tamperable position found')
}

function validate(token: string, bundles: BundleSource = bundle, audience: string | string[] = AUDIENCE) {
  return parseAndValidateJwtSvid(token, bundles, audience, { now: NOW })
}

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected an error')
}

interface Reject {
  code: SpiffeErrorCode
  /** How our message relates to the vector's go_spiffe_error: the same, or the same plus `: <rule>`. */
  go?: 'exact' | 'prefix' | 'contains'
  message?: RegExp
}

interface Recipe {
  /** CONFORMANCE IDs the case checks. */
  ids: string
  build: () => { token: string; bundles?: BundleSource; audience?: string | string[] }
  verdict: 'accept' | Reject
}

const INVALID = 'INVALID_JWT_SVID'
const FAILED = 'JWT_SVID_VERIFICATION_FAILED'

const RECIPES: Record<string, Recipe> = {
  'gs-success': { ids: 'WJ-12', build: () => ({ token: mint() }), verdict: 'accept' },
  'gs-malformed': {
    ids: 'JWT-01, WJ-12',
    build: () => ({ token: 'invalid token' }),
    verdict: { code: INVALID, go: 'prefix', message: /compact serialization/ },
  },
  'gs-hs256': {
    ids: 'JWT-03, JWT-10, WJ-12',
    build: () => ({ token: vectors.hs256_token_from_go_spiffe_tests }),
    verdict: { code: INVALID, go: 'prefix', message: /algorithm "HS256" is not allowed/ },
  },
  'gs-missing-sub': {
    ids: 'JWT-06, WJ-12',
    build: () => ({ token: mint({ claims: (c) => delete c.sub }) }),
    verdict: { code: INVALID, go: 'exact' },
  },
  'gs-missing-exp': {
    ids: 'JWT-09, WJ-12',
    build: () => ({ token: mint({ claims: (c) => delete c.exp }) }),
    verdict: { code: INVALID, go: 'exact' },
  },
  'gs-expired': {
    ids: 'JWT-09, WJ-12',
    build: () => ({ token: mint({ claims: (c) => (c.exp = NOW_S - 300) }) }),
    verdict: { code: FAILED, go: 'exact' },
  },
  'gs-unexpected-audience': {
    ids: 'JWT-07, WJ-12',
    build: () => ({ token: mint(), audience: 'another' }),
    verdict: { code: FAILED, go: 'exact' },
  },
  'gs-invalid-sub': {
    ids: 'JWT-06, WJ-12',
    build: () => ({ token: mint({ claims: (c) => (c.sub = 'invalid subject') }) }),
    verdict: { code: INVALID, go: 'exact' },
  },
  'gs-missing-kid': {
    ids: 'JWT-04, INTEROP-05, WJ-12',
    build: () => ({ token: mint({ header: (h) => delete h.kid }) }),
    verdict: { code: INVALID, go: 'exact' },
  },
  'gs-no-bundle-for-td': {
    ids: 'WJ-13, WAPI-12, WJ-12',
    build: () => ({
      token: mint({
        header: (h) => (h.kid = 'noAuthority'),
        claims: (c) => (c.sub = 'spiffe://another.domain/host'),
      }),
    }),
    verdict: { code: FAILED, go: 'exact' },
  },
  'gs-unknown-kid': {
    ids: 'JWT-10, WJ-12',
    build: () => ({ token: mint({ header: (h) => (h.kid = 'noKey') }) }),
    verdict: { code: FAILED, go: 'exact' },
  },
  'gs-wrong-key': {
    ids: 'JWT-10, WJ-12',
    build: () => ({ token: mint({ header: (h) => (h.alg = 'RS256'), key: key2.privateKey }) }),
    verdict: { code: FAILED, message: /^jwtsvid: JWT authority "authority1" cannot verify this token: RS256 needs an RSA key$/ },
  },
  'gs-invalid-typ': {
    ids: 'JWT-05, WJ-12',
    build: () => ({ token: mint({ header: (h) => (h.typ = 'invalid') }) }),
    verdict: { code: INVALID, go: 'exact' },
  },
  'spec-typ-jose': {
    ids: 'JWT-05, WJ-12',
    build: () => ({ token: mint({ header: (h) => (h.typ = 'JOSE') }) }),
    verdict: 'accept',
  },
  'spec-typ-absent': {
    ids: 'JWT-05, WJ-12',
    build: () => ({ token: mint({ header: (h) => delete h.typ }) }),
    verdict: 'accept',
  },
  'spec-alg-none': {
    ids: 'JWT-03, JWT-10, WJ-12',
    build: () => ({ token: mint({ header: (h) => (h.alg = 'none') }) }),
    verdict: { code: INVALID, go: 'prefix', message: /algorithm "none" is not allowed/ },
  },
  'spec-alg-eddsa': {
    ids: 'JWT-03, JWT-10, WJ-12',
    build: () => ({
      token: mint({ header: (h) => ((h.alg = 'EdDSA'), (h.kid = 'authority-ed')), key: keyEd.privateKey }),
      bundles: bundle.with({
        jwtAuthorities: [...bundle.jwtAuthorities.values(), { kid: 'authority-ed', publicKey: keyEd.publicKey }],
      }),
    }),
    verdict: { code: INVALID, go: 'prefix', message: /algorithm "EdDSA" is not allowed/ },
  },
  'spec-alg-es256': {
    ids: 'JWT-03, WJ-12',
    build: () => ({
      token: mint({ header: (h) => ((h.alg = 'ES256'), (h.kid = 'authority3')), key: keyP256.privateKey }),
      bundles: bundle.with({
        jwtAuthorities: [...bundle.jwtAuthorities.values(), { kid: 'authority3', publicKey: keyP256.publicKey }],
      }),
    }),
    verdict: 'accept',
  },
  'spec-alg-ps256': {
    ids: 'JWT-03, WJ-12',
    build: () => ({ token: mint({ header: (h) => ((h.alg = 'PS256'), (h.kid = 'authority2')), key: key2.privateKey }) }),
    verdict: 'accept',
  },
  'spec-alg-key-mismatch': {
    ids: 'JWT-10, WJ-12',
    build: () => ({ token: mint({ header: (h) => (h.alg = 'ES256') }) }),
    verdict: { code: FAILED, message: /^jwtsvid: JWT authority "authority1" cannot verify this token: ES256 needs an EC P-256 key$/ },
  },
  'spec-aud-missing': {
    ids: 'JWT-07, WJ-12',
    build: () => ({ token: mint({ claims: (c) => delete c.aud }) }),
    verdict: { code: FAILED, go: 'exact' },
  },
  'spec-aud-empty-array': {
    ids: 'JWT-07, WJ-12',
    build: () => ({ token: mint({ claims: (c) => (c.aud = []) }) }),
    verdict: { code: FAILED, go: 'exact' },
  },
  'spec-aud-string': {
    ids: 'JWT-07, WJ-12',
    build: () => ({ token: mint({ claims: (c) => (c.aud = 'audience') }) }),
    verdict: 'accept',
  },
  'spec-aud-multi': {
    ids: 'JWT-07, JWT-08, WJ-12',
    build: () => ({ token: mint({ claims: (c) => (c.aud = ['other', 'audience']) }) }),
    verdict: 'accept',
  },
  'spec-exp-string': {
    ids: 'JWT-09, WJ-12',
    build: () => ({ token: mint({ claims: (c) => (c.exp = '1999999999') }) }),
    verdict: { code: INVALID, go: 'contains', message: /exp must be a number/ },
  },
  // Implementation-defined in the vectors; we keep go-spiffe's 60 s leeway, so accept.
  'spec-exp-within-leeway': {
    ids: 'JWT-09, WJ-12',
    build: () => ({ token: mint({ claims: (c) => (c.exp = NOW_S - 30) }) }),
    verdict: 'accept',
  },
  'spec-nbf-future': {
    ids: 'JWT-10, WJ-12',
    build: () => ({ token: mint({ claims: (c) => (c.nbf = NOW_S + 300) }) }),
    verdict: { code: FAILED, message: /^jwtsvid: token is not valid yet \(nbf\)$/ },
  },
  // The spec is silent; go-spiffe and SPIRE refuse, and so do we.
  'interop-iat-future': {
    ids: 'INTEROP-11, WJ-12',
    build: () => ({ token: mint({ claims: (c) => (c.iat = NOW_S + 300) }) }),
    verdict: { code: FAILED, message: /^jwtsvid: token was issued in the future \(iat\)$/ },
  },
  'spec-json-serialization': {
    ids: 'JWT-01, WJ-12',
    build: () => {
      const [header, payload, signature] = mint().split('.')
      return { token: JSON.stringify({ payload, protected: header, signature }) }
    },
    verdict: { code: INVALID, message: /^jwtsvid: unable to parse JWT token: .*compact serialization/ },
  },
  'spec-tampered-payload': {
    ids: 'JWT-10, WJ-12',
    build: () => ({ token: tamperPayload(mint()) }),
    verdict: { code: FAILED, message: /^jwtsvid: token signature does not verify with JWT authority "authority1"$/ },
  },
  'spec-sub-trailing-slash': {
    ids: 'JWT-06, WJ-12',
    build: () => ({ token: mint({ claims: (c) => (c.sub = 'spiffe://trustdomain/host/') }) }),
    verdict: { code: INVALID, go: 'exact' },
  },
  'spec-no-bundle-pooling': {
    ids: 'WJ-13, WAPI-12, WJ-12',
    build: () => ({
      token: mint({ claims: (c) => (c.sub = 'spiffe://other.td/x') }),
      bundles: new BundleSet([bundle, new Bundle(parseTrustDomain('other.td'))]),
    }),
    verdict: { code: FAILED, message: /^jwtsvid: no JWT authority "authority1" found for trust domain "other.td"$/ },
  },
}

const validationCases = vectors.cases.filter((c) => !c.id.startsWith('issuer-'))

describe('parseAndValidateJwtSvid: vectors/jwt-svid-validation.json', () => {
  it('has a recipe here for every validation case of the vectors, and none extra', () => {
    expect(Object.keys(RECIPES).sort()).toEqual(validationCases.map((c) => c.id).sort())
  })

  const rows = validationCases.flatMap((c) => {
    const recipe = RECIPES[c.id]
    if (recipe === undefined) return []
    const verdictName = recipe.verdict === 'accept' ? 'accept' : 'reject'
    return [[`${recipe.ids}: ${c.id} → ${verdictName}`, { ...c, ...recipe, verdictName }] as const]
  })

  it.each(rows)('%s', (_title, row) => {
    if (row.expect === 'accept' || row.expect === 'reject') expect(row.verdictName).toBe(row.expect)
    const built = row.build()
    const run = () => validate(built.token, built.bundles ?? bundle, built.audience ?? AUDIENCE)
    if (row.verdict === 'accept') {
      const svid = run()
      expect(svid.token).toBe(built.token)
      expect(svid.id.trustDomain.equals(td)).toBe(true)
      expect(svid.audience).toContain(AUDIENCE)
      return
    }
    const err = catchError(run)
    expect(err).toBeInstanceOf(SpiffeError)
    const { code, message } = err as SpiffeError
    expect(code).toBe(row.verdict.code)
    expect(message).toMatch(/^jwtsvid: /)
    if (row.verdict.go === 'exact') expect(message).toBe(row.go_spiffe_error)
    if (row.verdict.go === 'prefix') expect(message.startsWith(`${row.go_spiffe_error}: `)).toBe(true)
    if (row.verdict.go === 'contains') expect(message).toContain(row.go_spiffe_error_contains)
    if (row.verdict.message !== undefined) expect(message).toMatch(row.verdict.message)
  })
})

const SIGNING_KEYS: Record<JwtSvidSigningAlgorithm, { privateKey: KeyObject; publicKey: KeyObject; kid: string }> = {
  ES256: { ...keyP256, kid: 'authority3' },
  ES384: { ...key1, kid: 'authority1' },
  RS256: { ...key2, kid: 'authority2' },
  PS256: { ...key2, kid: 'authority2' },
}
const SIGNING_ALGS = Object.keys(SIGNING_KEYS) as JwtSvidSigningAlgorithm[]
const signingBundle = bundle.with({
  jwtAuthorities: [...bundle.jwtAuthorities.values(), { kid: 'authority3', publicKey: keyP256.publicKey }],
})

function signWith(alg: JwtSvidSigningAlgorithm, changes: Partial<SignJwtSvidParams> = {}) {
  const { privateKey, kid } = SIGNING_KEYS[alg]
  return signJwtSvid({
    spiffeId: LEAF,
    audience: [AUDIENCE],
    ttlSeconds: 300,
    key: { kid, privateKey },
    alg,
    now: NOW,
    ...changes,
  })
}

describe('signJwtSvid: issuer checks of the vectors', () => {
  it.each(SIGNING_ALGS)('JWT-02, INTEROP-05: issuer-extra-header: %s header is exactly {alg, kid, typ}', (alg) => {
    const { token } = signWith(alg)
    expect(vectors.cases.some((c) => c.id === 'issuer-extra-header')).toBe(true)
    const header = decodePart(token, 0)
    expect(Object.keys(header)).toEqual(['alg', 'kid', 'typ'])
    expect(header).toEqual({ alg, kid: SIGNING_KEYS[alg].kid, typ: 'JWT' })
  })

  it.each([
    ['ES256', 64],
    ['ES384', 96],
  ] as const)('INTEROP-09: issuer-es-signature-format: %s signature is raw r‖s of %i bytes', (alg, bytes) => {
    expect(vectors.cases.some((c) => c.id === 'issuer-es-signature-format')).toBe(true)
    const { token } = signWith(alg)
    const dot = token.lastIndexOf('.')
    const signature = Buffer.from(token.slice(dot + 1), 'base64url')
    expect(signature.length).toBe(bytes)
    const ok = verify(
      `sha${alg.slice(2)}`,
      Buffer.from(token.slice(0, dot), 'latin1'),
      { key: SIGNING_KEYS[alg].publicKey, dsaEncoding: 'ieee-p1363' },
      signature,
    )
    expect(ok).toBe(true)
  })
})

describe('signJwtSvid', () => {
  it('JWT-01, JWT-06, JWT-07, JWT-08, JWT-09, INTEROP-11: claims are sub, aud as given, exp and iat as numbers; iat not ahead of the clock', () => {
    const signed = signWith('ES256', { audience: ['only-one'] })
    expect(signed.token.split('.')).toHaveLength(3)
    const claims = decodePart(signed.token, 1)
    expect(Object.keys(claims)).toEqual(['sub', 'aud', 'exp', 'iat'])
    expect(claims.sub).toBe('spiffe://trustdomain/host')
    expect(claims.aud).toEqual(['only-one'])
    expect(claims.iat).toBe(NOW_S)
    expect(claims.exp).toBe(NOW_S + 300)
    expect((claims.iat as number) * 1000).toBeLessThanOrEqual(NOW.getTime())
    expect(signed.issuedAt).toEqual(new Date(NOW_S * 1000))
    expect(signed.expiresAt).toEqual(new Date((NOW_S + 300) * 1000))
  })

  it('JWT-08: several audiences go into aud exactly as requested, in order', () => {
    const { token } = signWith('ES256', { audience: ['b', 'a', 'c'] })
    expect(decodePart(token, 1).aud).toEqual(['b', 'a', 'c'])
  })

  it.each([
    ['P-256', 'ES256', keyP256.privateKey],
    ['P-384', 'ES384', key1.privateKey],
    ['RSA', 'RS256', key2.privateKey],
  ] as const)('picks the algorithm from a %s key: %s', (_name, alg, privateKey) => {
    const { token } = signJwtSvid({ spiffeId: LEAF, audience: ['x'], ttlSeconds: 60, key: { kid: 'k', privateKey } })
    expect(decodePart(token, 0).alg).toBe(alg)
  })

  it('caps exp at expiresAt', () => {
    const cap = new Date((NOW_S + 100) * 1000 + 700)
    const signed = signWith('ES256', { ttlSeconds: 3600, expiresAt: cap })
    expect(decodePart(signed.token, 1).exp).toBe(NOW_S + 100)
    expect(signed.expiresAt).toEqual(new Date((NOW_S + 100) * 1000))
  })

  it.each<[string, Partial<SignJwtSvidParams>, string]>([
    ['root ID', { spiffeId: td.id }, 'jwtsvid: JWT-SVIDs are issued only for workload IDs, not for the trust domain ID spiffe://trustdomain'],
    ['no audience', { audience: [] }, 'jwtsvid: audience must have at least one value'],
    ['empty audience value', { audience: ['a', ''] }, 'jwtsvid: audience values must not be empty'],
    ['TTL 0', { ttlSeconds: 0 }, 'jwtsvid: TTL must be a positive whole number of seconds'],
    ['negative TTL', { ttlSeconds: -5 }, 'jwtsvid: TTL must be a positive whole number of seconds'],
    ['fractional TTL', { ttlSeconds: 1.5 }, 'jwtsvid: TTL must be a positive whole number of seconds'],
    ['cap at now', { expiresAt: new Date(NOW_S * 1000 + 999) }, 'jwtsvid: expiry cap must be at least one second after the issue time'],
    ['empty kid', { key: { kid: '', privateKey: keyP256.privateKey } }, 'jwtsvid: signing key must have a key ID (kid)'],
    ['public key', { key: { kid: 'k', privateKey: keyP256.publicKey } }, 'jwtsvid: signing key must be a private key'],
    [
      'ES256 with a P-384 key',
      { key: { kid: 'k', privateKey: key1.privateKey } },
      'jwtsvid: signing key does not fit the algorithm: ES256 needs an EC P-256 key',
    ],
    [
      'an Ed25519 key',
      { alg: undefined, key: { kid: 'k', privateKey: keyEd.privateKey } },
      'jwtsvid: signing key must be an EC P-256, EC P-384 or RSA key',
    ],
    [
      'an algorithm we do not sign with',
      { alg: 'HS256' as JwtSvidSigningAlgorithm },
      'jwtsvid: algorithm HS256 is not one of ES256, ES384, RS256, PS256',
    ],
  ])('refuses %s', (_name, changes, message) => {
    const err = catchError(() => signWith('ES256', changes))
    expect(err).toBeInstanceOf(SpiffeError)
    expect(err).toMatchObject({ code: 'INVALID_MINT_REQUEST', message })
  })

  it.each(SIGNING_ALGS)('WJ-12: a %s token we sign validates, with the fields it was signed with', (alg) => {
    const signed = signWith(alg, { audience: ['x', AUDIENCE] })
    const svid = parseAndValidateJwtSvid(signed.token, signingBundle, AUDIENCE, { now: NOW })
    expect(svid.id.equals(LEAF)).toBe(true)
    expect(svid.audience).toEqual(['x', AUDIENCE])
    expect(svid.expiresAt).toEqual(signed.expiresAt)
    expect(svid.issuedAt).toEqual(signed.issuedAt)
    expect(svid.header).toEqual({ alg, kid: SIGNING_KEYS[alg].kid, typ: 'JWT' })
    expect(svid.claims.sub).toBe(LEAF.toString())
  })
})

describe('interop with jose', () => {
  it.each(SIGNING_ALGS)('JWT-01, INTEROP-05, INTEROP-09: a %s token we sign verifies with jose jwtVerify and a JWKS', async (alg) => {
    const { token } = signWith(alg)
    const { publicKey, kid } = SIGNING_KEYS[alg]
    // jose's JWKS lookup skips keys whose `use` is not "sig", so the bundle's "jwt-svid" is left out here.
    const jwks = createLocalJWKSet({ keys: [publicKeyToJwk(publicKey, kid) as JWK] })
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      algorithms: [alg],
      audience: AUDIENCE,
      typ: 'JWT',
      currentDate: NOW,
    })
    expect(payload.sub).toBe(LEAF.toString())
    expect(protectedHeader.kid).toBe(kid)
  })

  it.each(['ES256', 'ES384', 'RS256', 'PS256'] as const)('WJ-12: a %s token signed by jose validates here', async (alg) => {
    const { privateKey, kid } = SIGNING_KEYS[alg]
    const token = await new SignJWT({})
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setSubject(LEAF.toString())
      .setAudience(AUDIENCE)
      .setIssuedAt(NOW_S)
      .setExpirationTime(NOW_S + 60)
      .sign(privateKey)
    const svid = parseAndValidateJwtSvid(token, signingBundle, AUDIENCE, { now: NOW })
    expect(svid.id.equals(LEAF)).toBe(true)
    expect(svid.audience).toEqual([AUDIENCE])
  })
})

describe('parseAndValidateJwtSvid', () => {
  it('ID-14: a token whose sub had one byte flipped fails the signature check', () => {
    const token = mint()
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const json = Buffer.from(payload, 'base64url').toString('utf8')
    const flipped = json.replace('spiffe://trustdomain/host', 'spiffe://trustdomain/hosu')
    expect(flipped).not.toBe(json)
    const forged = `${header}.${b64(flipped)}.${signature}`
    expect(parseJwtSvidInsecure(forged).id.toString()).toBe('spiffe://trustdomain/hosu')
    expect(() => validate(forged)).toThrow('jwtsvid: token signature does not verify with JWT authority "authority1"')
  })

  it('JWT-10: the algorithm is checked before the payload is looked at', () => {
    const token = `${b64(JSON.stringify({ alg: 'HS256', kid: 'authority1' }))}.${b64('not json')}.AAAA`
    expect(() => validate(token)).toThrow('jwtsvid: unable to parse JWT token: algorithm "HS256" is not allowed for JWT-SVIDs')
    const allowed = `${b64(JSON.stringify({ alg: 'ES384', kid: 'authority1' }))}.${b64('not json')}.AAAA`
    expect(() => validate(allowed)).toThrow('jwtsvid: unable to get claims from token: payload must be a JSON object')
  })

  it('INTEROP-09: a DER-encoded ECDSA signature is refused', () => {
    const token = mint()
    const input = token.slice(0, token.lastIndexOf('.'))
    const der = sign('sha384', Buffer.from(input, 'latin1'), key1.privateKey)
    expect(() => validate(`${input}.${der.toString('base64url')}`)).toThrow(
      'jwtsvid: token signature does not verify with JWT authority "authority1"',
    )
  })

  it('JWT-15: a bundle with only X.509 authorities validates no JWT-SVID, even one signed by the CA key', async () => {
    x509.cryptoProvider.set(webcrypto)
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify'])
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=trustdomain',
      notBefore: new Date(NOW.getTime() - 3_600_000),
      notAfter: new Date(NOW.getTime() + 3_600_000),
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' },
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    })
    const x509Only = new Bundle(td, { x509Authorities: [new Uint8Array(ca.rawData)] })
    const token = mint({ key: KeyObject.from(keys.privateKey) })
    const err = catchError(() => validate(token, x509Only))
    expect(err).toMatchObject({
      code: FAILED,
      message: 'jwtsvid: no JWT authority "authority1" found for trust domain "trustdomain"',
    })
  })

  it('WAPI-12, WJ-13: a single Bundle answers only for its own trust domain', () => {
    const token = mint({ claims: (c) => (c.sub = 'spiffe://other.td/x') })
    const otherWithSameKey = new Bundle(parseTrustDomain('other.td'), {
      jwtAuthorities: [{ kid: 'authority1', publicKey: key1.publicKey }],
    })
    expect(() => validate(token, bundle)).toThrow('jwtsvid: no bundle found for trust domain "other.td"')
    expect(validate(token, otherWithSameKey).id.toString()).toBe('spiffe://other.td/x')
  })

  it('JWT-07: several expected audiences: any one in aud is enough', () => {
    const token = mint({ claims: (c) => (c.aud = ['b']) })
    expect(validate(token, bundle, ['a', 'b']).audience).toEqual(['b'])
    expect(() => validate(token, bundle, ['a', 'c'])).toThrow('jwtsvid: expected audience in ["a" "c"] (audience=["b"])')
  })

  it('JWT-07: an empty expected audience is a caller bug, never "any audience"', () => {
    const token = mint()
    expect(() => validate(token, bundle, [])).toThrow(TypeError)
    expect(() => validate(token, bundle, '')).toThrow(TypeError)
  })

  it('JWT-09: leeway defaults to 60 s and can be set', () => {
    expect(DEFAULT_JWT_SVID_LEEWAY_SECONDS).toBe(60)
    const wholeSecond = { now: new Date(NOW_S * 1000) }
    const atEdge = mint({ claims: (c) => (c.exp = NOW_S - 60) })
    const pastEdge = mint({ claims: (c) => (c.exp = NOW_S - 61) })
    expect(parseAndValidateJwtSvid(atEdge, bundle, AUDIENCE, wholeSecond).id.equals(LEAF)).toBe(true)
    expect(() => parseAndValidateJwtSvid(pastEdge, bundle, AUDIENCE, wholeSecond)).toThrow('jwtsvid: token has expired')
    const recent = mint({ claims: (c) => (c.exp = NOW_S - 1) })
    expect(() => parseAndValidateJwtSvid(recent, bundle, AUDIENCE, { now: NOW, leewaySeconds: 0 })).toThrow(
      'jwtsvid: token has expired',
    )
    expect(() => parseAndValidateJwtSvid(recent, bundle, AUDIENCE, { now: NOW, leewaySeconds: -1 })).toThrow(TypeError)
  })

  it.each<[string, MintOptions, string]>([
    ['exp too large for a number', { payloadJson: '{"sub":"spiffe://trustdomain/host","aud":"audience","exp":1e400}' }, 'jwtsvid: unable to get claims from token: exp must be a number of seconds (NumericDate)'],
    ['aud of numbers', { claims: (c) => (c.aud = [1]) }, 'jwtsvid: unable to get claims from token: aud must be a string or an array of strings'],
    ['sub a number', { claims: (c) => (c.sub = 7) }, 'jwtsvid: unable to get claims from token: sub must be a string'],
    ['payload an array', { payloadJson: '[]' }, 'jwtsvid: unable to get claims from token: payload must be a JSON object'],
    ['crit header', { header: (h) => (h.crit = ['exp']) }, 'jwtsvid: unable to parse JWT token: critical header parameters are not supported'],
    ['kid a number', { header: (h) => (h.kid = 1) }, 'jwtsvid: unable to parse JWT token: header kid must be a string'],
    ['typ a number', { header: (h) => (h.typ = 1) }, 'jwtsvid: token header type not equal to either JWT or JOSE'],
    ['empty kid', { header: (h) => (h.kid = '') }, 'jwtsvid: token header missing key id'],
    ['empty sub', { claims: (c) => (c.sub = '') }, 'jwtsvid: token missing subject claim'],
  ])('JWT-10: refuses a token with %s', (_name, options, message) => {
    const err = catchError(() => validate(mint(options)))
    expect(err).toMatchObject({ code: INVALID, message })
  })

  it.each([
    ['padding', (t: string) => `${t}=`],
    ['a fourth part', (t: string) => `${t}.AAAA`],
    ['a character outside base64url', (t: string) => t.replace('.', '.+')],
    ['an empty header', (t: string) => t.slice(t.indexOf('.'))],
  ])('JWT-01: refuses a token with %s', (_name, change) => {
    const err = catchError(() => validate(change(mint())))
    expect(err).toMatchObject({ code: INVALID })
    expect((err as Error).message).toMatch(/^jwtsvid: unable to parse JWT token: /)
  })
})

describe('JwtSvid', () => {
  it('is frozen and leaves the token out of its JSON form', () => {
    const token = mint({ claims: (c) => (c.extra = { nested: [1] }) })
    const svid = validate(token)
    expect(Object.isFrozen(svid.claims)).toBe(true)
    expect(Object.isFrozen(svid.claims.extra)).toBe(true)
    expect(Object.isFrozen(svid.header)).toBe(true)
    expect(Object.isFrozen(svid.audience)).toBe(true)
    expect(svid.expiresAt).toEqual(new Date((NOW_S + 60) * 1000))
    svid.expiresAt.setTime(0)
    expect(svid.expiresAt).toEqual(new Date((NOW_S + 60) * 1000))
    const json = JSON.stringify({ svid })
    expect(json).not.toContain(token.split('.')[2])
    expect(JSON.parse(json)).toEqual({
      svid: { spiffeId: 'spiffe://trustdomain/host', audience: ['audience'], expiresAt: new Date((NOW_S + 60) * 1000).toISOString() },
    })
  })
})

describe('parseJwtSvidInsecure', () => {
  it('reads a token without checking signature, kid, audience or times', () => {
    const token = mint({ header: (h) => delete h.kid, claims: (c) => ((c.exp = 1), (c.aud = 'elsewhere')) })
    const svid = parseJwtSvidInsecure(`${token.slice(0, token.lastIndexOf('.'))}.AAAA`)
    expect(svid.id.equals(LEAF)).toBe(true)
    expect(svid.expiresAt).toEqual(new Date(1000))
  })

  it('JWT-03: still refuses a disallowed algorithm and a bad subject', () => {
    expect(() => parseJwtSvidInsecure(mint({ header: (h) => (h.alg = 'none') }))).toThrow(
      'jwtsvid: unable to parse JWT token: algorithm "none" is not allowed for JWT-SVIDs',
    )
    expect(() => parseJwtSvidInsecure(mint({ claims: (c) => (c.sub = 'spiffe://trustdomain/') }))).toThrow(
      'jwtsvid: token has an invalid subject claim: path cannot have a trailing slash',
    )
  })
})
