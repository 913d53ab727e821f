import { constants, createPublicKey, sign, verify } from 'node:crypto'
import type { JsonWebKey, KeyObject } from 'node:crypto'
import { SpiffeError, type SpiffeErrorCode } from './errors.js'

/**
 * The JWS algorithms a JWT-SVID may use (JWT-SVID.md §2.1, Appendix A), the key each one needs,
 * and the raw sign/verify primitives behind them. Plain node:crypto: on the token hot path this is
 * several times faster than a general JOSE library (measured on one core: about 16,000 against
 * 3,200 ES256 JWTs per second).
 */

/** A JWS `alg` allowed for JWT-SVIDs (JWT-SVID.md §2.1). */
export type JwtSvidAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'PS256'
  | 'PS384'
  | 'PS512'

interface AlgorithmParams {
  readonly hash: 'sha256' | 'sha384' | 'sha512'
  readonly family: 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss'
  /** ES*: the OpenSSL curve name the key must be on. */
  readonly curve?: string
  /** ES*: length of the raw `r‖s` signature in bytes. */
  readonly signatureBytes?: number
  /** PS*: salt length in bytes, equal to the hash output (RFC 7518 §3.5). */
  readonly saltLength?: number
}

const ALGORITHMS: ReadonlyMap<string, AlgorithmParams> = new Map<JwtSvidAlgorithm, AlgorithmParams>([
  ['RS256', { hash: 'sha256', family: 'rsa-pkcs1' }],
  ['RS384', { hash: 'sha384', family: 'rsa-pkcs1' }],
  ['RS512', { hash: 'sha512', family: 'rsa-pkcs1' }],
  ['ES256', { hash: 'sha256', family: 'ecdsa', curve: 'prime256v1', signatureBytes: 64 }],
  ['ES384', { hash: 'sha384', family: 'ecdsa', curve: 'secp384r1', signatureBytes: 96 }],
  ['ES512', { hash: 'sha512', family: 'ecdsa', curve: 'secp521r1', signatureBytes: 132 }],
  ['PS256', { hash: 'sha256', family: 'rsa-pss', saltLength: 32 }],
  ['PS384', { hash: 'sha384', family: 'rsa-pss', saltLength: 48 }],
  ['PS512', { hash: 'sha512', family: 'rsa-pss', saltLength: 64 }],
])

/** Every allowed `alg`, in the order JWT-SVID.md Appendix A lists them. */
export const JWT_SVID_ALGORITHMS: readonly JwtSvidAlgorithm[] = Object.freeze([...ALGORITHMS.keys()] as JwtSvidAlgorithm[])

/** Smallest RSA modulus we sign or verify with, in bits (RFC 7518 §3.3 requires 2048). */
export const MIN_RSA_MODULUS_BITS = 2048

/** True when `alg` is one of the nine JWT-SVID algorithms (`none`, `HS*`, `EdDSA` are not). */
export function isJwtSvidAlgorithm(alg: unknown): alg is JwtSvidAlgorithm {
  return typeof alg === 'string' && ALGORITHMS.has(alg)
}

interface KeyFacts {
  readonly type: string | undefined
  readonly curve: string | undefined
  readonly modulusBits: number | undefined
}

// KeyObject getters cross into C++ on every read; a bundle key is looked at on every validation.
const keyFacts = new WeakMap<KeyObject, KeyFacts>()

function factsOf(key: KeyObject): KeyFacts {
  let facts = keyFacts.get(key)
  if (facts === undefined) {
    const details = key.type === 'secret' ? undefined : key.asymmetricKeyDetails
    facts = { type: key.asymmetricKeyType, curve: details?.namedCurve, modulusBits: details?.modulusLength }
    keyFacts.set(key, facts)
  }
  return facts
}

/**
 * Why `key` cannot make or check `alg` signatures, or undefined when it can: ES256/384/512 need an
 * EC key on P-256/P-384/P-521, RS* and PS* an RSA key of at least {@link MIN_RSA_MODULUS_BITS} bits.
 */
export function keyAlgorithmProblem(key: KeyObject, alg: JwtSvidAlgorithm): string | undefined {
  const params = ALGORITHMS.get(alg)
  if (params === undefined) return `algorithm ${alg} is not allowed`
  const facts = factsOf(key)
  if (params.family === 'ecdsa') {
    if (facts.type !== 'ec' || facts.curve !== params.curve) return `${alg} needs an EC ${curveName(params.curve)} key`
    return undefined
  }
  if (facts.type !== 'rsa') return `${alg} needs an RSA key`
  if ((facts.modulusBits ?? 0) < MIN_RSA_MODULUS_BITS) return `${alg} needs an RSA key of at least ${MIN_RSA_MODULUS_BITS} bits`
  return undefined
}

