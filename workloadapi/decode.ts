import { createPrivateKey } from 'node:crypto'
import {
  Bundle,
  BundleSet,
  SpiffeError,
  parseSpiffeId,
  parseTrustDomain,
  publicKeyFromJwkMembers,
  splitDerSequence,
  type JwtAuthority,
  type SpiffeId,
} from '../spiffe/index.js'

/**
 * Workload API responses (as @grpc/proto-loader hands them over with `keepCase`) turned into our
 * types. A message that breaks a rule is refused as a whole, as go-spiffe does: a client must not
 * act on a partial view (SPIFFE_Workload_API.md §4.4, §4.5).
 */

/** An X509-SVID as received: parsed enough to use, not verified against a bundle. */
export interface WorkloadX509Svid {
  readonly id: SpiffeId
  /** DER certificates, leaf first, then any intermediates. */
  readonly certificatesDer: readonly Uint8Array[]
  /** The leaf's private key, unencrypted PKCS#8 DER. */
  readonly privateKeyDer: Uint8Array
  /** Operator label, `''` when none. */
  readonly hint: string
}

/** Everything FetchX509SVID sends: the caller's SVIDs and the bundles to verify peers with. */
export interface X509Context {
  /** One per identity; the first is the default identity (SPIFFE_Workload_API.md §8). */
  readonly svids: readonly WorkloadX509Svid[]
  /** X.509 bundles of the SVIDs' own trust domains and of federated ones. */
  readonly bundles: BundleSet
  /** DER CRLs, usually none. */
  readonly crls: readonly Uint8Array[]
}

/** A JWT-SVID as received from FetchJWTSVID (not verified). */
export interface WorkloadJwtSvid {
  readonly id: SpiffeId
  /** The token, JWS compact serialization. */
  readonly token: string
  readonly hint: string
}

/** The answer of ValidateJWTSVID: the token's subject and its claims as plain JSON values. */
export interface JwtSvidValidation {
  readonly id: SpiffeId
  readonly claims: Readonly<Record<string, unknown>>
}

export interface X509SvidMessage {
  spiffe_id?: string
  x509_svid?: Uint8Array
  x509_svid_key?: Uint8Array
  bundle?: Uint8Array
  hint?: string
}
export interface X509SvidResponseMessage {
  svids?: X509SvidMessage[]
  crl?: Uint8Array[]
  federated_bundles?: Record<string, Uint8Array>
}
export interface X509BundlesResponseMessage {
  crl?: Uint8Array[]
  bundles?: Record<string, Uint8Array>
}
export interface JwtSvidResponseMessage {
  svids?: { spiffe_id?: string; svid?: string; hint?: string }[]
}
export interface JwtBundlesResponseMessage {
  bundles?: Record<string, Uint8Array>
}
export interface ValidateJwtSvidResponseMessage {
  spiffe_id?: string
  claims?: StructMessage | null
}
export interface StructMessage {
  fields?: Record<string, ValueMessage>
}
export interface ValueMessage {
  kind?: string
  nullValue?: unknown
  numberValue?: number
  stringValue?: string
  boolValue?: boolean
  structValue?: StructMessage | null
  listValue?: { values?: ValueMessage[] } | null
}

function responseError(message: string, cause?: unknown): SpiffeError {
  return new SpiffeError('INVALID_WORKLOAD_API_RESPONSE', `workloadapi: ${message}`, { cause })
}

/**
 * Splits concatenated DER values (certificates) into one copy per value (a copy, because the
 * input is a view into the whole gRPC message).
 * @throws SpiffeError `INVALID_WORKLOAD_API_RESPONSE` naming `what` when the bytes do not split.
 */
export function splitDer(bytes: Uint8Array, what: string): Uint8Array[] {
  try {
    return splitDerSequence(bytes).map((der) => new Uint8Array(der))
  } catch (err) {
    throw responseError(`${what} is not concatenated DER: ${(err as Error).message}`, err)
  }
}

function idFrom(value: string | undefined, what: string): SpiffeId {
  try {
    return parseSpiffeId(value ?? '')
  } catch (err) {
    throw responseError(`${what} is not a valid SPIFFE ID`, err)
  }
}

