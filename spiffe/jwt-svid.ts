import type { KeyObject } from 'node:crypto'
import { bundleFor } from './bundle.js'
import type { BundleSource } from './bundle.js'
import { SpiffeError } from './errors.js'
import { assertIssuableId, parseSpiffeId } from './id.js'
import type { SpiffeId } from './id.js'
import { defaultAlgorithmForKey, isJwtSvidAlgorithm, jwsSign, jwsVerify, keyAlgorithmProblem } from './jose-keys.js'
import type { JwtSvidAlgorithm } from './jose-keys.js'

/**
 * JWT-SVIDs (JWT-SVID.md): signing, and parsing with validation in go-spiffe's order of checks so
 * that a token gets the verdict go-spiffe and SPIRE give it, and an error message that reads like
 * theirs. We are stricter in a few corners go-spiffe leaves open: `crit` headers, RSA keys under
 * 2048 bits, PS* salts other than the hash length, and NumericDates outside a Date's range are
 * refused. Tokens are JWS Compact Serialization signed and checked with node:crypto directly (the
 * Workload API's ValidateJWTSVID calls this on every request). One concept, the JWT-SVID format and
 * its checks in order: hence one file past 400 lines.
 */

/** The algorithms {@link signJwtSvid} signs with (SPIRE's key types: EC P-256/P-384, RSA). */
export type JwtSvidSigningAlgorithm = 'ES256' | 'ES384' | 'RS256' | 'PS256'

const SIGNING_ALGORITHMS: ReadonlySet<string> = new Set<JwtSvidSigningAlgorithm>(['ES256', 'ES384', 'RS256', 'PS256'])

/** Clock skew tolerated on `exp`, `nbf` and `iat` when validating, as go-jose (and so SPIRE) allows. */
export const DEFAULT_JWT_SVID_LEEWAY_SECONDS = 60

/** The protected header of a JWT-SVID; `alg` is always one of the allowed algorithms. */
export interface JwtSvidHeader {
  readonly alg: JwtSvidAlgorithm
  readonly kid?: string
  readonly typ?: string
  readonly [member: string]: unknown
}

// Only this module builds JwtSvid values, so holding one means its token parsed.
const CONSTRUCT = Symbol('construct')

interface JwtSvidFields {
  readonly id: SpiffeId
  readonly audience: readonly string[]
  readonly expSeconds: number
  readonly iatSeconds: number | undefined
  readonly claims: Readonly<Record<string, unknown>>
  readonly header: JwtSvidHeader
  readonly token: string
}

/**
 * A parsed JWT-SVID. Made by {@link parseAndValidateJwtSvid} (signature, audience and times checked)
 * or by {@link parseJwtSvidInsecure} (nothing checked beyond the token's shape).
 */
export class JwtSvid {
  readonly #fields: JwtSvidFields

  /** @internal use {@link parseAndValidateJwtSvid} */
  constructor(token: symbol, fields: JwtSvidFields) {
    if (token !== CONSTRUCT) throw new TypeError('use parseAndValidateJwtSvid() to create a JwtSvid')
    this.#fields = fields
  }

  /** The subject (`sub`). */
  get id(): SpiffeId {
    return this.#fields.id
  }

  /** The `aud` claim as a list (a single string `aud` becomes a list of one). */
  get audience(): readonly string[] {
    return this.#fields.audience
  }

