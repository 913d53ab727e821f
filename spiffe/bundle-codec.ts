import { X509Certificate } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { Bundle, BundleSet } from './bundle.js'
import type { JwtAuthority } from './bundle.js'
import { SpiffeError } from './errors.js'
import { parseTrustDomain } from './id.js'
import type { TrustDomain } from './id.js'
import { EC_COORDINATE_BYTES, JWK_KEY_TYPES, publicKeyFromJwkMembers } from './jose-keys.js'
import { JsonNumber, JsonSyntaxError, readJson, type JsonObject, type JsonValue } from './strict-json.js'

/**
 * SPIFFE bundles on the wire (SPIFFE_Trust_Domain_and_Bundle.md §4, §5; X509-SVID.md §6;
 * JWT-SVID.md §6) and the Workload API's JWT bundle (SPIFFE_Workload_API.md §6.2.2).
 *
 * Reading follows the spec where it tells a consumer to skip what it cannot use (unknown `kty`,
 * missing or unknown `use`, an x509-svid entry without `x5c`, extra `x5c` values) and go-spiffe
 * everywhere else, so a document that go-spiffe rejects for a broken key is rejected here too.
 * Writing produces what go-spiffe (go-jose) reads: every JWK with its key members, one `x5c` value
 * per CA, a `kid` on every JWT key, `"keys"` always present.
 *
 * Every reading error is a SpiffeError `INVALID_BUNDLE` whose message names the member and the rule
 * it breaks (`spiffebundle: keys[2].x5c[0]: must be ...`); errors of node:crypto (OpenSSL's text)
 * are kept only as `cause`, since operators see these messages and agents stop on them.
 */

const X509_SVID_USE = 'x509-svid'
const JWT_SVID_USE = 'jwt-svid'
/** go-spiffe and SPIRE hold the sequence in a uint64. */
const MAX_SEQUENCE_NUMBER = 2n ** 64n - 1n

// ---------------------------------------------------------------------------------------------
// Reading

function invalid(context: string, rule: string, cause?: unknown): SpiffeError {
  return new SpiffeError('INVALID_BUNDLE', `${context}: ${rule}`, cause === undefined ? undefined : { cause })
}

/** Reads a JSON object document; `duplicateRule` may give a duplicate member a specific message. */
function readDocument(
  json: string | Uint8Array,
  context: string,
  duplicateRule?: (err: JsonSyntaxError) => string | undefined,
): JsonObject {
  let doc: JsonValue
  try {
    doc = readJson(json)
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err
    throw invalid(context, duplicateRule?.(err) ?? `invalid JSON: ${err.message}`, err)
  }
  if (!(doc instanceof Map)) throw invalid(context, 'document must be a JSON object')
  return doc
}

/** The member `name` of the JWK at `where` as a string, or undefined when absent or null. */
function optionalString(obj: JsonObject, name: string, where: string): string | undefined {
  const value = obj.get(name)
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw invalid(`${where}.${name}`, 'must be a string')
  return value
}

/** Decodes padded standard base64 (RFC 4648 §4), accepting only the canonical encoding. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64')
  return bytes.toString('base64') === text ? bytes : undefined
}

/** The public key of the JWK at `where` (its key members, read by the rules of jose-keys). */
function readJwkPublicKey(obj: JsonObject, where: string): KeyObject {
  return publicKeyFromJwkMembers((name) => obj.get(name), where)
}

function isSingleDerSequence(der: Uint8Array): boolean {
  if (der.length < 2 || der[0] !== 0x30) return false
  const first = der[1]!
  if (first < 0x80) return 2 + first === der.length
  const lengthBytes = first & 0x7f
  if (lengthBytes === 0 || lengthBytes > 4 || der.length < 2 + lengthBytes) return false
  let length = 0
  for (let i = 0; i < lengthBytes; i++) length = length * 256 + der[2 + i]!
  return 2 + lengthBytes + length === der.length
}

/** A CA certificate of a bundle and its public key. */
export interface CaCertificate {
  readonly certificate: X509Certificate
  readonly publicKey: KeyObject
}