function curveName(curve: string | undefined): string {
  switch (curve) {
    case 'prime256v1':
      return 'P-256'
    case 'secp384r1':
      return 'P-384'
    case 'secp521r1':
      return 'P-521'
    default:
      return String(curve)
  }
}

/**
 * The algorithm a key signs with when none is asked for: ES256 for P-256, ES384 for P-384, ES512 for
 * P-521, RS256 for RSA (as SPIRE does); undefined for any other key.
 */
export function defaultAlgorithmForKey(key: KeyObject): JwtSvidAlgorithm | undefined {
  const facts = factsOf(key)
  if (facts.type === 'rsa') return 'RS256'
  if (facts.type !== 'ec') return undefined
  switch (facts.curve) {
    case 'prime256v1':
      return 'ES256'
    case 'secp384r1':
      return 'ES384'
    case 'secp521r1':
      return 'ES512'
    default:
      return undefined
  }
}

/**
 * Signs `data` (the JWS signing input) with `alg`. ECDSA signatures come out as raw `r‖s` as JWS
 * requires (RFC 7518 §3.4), not DER. The caller has checked the key with {@link keyAlgorithmProblem}.
 */
export function jwsSign(alg: JwtSvidAlgorithm, privateKey: KeyObject, data: Buffer): Buffer {
  const params = paramsOf(alg)
  switch (params.family) {
    case 'ecdsa':
      return sign(params.hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
    case 'rsa-pss':
      return sign(params.hash, data, {
        key: privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: params.saltLength,
      })
    case 'rsa-pkcs1':
      return sign(params.hash, data, privateKey)
  }
}

/**
 * Checks a JWS signature over `data`; false for a wrong signature, including an ECDSA signature that
 * is not exactly the raw `r‖s` length of the curve. The caller has checked the key with
 * {@link keyAlgorithmProblem}.
 */
export function jwsVerify(alg: JwtSvidAlgorithm, publicKey: KeyObject, data: Buffer, signature: Buffer): boolean {
  const params = paramsOf(alg)
  switch (params.family) {
    case 'ecdsa':
      if (signature.length !== params.signatureBytes) return false
      return verify(params.hash, data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
    case 'rsa-pss':
      return verify(
        params.hash,
        data,
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength },
        signature,
      )
    case 'rsa-pkcs1':
      return verify(params.hash, data, publicKey, signature)
  }
}

function paramsOf(alg: JwtSvidAlgorithm): AlgorithmParams {
  const params = ALGORITHMS.get(alg)
  if (params === undefined) throw new TypeError(`jwk: algorithm ${String(alg)} is not a JWT-SVID algorithm`)
  return params
}

/**
 * The public JWK of `key` (a public key, or a private key whose public half is wanted) with `kid`
 * and, when given, `use` (bundles publish JWT authorities with `use: "jwt-svid"`, JWT-SVID.md §6.1).
 * Never contains private members.
 */
export function publicKeyToJwk(key: KeyObject, kid: string, use?: string): JsonWebKey {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  const jwk: JsonWebKey = { ...publicKey.export({ format: 'jwk' }), kid }
  if (use !== undefined) jwk.use = use
  return jwk
}

/** Key types whose public JWKs {@link publicKeyFromJwkMembers} reads; readers skip or refuse others. */
export const JWK_KEY_TYPES: ReadonlySet<string> = new Set(['EC', 'RSA', 'OKP'])

/** Coordinate length in bytes per curve; JWKs must carry them at full length (RFC 7518 §6.2.1.2). */
export const EC_COORDINATE_BYTES: ReadonlyMap<string, number> = new Map([
  ['P-256', 32],
  ['P-384', 48],
  ['P-521', 66],
])

/** Members that only private (or symmetric) JWKs have (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_KEY_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

/** Go's crypto/rsa refuses smaller moduli (Go 1.24), so no go-spiffe peer could use such a key. */
const MIN_JWK_RSA_MODULUS_BITS = 1024
/** Go holds `e` in an int and refuses anything larger (crypto/rsa `checkPub`). */
const MAX_RSA_PUBLIC_EXPONENT = 2 ** 31 - 1

/** Reads one member of a JWK: its JSON value, undefined (or null) when absent. */
export type JwkMembers = (name: string) => unknown

/**
 * The public key that a JWK's key members describe (RFC 7518 §6.2, §6.3; RFC 8037 §2): EC on
 * P-256, P-384 or P-521 with full-length coordinates (go-jose refuses shortened ones), RSA with an
 * odd modulus of at least 1024 bits and an odd exponent from 3 to 2^31-1, or OKP Ed25519. Members
 * other than the key material (`kid`, `use`, `alg`, `x5c`) are not looked at. `where` names the
 * JWK in messages (`spiffebundle: keys[2]`).
 * @throws SpiffeError with `code` (INVALID_BUNDLE unless given) and the message
 *   `<where>.<member>: <rule>`; a node:crypto error is only ever the `cause`.
 */
export function publicKeyFromJwkMembers(member: JwkMembers, where: string, code: SpiffeErrorCode = 'INVALID_BUNDLE'): KeyObject {
  const fail = (path: string, rule: string, cause?: unknown): SpiffeError =>
    new SpiffeError(code, `${where}${path}: ${rule}`, cause === undefined ? undefined : { cause })
  const present = (name: string): boolean => {
    const value = member(name)
    return value !== undefined && value !== null
  }
  const text = (name: string, kty: string): string => {
    const value = member(name)
    if (value === undefined || value === null) throw fail(`.${name}`, `must be present in an ${kty} key`)
    if (typeof value !== 'string') throw fail(`.${name}`, 'must be a string')
    return value
  }
  const bytes = (name: string, kty: string): Buffer => {
    const value = decodeBase64Url(text(name, kty))
    if (value === undefined || value.length === 0) throw fail(`.${name}`, 'must be non-empty unpadded base64url')
    return value
  }

  const privateMember = PRIVATE_KEY_MEMBERS.find(present)
  if (privateMember !== undefined) throw fail(`.${privateMember}`, 'must not be present: a public key holds no private key members')
  const kty = member('kty')
  if (typeof kty !== 'string' || !JWK_KEY_TYPES.has(kty)) throw fail('.kty', 'must be "EC", "RSA" or "OKP"')

  let jwk: JsonWebKey
  // What to say when node:crypto refuses members that passed every check above.
  let refused: { path: string; rule: string }
  if (kty === 'EC') {
    const crv = text('crv', kty)
    const size = EC_COORDINATE_BYTES.get(crv)
    if (size === undefined) throw fail('.crv', 'must be "P-256", "P-384" or "P-521" for an EC key')
    // go-jose refuses shortened coordinates, so a bundle with one fails for every go-spiffe reader.
    const x = bytes('x', kty)
    if (x.length !== size) throw fail('.x', `must be ${size} bytes long for ${crv}`)
    const y = bytes('y', kty)
    if (y.length !== size) throw fail('.y', `must be ${size} bytes long for ${crv}`)
    jwk = { kty, crv, x: x.toString('base64url'), y: y.toString('base64url') }
    refused = { path: '', rule: `x and y must be a point on ${crv}` }
  } else if (kty === 'RSA') {
    const n = bytes('n', kty)
    if (bitLength(n) < MIN_JWK_RSA_MODULUS_BITS || (n[n.length - 1]! & 1) === 0) {
      throw fail('.n', `must be an odd RSA modulus of at least ${MIN_JWK_RSA_MODULUS_BITS} bits`)
    }
    const e = bytes('e', kty)
    const exponent = bitLength(e) > 31 ? Infinity : e.reduce((value, byte) => value * 256 + byte, 0)
    if (exponent < 3 || exponent > MAX_RSA_PUBLIC_EXPONENT || exponent % 2 === 0) {
      throw fail('.e', `must be an odd RSA public exponent from 3 to ${MAX_RSA_PUBLIC_EXPONENT}`)
    }
    jwk = { kty, n: n.toString('base64url'), e: e.toString('base64url') }
    refused = { path: '', rule: 'n and e must be an RSA public key' }
  } else {
    const crv = text('crv', kty)
    if (crv !== 'Ed25519') throw fail('.crv', 'must be "Ed25519" for an OKP key')
    const x = bytes('x', kty)
    if (x.length !== 32) throw fail('.x', 'must be 32 bytes long for Ed25519')
    jwk = { kty, crv, x: x.toString('base64url') }
    refused = { path: '.x', rule: 'must be an Ed25519 public key' }
  }
  try {
    return createPublicKey({ format: 'jwk', key: jwk })
  } catch (cause) {
    throw fail(refused.path, refused.rule, cause)
  }
}

/** Decodes unpadded base64url (RFC 7515 §2), accepting only the canonical encoding. */
function decodeBase64Url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64url')
  return bytes.toString('base64url') === text ? bytes : undefined
}

/** Bits of a big-endian unsigned integer, leading zero octets not counted. */
function bitLength(bytes: Uint8Array): number {
  const first = bytes.findIndex((byte) => byte !== 0)
  return first === -1 ? 0 : (bytes.length - first - 1) * 8 + (32 - Math.clz32(bytes[first]!))
}

/**
 * The public key of a JWK, read by the rules of {@link publicKeyFromJwkMembers}; members other
 * than the key material (`kid`, `use`, `alg`) are ignored.
 * @throws SpiffeError `INVALID_BUNDLE` `jwk.<member>: <rule>` when the JWK holds private members
 *   or its members are not a valid public key (node:crypto's own error as `cause`).
 */
export function publicKeyFromJwk(jwk: JsonWebKey): KeyObject {
  return publicKeyFromJwkMembers((name) => jwk[name], 'jwk')
}