  /** From `exp`. */
  get expiresAt(): Date {
    return new Date(this.#fields.expSeconds * 1000)
  }

  /** From `iat`, or undefined when the token has none. */
  get issuedAt(): Date | undefined {
    const iat = this.#fields.iatSeconds
    return iat === undefined ? undefined : new Date(iat * 1000)
  }

  /** Every claim of the payload as it was sent (frozen). */
  get claims(): Readonly<Record<string, unknown>> {
    return this.#fields.claims
  }

  /** The protected header as it was sent (frozen). */
  get header(): JwtSvidHeader {
    return this.#fields.header
  }

  /** The compact token; a bearer credential, never to be logged. */
  get token(): string {
    return this.#fields.token
  }

  /** A loggable summary; leaves the token out on purpose: tokens are never logged. */
  toJSON(): { spiffeId: string; audience: readonly string[]; expiresAt: string } {
    return { spiffeId: this.id.toString(), audience: this.audience, expiresAt: this.expiresAt.toISOString() }
  }
}

/** A JWT-SVID signing key: the private key and the key ID its public half has in the bundle. */
export interface JwtSvidSigningKey {
  readonly kid: string
  readonly privateKey: KeyObject
}

export interface SignJwtSvidParams {
  /** The workload's ID (`sub`); must be a leaf ID, not a trust domain's root ID. */
  readonly spiffeId: SpiffeId
  /** The `aud` values, at least one, none empty; put into the token exactly as given (JWT-08). */
  readonly audience: readonly string[]
  /** Lifetime from `now`, a positive whole number of seconds. */
  readonly ttlSeconds: number
  readonly key: JwtSvidSigningKey
  /** Defaults from the key: ES256 for P-256, ES384 for P-384, RS256 for RSA. */
  readonly alg?: JwtSvidSigningAlgorithm
  /** The issuer's clock; defaults to the current time. */
  readonly now?: Date
  /** Latest expiry allowed (e.g. the signing key's own end of life); `exp` is capped to it. */
  readonly expiresAt?: Date
}

export interface SignedJwtSvid {
  readonly token: string
  /** From `iat`. */
  readonly issuedAt: Date
  /** From `exp`. */
  readonly expiresAt: Date
}

interface SigningSetup {
  readonly alg: JwtSvidSigningAlgorithm
  /** base64url of the header followed by the `.` of the signing input. */
  readonly headerPart: string
}

// Checking the key against the algorithm and encoding the header happen once per key, kid and alg.
const signingSetups = new WeakMap<KeyObject, Map<string, SigningSetup>>()

/**
 * Signs a JWT-SVID for `spiffeId`: header exactly `{alg, kid, typ: "JWT"}` (JWT-SVID.md §2, kid
 * always set for go-spiffe/SPIRE), claims `sub`, `aud` (always an array), `exp` and `iat` as JSON
 * numbers, `iat` the issuer's current second rounded down so it is never ahead of its clock.
 * @throws SpiffeError `INVALID_MINT_REQUEST` for a root ID, no or an empty audience, a TTL that is
 * not a positive whole number of seconds, a cap at or before `now`, a key without kid, a key that
 * is not a private key of a type that makes `alg`; `INVALID_SPIFFE_ID`/`INVALID_TRUST_DOMAIN` for an
 * ID too long to issue.
 */
export function signJwtSvid(params: SignJwtSvidParams): SignedJwtSvid {
  const { spiffeId, audience, ttlSeconds, key } = params
  if (spiffeId.isRoot) {
    throw mintError(`JWT-SVIDs are issued only for workload IDs, not for the trust domain ID ${spiffeId.toString()}`)
  }
  assertIssuableId(spiffeId)
  if (audience.length === 0) throw mintError('audience must have at least one value')
  for (const value of audience) {
    if (typeof value !== 'string' || value === '') throw mintError('audience values must not be empty')
  }
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw mintError('TTL must be a positive whole number of seconds')
  }
  const setup = signingSetup(key, params.alg)

  const nowMs = (params.now ?? new Date()).getTime()
  if (!Number.isFinite(nowMs)) throw new TypeError('jwtsvid: now must be a valid date')
  const iat = Math.floor(nowMs / 1000)
  let exp = iat + ttlSeconds
  if (params.expiresAt !== undefined) {
    const cap = Math.floor(params.expiresAt.getTime() / 1000)
    if (!Number.isFinite(cap)) throw new TypeError('jwtsvid: expiresAt must be a valid date')
    if (cap < exp) exp = cap
    if (exp <= iat) throw mintError('expiry cap must be at least one second after the issue time')
  }

  const payload = JSON.stringify({ sub: spiffeId.toString(), aud: audience, exp, iat })
  const signingInput = setup.headerPart + Buffer.from(payload, 'utf8').toString('base64url')
  const signature = jwsSign(setup.alg, key.privateKey, Buffer.from(signingInput, 'latin1'))
  return {
    token: signingInput + '.' + signature.toString('base64url'),
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date(exp * 1000),
  }
}