/**
 * Parses one DER X.509 certificate that must be a CA (basic constraints cA=true, X509-SVID.md §4.1)
 * with a public key node:crypto can load. Shared by the JSON and PEM readers and the writers.
 * @throws SpiffeError `INVALID_BUNDLE` `<context>: <rule>`; `context` names where the bytes came
 *   from (`spiffebundle: keys[0].x5c[0]`, `x509bundle: certificate 1`).
 */
export function parseCaCertificate(der: Uint8Array, context: string): CaCertificate {
  const rule = 'must be exactly one DER-encoded X.509 certificate'
  // OpenSSL ignores bytes after the certificate; Go's parser does not, so neither do we.
  if (!isSingleDerSequence(der)) throw invalid(context, rule)
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(der)
  } catch (cause) {
    throw invalid(context, rule, cause)
  }
  let publicKey: KeyObject
  try {
    // OpenSSL reads the key only here, so a certificate with a broken key (an EC point off its
    // curve) parses above and fails now.
    publicKey = certificate.publicKey
  } catch (cause) {
    throw invalid(context, 'certificate must hold a well-formed public key', cause)
  }
  if (!certificate.ca) throw invalid(context, 'must be a CA certificate (basic constraints cA=true)')
  return { certificate, publicKey }
}

/** The DER CA certificate of an x509-svid JWK, or undefined when it has no `x5c` (X509-SVID.md §6.2). */
function readX509Entry(key: JsonObject, where: string): Buffer | undefined {
  const x5c = key.get('x5c')
  if (x5c === undefined || x5c === null) return undefined
  if (!Array.isArray(x5c)) throw invalid(`${where}.x5c`, 'must be an array of base64 DER certificates')
  if (x5c.length === 0) return undefined
  // X509-SVID.md §6.2: every value after the first is ignored (go-spiffe rejects the bundle instead).
  const first = x5c[0]
  const at = `${where}.x5c[0]`
  const der = typeof first === 'string' ? decodeBase64Strict(first) : undefined
  if (der === undefined) throw invalid(at, 'must be a padded standard base64 DER X.509 certificate (RFC 7517 §4.7)')
  const ca = parseCaCertificate(der, at)
  const publicKey = readJwkPublicKey(key, where)
  if (!publicKey.equals(ca.publicKey)) throw invalid(at, 'certificate public key must be the key the JWK members describe')
  return der
}

function readKid(key: JsonObject, where: string, seen: Set<string>): string {
  const kid = optionalString(key, 'kid', where)
  if (kid === undefined || kid === '') throw invalid(`${where}.kid`, 'must be a non-empty string on a JWT key')
  if (seen.has(kid)) throw invalid(`${where}.kid`, `must be unique in the bundle, ${JSON.stringify(kid)} is repeated`)
  seen.add(kid)
  return kid
}

function readKeys(doc: JsonObject, context: string): JsonValue[] {
  const keys = doc.get('keys')
  // go-spiffe says "no authorities found" here; §4.1.3 says `keys` MUST be present.
  if (keys === undefined || keys === null) throw invalid(`${context}: keys`, 'must be present')
  if (!Array.isArray(keys)) throw invalid(`${context}: keys`, 'must be an array')
  return keys
}

/** The JWK at `keys[index]`, or undefined for a key type we skip (§4.2.1). */
function readJwk(value: JsonValue, where: string): JsonObject | undefined {
  if (!(value instanceof Map)) throw invalid(where, 'must be a JSON object')
  const kty = optionalString(value, 'kty', where)
  if (kty === undefined) throw invalid(`${where}.kty`, 'must be present')
  return JWK_KEY_TYPES.has(kty) ? value : undefined
}

function readSequenceNumber(value: JsonValue | undefined, context: string): bigint | undefined {
  // A JSON null reads as absent, as it does for go-spiffe.
  if (value === undefined || value === null) return undefined
  const fail = (): SpiffeError => invalid(`${context}: spiffe_sequence`, 'must be an unsigned 64-bit integer')
  if (!(value instanceof JsonNumber) || !/^(?:0|[1-9][0-9]{0,19})$/.test(value.text)) throw fail()
  const sequenceNumber = BigInt(value.text)
  if (sequenceNumber > MAX_SEQUENCE_NUMBER) throw fail()
  return sequenceNumber
}

