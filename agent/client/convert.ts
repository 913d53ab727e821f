import { SteepleError, errorMessage, InternalError } from '../../common/errors.js'
import type { RegistrationEntry } from '../../plugins/data-store/types.js'
import { bundleFromMessage as bundleFromProto } from '../../proto/index.js'
import type { Bundle__Output } from '../../proto/generated/steeple/common/v1/Bundle.js'
import type { RegistrationEntry__Output } from '../../proto/generated/steeple/common/v1/RegistrationEntry.js'
import { parseSpiffeId, parseTrustDomain, selectorFromParts, sortSelectors, type Bundle } from '../../spiffe/index.js'

/**
 * Messages of the server's agent API as our `spiffe/` and data-store types. The server only sends
 * what it validated, so a message that does not convert means a broken or foreign server: the
 * error is INTERNAL and names the field.
 */

function invalid(what: string, err: unknown): SteepleError {
  return new InternalError(`serverclient: the server sent an invalid ${what}: ${errorMessage(err)}`, { cause: err })
}

/** A Date from unix seconds carried as a decimal string; undefined for 0. */
export function dateFromUnixSeconds(value: string | number): Date | undefined {
  const seconds = Number(value)
  return seconds === 0 || !Number.isFinite(seconds) ? undefined : new Date(seconds * 1000)
}

/** @throws SteepleError INTERNAL when the message is not a valid bundle. */
export function bundleFromMessage(message: Bundle__Output): Bundle {
  try {
    return bundleFromProto(message)
  } catch (err) {
    throw invalid('bundle', err)
  }
}

/** @throws SteepleError INTERNAL when the message is not a valid entry. */
export function entryFromMessage(m: RegistrationEntry__Output): RegistrationEntry {
  try {
    return Object.freeze({
      id: m.id,
      spiffeId: parseSpiffeId(m.spiffe_id),
      parentId: parseSpiffeId(m.parent_id),
      selectors: Object.freeze(sortSelectors(m.selectors.map((s) => selectorFromParts(s.type, s.value)))),
      x509SvidTtlSeconds: m.x509_svid_ttl,
      jwtSvidTtlSeconds: m.jwt_svid_ttl,
      dnsNames: Object.freeze([...m.dns_names]),
      federatesWith: Object.freeze(m.federates_with.map((td) => parseTrustDomain(td))),
      admin: m.admin,
      downstream: m.downstream,
      expiresAt: dateFromUnixSeconds(m.expires_at),
      hint: m.hint,
      storeSvid: m.store_svid,
      revisionNumber: Number(m.revision_number),
      createdAt: dateFromUnixSeconds(m.created_at) ?? new Date(0),
      owner: m.owner,
      description: m.description,
    })
  } catch (err) {
    throw invalid(`entry "${m.id}"`, err)
  }
}