function signingSetup(key: JwtSvidSigningKey, requested: JwtSvidSigningAlgorithm | undefined): SigningSetup {
  let perKey = signingSetups.get(key.privateKey)
  const cacheKey = `${requested ?? ''} ${key.kid}`
  const cached = perKey?.get(cacheKey)
  if (cached !== undefined) return cached

  if (key.kid === '') throw mintError('signing key must have a key ID (kid)')
  if (key.privateKey.type !== 'private') throw mintError('signing key must be a private key')
  const alg = requested ?? defaultAlgorithmForKey(key.privateKey)
  if (alg === undefined || !SIGNING_ALGORITHMS.has(alg)) {
    throw mintError(
      requested === undefined
        ? 'signing key must be an EC P-256, EC P-384 or RSA key'
        : `algorithm ${String(requested)} is not one of ${[...SIGNING_ALGORITHMS].join(', ')}`,
    )
  }
  const problem = keyAlgorithmProblem(key.privateKey, alg)
  if (problem !== undefined) throw mintError(`signing key does not fit the algorithm: ${problem}`)
  const header = JSON.stringify({ alg, kid: key.kid, typ: 'JWT' })
  const setup: SigningSetup = {
    alg: alg as JwtSvidSigningAlgorithm,
    headerPart: Buffer.from(header, 'utf8').toString('base64url') + '.',
  }
  if (perKey === undefined) {
    perKey = new Map()
    signingSetups.set(key.privateKey, perKey)
  }
  perKey.set(cacheKey, setup)
  return setup
}

export interface ValidateJwtSvidOptions {
  /** The validator's clock; defaults to the current time. */
  readonly now?: Date
  /** Clock skew tolerated on `exp`, `nbf` and `iat`; {@link DEFAULT_JWT_SVID_LEEWAY_SECONDS} if absent. */
  readonly leewaySeconds?: number
}

/**
 * Parses a JWT-SVID and validates it against the bundle of its subject's trust domain and the
 * validator's audience (JWT-SVID.md §4; SPIFFE_Workload_API.md §6.3). Checks, in go-spiffe's order:
 * compact serialization, allowed `alg` (before anything else), `typ`, claim types, `sub` and `exp`
 * present, `sub` a SPIFFE ID, `kid` present, a bundle for `sub`'s trust domain (never another's),
 * a JWT authority with that kid whose key fits `alg`, the signature, `aud` holding one of
 * `audience`, then `nbf`, `exp`, `iat` with `leewaySeconds` of leeway.
 * @param audience the validator's own audience, or several of which the token must name one.
 * @throws SpiffeError `INVALID_JWT_SVID` when the token is malformed (up to and including a missing
 * kid), `JWT_SVID_VERIFICATION_FAILED` when it cannot be trusted or is not for this audience or time.
 * @throws TypeError when `audience` is empty or `leewaySeconds` is negative (a caller bug: an empty
 * expected audience must never mean "any audience").
 */
