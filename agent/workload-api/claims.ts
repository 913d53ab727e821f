import type { Struct } from '../../proto/generated/google/protobuf/Struct.js'
import type { Value } from '../../proto/generated/google/protobuf/Value.js'
import type { JwtSvid, TrustDomain } from '../../spiffe/index.js'

/** Claims returned for a token of a foreign trust domain (INTEROP-14, as SPIRE filters them). */
const FOREIGN_CLAIMS: ReadonlySet<string> = new Set(['sub', 'aud', 'exp'])

/**
 * The claims of a validated JWT-SVID as a `google.protobuf.Struct` (WJ-14): all of them for a token
 * of the agent's own trust domain, only `sub`, `aud` and `exp` for a foreign one. `aud` is always a
 * list, even when the token has a single string (INTEROP-14).
 */
export function claimsStruct(svid: JwtSvid, ownTrustDomain: TrustDomain): Struct {
  const foreign = !svid.id.memberOf(ownTrustDomain)
  const kept = Object.entries(svid.claims).filter(([name]) => !foreign || FOREIGN_CLAIMS.has(name))
  // fromEntries defines own properties, so a claim named "__proto__" stays a claim.
  return { fields: Object.fromEntries(kept.map(([name, value]) => [name, toValue(name === 'aud' ? svid.audience : value)])) }
}

/** A JSON value as a `google.protobuf.Value`. */
export function toValue(value: unknown): Value {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' }
  switch (typeof value) {
    case 'string':
      return { stringValue: value }
    case 'number':
      return { numberValue: value }
    case 'boolean':
      return { boolValue: value }
    case 'bigint':
      // Struct numbers are doubles (WORKLOAD_API_WIRE.md §3); this is what a JSON reader would give.
      return { numberValue: Number(value) }
    case 'object':
      if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } }
      return { structValue: { fields: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toValue(v)])) } }
    default:
      throw new TypeError(`claims: ${typeof value} is not a JSON value`)
  }
}