function readRefreshHint(value: JsonValue | undefined, context: string): number | undefined {
  if (value === undefined || value === null) return undefined
  const seconds = value instanceof JsonNumber && /^(?:0|[1-9][0-9]*)$/.test(value.text) ? Number(value.text) : NaN
  if (!Number.isSafeInteger(seconds)) {
    throw invalid(`${context}: spiffe_refresh_hint`, 'must be a non-negative integer number of seconds')
  }
  return seconds
}

function bundleFromDocument(trustDomain: TrustDomain, doc: JsonObject, context: string): Bundle {
  const keys = readKeys(doc, context)
  const sequenceNumber = readSequenceNumber(doc.get('spiffe_sequence'), context)
  const refreshHintSeconds = readRefreshHint(doc.get('spiffe_refresh_hint'), context)
  const x509Authorities: Buffer[] = []
  const jwtAuthorities: JwtAuthority[] = []
  const kids = new Set<string>()
  keys.forEach((value, index) => {
    const where = `${context}: keys[${index}]`
    const jwk = readJwk(value, where)
    if (jwk === undefined) return
    const use = optionalString(jwk, 'use', where)
    if (use === X509_SVID_USE) {
      const der = readX509Entry(jwk, where)
      if (der !== undefined && !x509Authorities.some((known) => known.equals(der))) x509Authorities.push(der)
    } else if (use === JWT_SVID_USE) {
      const kid = readKid(jwk, where, kids)
      jwtAuthorities.push({ kid, publicKey: readJwkPublicKey(jwk, where) })
    }
    // A missing or unknown use (wit-svid included: Steeple has no WIT-SVIDs) skips the JWK (§4.2.2).
  })
  return new Bundle(trustDomain, { x509Authorities, jwtAuthorities, sequenceNumber, refreshHintSeconds })
}

/**
 * Parses a SPIFFE bundle (a JWK Set, SPIFFE_Trust_Domain_and_Bundle.md §4) of `trustDomain`.
 * `{"keys":[]}` gives an empty bundle; JWKs with an unknown `kty` or a missing or unknown `use`,
 * and x509-svid JWKs without `x5c`, are skipped. Throws `INVALID_BUNDLE` when `keys` is missing,
 * the JSON is malformed or has duplicate member names, a used JWK is malformed (no `kid` on a JWT
 * key, duplicate `kid`, non-CA or unparseable certificate, key members that do not match `x5c[0]`),
 * or `spiffe_sequence` / `spiffe_refresh_hint` are not non-negative integers.
 */
export function parseSpiffeBundle(trustDomain: TrustDomain, json: string | Uint8Array): Bundle {
  return bundleFromDocument(trustDomain, readDocument(json, 'spiffebundle'), 'spiffebundle')
}

/**
 * Parses a Workload API JWT bundle (SPIFFE_Workload_API.md §6.2.2): a JWK Set of JWT-SVID keys,
 * each with a `kid`; `use` may be absent. Keys with an unknown `kty` are skipped (RFC 7517 §5).
 * Throws `INVALID_BUNDLE` for malformed JSON, a missing `keys`, a key without `kid`, a duplicate
 * `kid`, a key meant for another use (an x509-svid CA), or key members that are not a public key.
 */