function x509BundleFrom(key: string, der: Uint8Array, what: string): Bundle {
  let trustDomain
  try {
    trustDomain = parseTrustDomain(key)
  } catch (err) {
    throw responseError(`${what} key ${JSON.stringify(key)} is not a trust domain`, err)
  }
  return new Bundle(trustDomain, { x509Authorities: splitDer(der, `${what} for ${key}`) })
}

function isEmpty(bytes: Uint8Array | undefined): boolean {
  return bytes === undefined || bytes.length === 0
}

/** Keeps the first item of each non-empty hint (SPIFFE_Workload_API.md §5.2.1: hints are unique). */
function firstPerHint<T extends { hint: string }>(items: T[]): T[] {
  const seen = new Set<string>()
  return items.filter((item) => {
    if (item.hint === '') return true
    if (seen.has(item.hint)) return false
    seen.add(item.hint)
    return true
  })
}

/**
 * Decodes an `X509SVIDResponse`. Every SVID needs its ID, chain, key and bundle; the bundle of an
 * SVID's own trust domain comes from its `bundle` field (the first SVID of that trust domain wins)
 * and a federated entry never replaces it.
 * @throws SpiffeError `INVALID_WORKLOAD_API_RESPONSE` naming the broken rule.
 */
export function decodeX509Context(message: X509SvidResponseMessage): X509Context {
  const svids = message.svids ?? []
  if (svids.length === 0) throw responseError('X509-SVID response has no SVIDs')
  const bundles = new BundleSet()
  const decoded = svids.map((svid, i) => {
    const what = `X509-SVID response svids[${i}]`
    if ((svid.spiffe_id ?? '') === '') throw responseError(`${what}.spiffe_id is empty`)
    if (isEmpty(svid.x509_svid)) throw responseError(`${what}.x509_svid is empty`)
    if (isEmpty(svid.x509_svid_key)) throw responseError(`${what}.x509_svid_key is empty`)
    if (isEmpty(svid.bundle)) throw responseError(`${what}.bundle is empty`)
    const id = idFrom(svid.spiffe_id, `${what}.spiffe_id`)
    const certificatesDer = splitDer(svid.x509_svid!, `${what}.x509_svid`)
    const privateKeyDer = Uint8Array.from(svid.x509_svid_key!)
    try {
      createPrivateKey({ key: Buffer.from(privateKeyDer), format: 'der', type: 'pkcs8' })
    } catch (err) {
      throw responseError(`${what}.x509_svid_key is not a PKCS#8 DER private key`, err)
    }
    if (!bundles.has(id.trustDomain)) {
      bundles.add(new Bundle(id.trustDomain, { x509Authorities: splitDer(svid.bundle!, `${what}.bundle`) }))
    }
    return { id, certificatesDer, privateKeyDer, hint: svid.hint ?? '' }
  })
  for (const [key, der] of Object.entries(message.federated_bundles ?? {})) {
    const bundle = x509BundleFrom(key, der, 'X509-SVID response federated_bundles')
    if (!bundles.has(bundle.trustDomain)) bundles.add(bundle)
  }
  return { svids: firstPerHint(decoded), bundles, crls: (message.crl ?? []).map((c) => Uint8Array.from(c)) }
}

/**
 * Decodes an `X509BundlesResponse` into X.509 bundles keyed by trust domain.
 * @throws SpiffeError `INVALID_WORKLOAD_API_RESPONSE` naming the broken rule.
 */
export function decodeX509Bundles(message: X509BundlesResponseMessage): BundleSet {
  const entries = Object.entries(message.bundles ?? {})
  if (entries.length === 0) throw responseError('X509 bundles response has no bundles')
  return new BundleSet(entries.map(([key, der]) => x509BundleFrom(key, der, 'X509 bundles response bundles')))
}

/**
 * Reads a JWK Set of JWT-SVID keys. Keys marked for another use (`use` other than `jwt-svid`) are
 * not JWT authorities and are skipped; every other key needs a `kid` and key members that make a
 * public key (the rules of {@link publicKeyFromJwkMembers}).
 * @throws SpiffeError `INVALID_WORKLOAD_API_RESPONSE` naming the member and the broken rule.
 */