export function parseAndValidateJwtSvid(
  token: string,
  bundles: BundleSource,
  audience: string | readonly string[],
  options: ValidateJwtSvidOptions = {},
): JwtSvid {
  const expected = typeof audience === 'string' ? [audience] : audience
  if (expected.length === 0 || expected.some((value) => typeof value !== 'string' || value === '')) {
    throw new TypeError('jwtsvid: the expected audience must have at least one value and none empty')
  }
  const leeway = options.leewaySeconds ?? DEFAULT_JWT_SVID_LEEWAY_SECONDS
  if (!(Number.isFinite(leeway) && leeway >= 0)) {
    throw new TypeError('jwtsvid: leewaySeconds must be a finite number of seconds, not negative')
  }

  const parsed = parseToken(token)
  const { header, id } = parsed

  const kid = header.kid
  if (kid === undefined || kid === '') throw invalid('token header missing key id')
  const trustDomain = id.trustDomain
  const bundle = bundleFor(bundles, trustDomain)
  if (bundle === undefined) {
    throw failed(`no bundle found for trust domain ${JSON.stringify(trustDomain.name)}`)
  }
  const authority = bundle.findJwtAuthority(kid)
  if (authority === undefined) {
    throw failed(`no JWT authority ${JSON.stringify(kid)} found for trust domain ${JSON.stringify(trustDomain.name)}`)
  }
  const problem = keyAlgorithmProblem(authority.publicKey, header.alg)
  if (problem !== undefined) {
    throw failed(`JWT authority ${JSON.stringify(kid)} cannot verify this token: ${problem}`)
  }
  let valid: boolean
  let cause: unknown
  try {
    valid = jwsVerify(header.alg, authority.publicKey, parsed.signingInput, parsed.signature)
  } catch (err) {
    valid = false
    cause = err
  }
  if (!valid) {
    throw failed(`token signature does not verify with JWT authority ${JSON.stringify(kid)}`, cause)
  }

  const aud = parsed.audience
  if (!aud.some((value) => expected.includes(value))) {
    throw failed(`expected audience in ${goQuoteList(expected)} (audience=${goQuoteList(aud)})`)
  }
  const nowMs = (options.now ?? new Date()).getTime()
  if (!Number.isFinite(nowMs)) throw new TypeError('jwtsvid: now must be a valid date')
  const now = nowMs / 1000
  if (parsed.nbf !== undefined && now + leeway < parsed.nbf) throw failed('token is not valid yet (nbf)')
  if (now - leeway > parsed.exp) throw failed('token has expired')
  if (parsed.iat !== undefined && now + leeway < parsed.iat) throw failed('token was issued in the future (iat)')

  return parsed.toJwtSvid(token)
}

/**
 * Parses a JWT-SVID without checking its signature, audience or times: for tooling that shows a
 * token, never for deciding whom to trust. Checks the same shape rules as
 * {@link parseAndValidateJwtSvid} up to `sub` being a SPIFFE ID (a missing kid is allowed).
 * @throws SpiffeError `INVALID_JWT_SVID` naming the broken rule.
 */
export function parseJwtSvidInsecure(token: string): JwtSvid {
  return parseToken(token).toJwtSvid(token)
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

/** Largest NumericDate a Date can hold, in seconds. */
const MAX_NUMERIC_DATE = 8.64e12

class ParsedToken {
  constructor(
    readonly header: JwtSvidHeader,
    readonly claims: Record<string, unknown>,
    readonly id: SpiffeId,
    readonly audience: readonly string[],
    readonly exp: number,
    readonly nbf: number | undefined,
    readonly iat: number | undefined,
    readonly signingInput: Buffer,
    readonly signature: Buffer,
  ) {}

  toJwtSvid(token: string): JwtSvid {
    return new JwtSvid(CONSTRUCT, {
      id: this.id,
      audience: Object.freeze(this.audience),
      expSeconds: this.exp,
      iatSeconds: this.iat,
      claims: deepFreeze(this.claims),
      header: deepFreeze(this.header),
      token,
    })
  }
}

/** The shape checks shared by validation and insecure parsing, in go-spiffe's order. */
function parseToken(token: string): ParsedToken {
  if (typeof token !== 'string') throw unparsable('token must be a string')
  // JWT-SVIDs are compact JWS only (JWT-SVID.md §1, §5.1): a JSON serialization is refused here.
  const dot1 = token.indexOf('.')
  const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1)
  if (dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) {
    throw unparsable('token must be in JWS compact serialization (three dot-separated parts)')
  }
  const headerPart = token.slice(0, dot1)
  const payloadPart = token.slice(dot1 + 1, dot2)
  const signaturePart = token.slice(dot2 + 1)
  if (!isBase64url(headerPart, false) || !isBase64url(payloadPart, false) || !isBase64url(signaturePart, true)) {
    throw unparsable('token parts must be unpadded base64url')
  }

  const header = decodeJson(headerPart)
  if (header === undefined) throw unparsable('header must be a JSON object')
  // The algorithm is checked before anything else is looked at (JWT-SVID.md §4).
  if (!isJwtSvidAlgorithm(header.alg)) {
    throw unparsable(`algorithm ${JSON.stringify(header.alg) ?? 'undefined'} is not allowed for JWT-SVIDs`)
  }
  if (header.kid !== undefined && typeof header.kid !== 'string') throw unparsable('header kid must be a string')
  if (header.crit !== undefined) throw unparsable('critical header parameters are not supported')
  if (Object.hasOwn(header, 'typ') && header.typ !== 'JWT' && header.typ !== 'JOSE') {
    throw invalid('token header type not equal to either JWT or JOSE')
  }

  const claims = decodeJson(payloadPart)
  if (claims === undefined) throw claimsError('payload must be a JSON object')
  for (const name of ['iss', 'sub', 'jti'] as const) {
    const value = claims[name]
    if (value !== undefined && value !== null && typeof value !== 'string') throw claimsError(`${name} must be a string`)
  }
  const audience = readAudience(claims.aud)
  const exp = readNumericDate(claims, 'exp')
  const nbf = readNumericDate(claims, 'nbf')
  const iat = readNumericDate(claims, 'iat')

  const sub = claims.sub
  if (typeof sub !== 'string' || sub === '') throw invalid('token missing subject claim')
  if (exp === undefined) throw invalid('token missing exp claim')
  let id: SpiffeId
  try {
    id = parseSpiffeId(sub)
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^spiffeid: /, '') : String(err)
    throw invalid(`token has an invalid subject claim: ${reason}`, err)
  }

  return new ParsedToken(
    header as JwtSvidHeader,
    claims,
    id,
    audience,
    exp,
    nbf,
    iat,
    Buffer.from(token.slice(0, dot2), 'latin1'),
    Buffer.from(signaturePart, 'base64url'),
  )
}

