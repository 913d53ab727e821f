import { constants, createPublicKey, sign, verify } from 'node:crypto'
import type { JsonWebKey, KeyObject } from 'node:crypto'
import { SpiffeError } from './errors.js'

/**
 * The JWS algorithms a JWT-SVID may use (JWT-SVID.md §2.1, Appendix A), the key each one needs,
 * and the raw sign/verify primitives behind them. Plain node:crypto: on the token hot path this is
 * several times faster than a general JOSE library (PLATFORM.md, "speed facts").
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

/**
 * The public key of a JWK; members other than the key material (`kid`, `use`, `alg`) are ignored.
 * @throws SpiffeError `INVALID_BUNDLE` when the JWK holds private members or is not a valid public
 * key (node:crypto's own error as `cause`).
 */
export function publicKeyFromJwk(jwk: JsonWebKey): KeyObject {
  if ('d' in jwk) throw new SpiffeError('INVALID_BUNDLE', 'jwk: a public key must not hold private key members')
  try {
    return createPublicKey({ key: jwk, format: 'jwk' })
  } catch (err) {
    throw new SpiffeError('INVALID_BUNDLE', 'jwk: not a valid public key', { cause: err })
  }
}