export function jwtBundleFromJwks(key: string, jwksJson: Uint8Array): Bundle {
  const what = `JWT bundle for ${JSON.stringify(key)}`
  let trustDomain
  try {
    trustDomain = parseTrustDomain(key)
  } catch (err) {
    throw responseError(`${what}: key is not a trust domain`, err)
  }
  let jwks: unknown
  try {
    jwks = JSON.parse(Buffer.from(jwksJson).toString('utf8'))
  } catch (err) {
    throw responseError(`${what} is not JSON`, err)
  }
  const keys = (jwks as { keys?: unknown } | null)?.keys
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(keys)) {
    throw responseError(`${what} is not a JWK Set (no "keys" array)`)
  }
  const authorities: JwtAuthority[] = []
  for (const [i, jwk] of (keys as unknown[]).entries()) {
    if (typeof jwk !== 'object' || jwk === null) throw responseError(`${what} keys[${i}] is not an object`)
    const { kid, use } = jwk as { kid?: unknown; use?: unknown }
    if (use !== undefined && use !== 'jwt-svid') continue
    if (typeof kid !== 'string' || kid === '') throw responseError(`${what} keys[${i}] has no kid`)
    const members = jwk as Record<string, unknown>
    const publicKey = publicKeyFromJwkMembers((name) => members[name], `workloadapi: ${what} keys[${i}]`, 'INVALID_WORKLOAD_API_RESPONSE')
    authorities.push({ kid, publicKey })
  }
  try {
    return new Bundle(trustDomain, { jwtAuthorities: authorities })
  } catch (err) {
    throw responseError(`${what} is not a valid bundle`, err)
  }
}

/**
 * Decodes a `JWTBundlesResponse` (JWK Sets keyed by trust domain).
 * @throws SpiffeError `INVALID_WORKLOAD_API_RESPONSE` naming the broken rule.
 */
export function decodeJwtBundles(message: JwtBundlesResponseMessage): BundleSet {
  const entries = Object.entries(message.bundles ?? {})
  if (entries.length === 0) throw responseError('JWT bundles response has no bundles')
  return new BundleSet(entries.map(([key, jwks]) => jwtBundleFromJwks(key, jwks)))
}

/**
 * Decodes a `JWTSVIDResponse`; each JWT-SVID needs its ID and token.
 * @throws SpiffeError `INVALID_WORKLOAD_API_RESPONSE` naming the broken rule.
 */
export function decodeJwtSvids(message: JwtSvidResponseMessage): WorkloadJwtSvid[] {
  const svids = message.svids ?? []
  if (svids.length === 0) throw responseError('JWT-SVID response has no SVIDs')
  const decoded = svids.map((svid, i) => {
    const what = `JWT-SVID response svids[${i}]`
    if ((svid.spiffe_id ?? '') === '') throw responseError(`${what}.spiffe_id is empty`)
    if ((svid.svid ?? '') === '') throw responseError(`${what}.svid is empty`)
    return { id: idFrom(svid.spiffe_id, `${what}.spiffe_id`), token: svid.svid!, hint: svid.hint ?? '' }
  })
  return firstPerHint(decoded)
}

/**
 * Decodes a `ValidateJWTSVIDResponse`. Missing `claims` reads as `{}` (go-spiffe treats the field
 * as optional even though the spec lists it as required).
 * @throws SpiffeError `INVALID_WORKLOAD_API_RESPONSE` naming the broken rule.
 */
export function decodeJwtSvidValidation(message: ValidateJwtSvidResponseMessage): JwtSvidValidation {
  if ((message.spiffe_id ?? '') === '') throw responseError('ValidateJWTSVID response spiffe_id is empty')
  return {
    id: idFrom(message.spiffe_id, 'ValidateJWTSVID response spiffe_id'),
    claims: structToJson(message.claims ?? {}),
  }
}

/** A `google.protobuf.Struct` as proto-loader decodes it (with `oneofs`) → a plain JSON object. */
export function structToJson(struct: StructMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(struct.fields ?? {})) {
    // defineProperty, so a claim named "__proto__" stays an ordinary key.
    Object.defineProperty(out, name, { value: valueToJson(value), enumerable: true, writable: true, configurable: true })
  }
  return out
}

function valueToJson(value: ValueMessage): unknown {
  switch (value.kind) {
    case 'numberValue':
      return value.numberValue
    case 'stringValue':
      return value.stringValue
    case 'boolValue':
      return value.boolValue
    case 'structValue':
      return structToJson(value.structValue ?? {})
    case 'listValue':
      return (value.listValue?.values ?? []).map(valueToJson)
    default:
      // nullValue, or a Value with no kind set, which the JSON mapping also reads as null.
      return null
  }
}