function isBase64url(part: string, mayBeEmpty: boolean): boolean {
  if (part.length === 0) return mayBeEmpty
  // A length of 4n+1 cannot come from unpadded base64url.
  return part.length % 4 !== 1 && BASE64URL.test(part)
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

/** `aud` per RFC 7519 §4.1.3: one string or an array of strings; absent or null is no audience. */
function readAudience(aud: unknown): readonly string[] {
  if (aud === undefined || aud === null) return []
  if (typeof aud === 'string') return [aud]
  if (Array.isArray(aud) && aud.every((value) => typeof value === 'string')) return aud as string[]
  throw claimsError('aud must be a string or an array of strings')
}

/** A NumericDate claim (RFC 7519 §2: a JSON number of seconds), or undefined when absent or null. */
function readNumericDate(claims: Record<string, unknown>, name: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = claims[name]
  if (value === undefined || value === null) return undefined
  // JSON.parse turns 1e400 into Infinity; such a date is as malformed as a string.
  if (typeof value !== 'number' || !(Math.abs(value) <= MAX_NUMERIC_DATE)) {
    throw claimsError(`${name} must be a number of seconds (NumericDate)`)
  }
  return value
}

/** Formats a list as Go's `%q` does (`["a" "b"]`), so audience errors read as go-spiffe's. */
function goQuoteList(values: readonly string[]): string {
  return '[' + values.map((value) => JSON.stringify(value)).join(' ') + ']'
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const member of Object.values(value)) deepFreeze(member)
  }
  return value
}

function mintError(rule: string): SpiffeError {
  return new SpiffeError('INVALID_MINT_REQUEST', `jwtsvid: ${rule}`)
}

function invalid(rule: string, cause?: unknown): SpiffeError {
  return new SpiffeError('INVALID_JWT_SVID', `jwtsvid: ${rule}`, cause === undefined ? undefined : { cause })
}

function unparsable(rule: string): SpiffeError {
  return invalid(`unable to parse JWT token: ${rule}`)
}

function claimsError(rule: string): SpiffeError {
  return invalid(`unable to get claims from token: ${rule}`)
}

function failed(rule: string, cause?: unknown): SpiffeError {
  return new SpiffeError('JWT_SVID_VERIFICATION_FAILED', `jwtsvid: ${rule}`, cause === undefined ? undefined : { cause })
}