export function parseJwtBundleJwks(trustDomain: TrustDomain, json: string | Uint8Array): Bundle {
  const context = 'jwtbundle'
  const keys = readKeys(readDocument(json, context), context)
  const jwtAuthorities: JwtAuthority[] = []
  const kids = new Set<string>()
  keys.forEach((value, index) => {
    const where = `${context}: keys[${index}]`
    const jwk = readJwk(value, where)
    if (jwk === undefined) return
    const kid = readKid(jwk, where, kids)
    const use = optionalString(jwk, 'use', where)
    // RFC 7517's generic "sig" names the same purpose; anything else is a key of another kind.
    if (use !== undefined && use !== JWT_SVID_USE && use !== 'sig') {
      throw invalid(`${where}.use`, 'must be "jwt-svid" or "sig": a JWT bundle holds only JWT-SVID keys')
    }
    jwtAuthorities.push({ kid, publicKey: readJwkPublicKey(jwk, where) })
  })
  return new Bundle(trustDomain, { jwtAuthorities })
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Key members of a public key in the form go-jose reads (INTEROP-06): EC P-256/384/521 or RSA. */
function publishableKeyMembers(key: KeyObject, where: string): Record<string, string> {
  // Exporting a private key as JWK would put `d` on the wire.
  if (key.type !== 'public') throw new TypeError(`${where}: bundles hold public keys only`)
  const jwk = key.export({ format: 'jwk' })
  if (key.asymmetricKeyType === 'ec' && jwk.crv !== undefined && EC_COORDINATE_BYTES.has(jwk.crv)) {
    return { kty: 'EC', crv: jwk.crv, x: jwk.x!, y: jwk.y! }
  }
  if (key.asymmetricKeyType === 'rsa') return { kty: 'RSA', n: jwk.n!, e: jwk.e! }
  throw invalid(where, 'key must be EC P-256, P-384, P-521 or RSA to be published')
}

function x509AuthorityJwk(der: Uint8Array, index: number, context: string): string {
  const where = `${context}: X.509 authority ${index}`
  const { publicKey } = parseCaCertificate(der, where)
  return JSON.stringify({
    use: X509_SVID_USE,
    ...publishableKeyMembers(publicKey, where),
    x5c: [Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')],
  })
}

function jwtAuthorityJwk(authority: JwtAuthority, use: string | undefined, context: string): string {
  const { kty, ...members } = publishableKeyMembers(authority.publicKey, `${context}: JWT authority ${JSON.stringify(authority.kid)}`)
  return JSON.stringify(use === undefined ? { kty, kid: authority.kid, ...members } : { use, kty, kid: authority.kid, ...members })
}

function spiffeBundleJson(
  bundle: Bundle,
  refreshHintSeconds: number | undefined,
  sequenceNumber: bigint | undefined,
  context: string,
): string {
  if (sequenceNumber !== undefined && sequenceNumber > MAX_SEQUENCE_NUMBER) {
    throw invalid(context, 'sequence number must fit in an unsigned 64-bit integer')
  }
  const keys = [
    ...bundle.x509Authorities.map((der, index) => x509AuthorityJwk(der, index, context)),
    ...[...bundle.jwtAuthorities.values()].map((authority) => jwtAuthorityJwk(authority, JWT_SVID_USE, context)),
  ]
  let json = `{"keys":[${keys.join(',')}]`
  if (refreshHintSeconds !== undefined) json += `,"spiffe_refresh_hint":${refreshHintSeconds}`
  // Written by hand: JSON.stringify cannot print a bigint, and a number would round past 2^53.
  if (sequenceNumber !== undefined) json += `,"spiffe_sequence":${sequenceNumber.toString()}`
  return `${json}}`
}

/** Values that replace the bundle's own when encoding. */
export interface SpiffeBundleEncodeOptions {
  /** `spiffe_refresh_hint` in whole seconds instead of the bundle's. */
  refreshHintSeconds?: number
  /** `spiffe_sequence` instead of the bundle's. */
  sequenceNumber?: bigint
}

/**
 * Encodes a bundle as a SPIFFE bundle JWK Set (SPIFFE_Trust_Domain_and_Bundle.md §4): `keys` is
 * always present; one x509-svid JWK per CA with its key members and exactly one `x5c`, no `kid`;
 * one jwt-svid JWK per JWT key with `kid` and key members only; `spiffe_refresh_hint` and
 * `spiffe_sequence` when known. Throws `INVALID_BUNDLE` for a non-CA authority, a key type go-jose
 * cannot read, or a sequence number outside the unsigned 64-bit range.
 */
export function encodeSpiffeBundle(bundle: Bundle, options: SpiffeBundleEncodeOptions = {}): string {
  const refreshHintSeconds = options.refreshHintSeconds ?? bundle.refreshHintSeconds
  const sequenceNumber = options.sequenceNumber ?? bundle.sequenceNumber
  // The Bundle constructor holds the rules for both values.
  const checked = bundle.with({ refreshHintSeconds, sequenceNumber })
  return spiffeBundleJson(checked, refreshHintSeconds, sequenceNumber, 'spiffebundle')
}

/**
 * Encodes the JWT keys of a bundle as a Workload API JWT bundle (SPIFFE_Workload_API.md §6.2.2):
 * `{"keys":[...]}` with `kty`, `kid` and key members; X.509 authorities are left out. `use` is
 * omitted (as SPIRE does) because JWKS readers such as jose skip keys whose `use` is not `sig`.
 */
export function encodeJwtBundleJwks(bundle: Bundle): string {
  const keys = [...bundle.jwtAuthorities.values()].map((authority) => jwtAuthorityJwk(authority, undefined, 'jwtbundle'))
  return `{"keys":[${keys.join(',')}]}`
}

// ---------------------------------------------------------------------------------------------
// Bundle maps (SPIFFE_Trust_Domain_and_Bundle.md §5)

/**
 * Encodes bundles as a SPIFFE bundle map `{"trust_domains":{"<name>":<bundle>,...}}`, sorted by
 * trust domain name, each bundle without its refresh hint (§5.1.1). Throws `INVALID_BUNDLE` when
 * two bundles share a trust domain, or as {@link encodeSpiffeBundle}.
 */
export function encodeBundleMap(bundles: Iterable<Bundle>): string {
  const byName = new Map<string, Bundle>()
  for (const bundle of bundles) {
    const name = bundle.trustDomain.name
    if (byName.has(name)) throw invalid('bundlemap', `duplicate trust domain ${JSON.stringify(name)}`)
    byName.set(name, bundle)
  }
  const members = [...byName.keys()].sort().map((name) => {
    const bundle = byName.get(name)!
    const context = `bundlemap: trust domain ${JSON.stringify(name)}`
    return `${JSON.stringify(name)}:${spiffeBundleJson(bundle, undefined, bundle.sequenceNumber, context)}`
  })
  return `{"trust_domains":{${members.join(',')}}}`
}

/**
 * Parses a SPIFFE bundle map (§5.1): `trust_domains` must be present (may be empty) and keyed by
 * trust domain names (not `spiffe://` IDs). Member refresh hints are dropped, since they must not
 * drive the map's refresh schedule. Throws `INVALID_BUNDLE` for a duplicate trust domain (§6.3),
 * an invalid name, or an invalid member bundle.
 */
export function parseBundleMap(json: string | Uint8Array): BundleSet {
  const context = 'bundlemap'
  const doc = readDocument(json, context, (err) =>
    err.duplicateName !== undefined && err.path.length === 1 && err.path[0] === 'trust_domains'
      ? `duplicate trust domain ${JSON.stringify(err.duplicateName)}`
      : undefined,
  )
  const members = doc.get('trust_domains')
  if (!(members instanceof Map)) throw invalid(`${context}: trust_domains`, 'must be present and be a JSON object')
  const bundles = new BundleSet()
  for (const [name, value] of members) {
    const where = `${context}: trust domain ${JSON.stringify(name)}`
    let trustDomain: TrustDomain | undefined
    try {
      trustDomain = parseTrustDomain(name)
    } catch (cause) {
      throw invalid(where, 'key must be a trust domain name', cause)
    }
    if (trustDomain.name !== name) throw invalid(where, 'key must be a trust domain name, not a SPIFFE ID')
    if (!(value instanceof Map)) throw invalid(where, 'bundle must be a JSON object')
    bundles.add(bundleFromDocument(trustDomain, value, where).with({ refreshHintSeconds: undefined }))
  }
  return bundles
}
