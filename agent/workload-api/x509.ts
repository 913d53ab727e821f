import type { X509BundlesResponse } from '../../proto/generated/X509BundlesResponse.js'
import type { X509SVIDResponse } from '../../proto/generated/X509SVIDResponse.js'
import type { AgentEntry, IdentityCache } from '../manager/index.js'
import type { AttestedCaller } from './caller.js'
import type { WarnThrottle } from './log-throttle.js'
import { x509BundlesResponse, x509SvidResponse } from './responses.js'
import type { StreamState } from './stream.js'

/**
 * FetchX509SVID for one caller, now (SPIFFE_Workload_API.md §5.2.1): no matching entry ends the
 * stream with PERMISSION_DENIED (WX-10, WX-11); matching entries none of which has a valid SVID
 * make a 'wait' (see {@link noValidSvid}); otherwise the full response, whose sending is the audit
 * record of the identities issued (pid, uid, SPIFFE IDs, entry ids, expiry; never keys). Expired
 * SVIDs are never part of it: the cache leaves them out.
 */
export function x509SvidState(cache: IdentityCache, caller: AttestedCaller, warnings: WarnThrottle): StreamState<X509SVIDResponse> {
  const identities = cache.identitiesFor(caller.selectors)
  if (identities.entries.length === 0) return { kind: 'deny' }
  if (identities.svids.length === 0) return noValidSvid(cache, identities.entries, caller, warnings)
  const built = x509SvidResponse(identities)
  // SVIDs but no X.509 authority of our own yet: the bundle comes with the next sync.
  if (built === undefined) return { kind: 'wait', expected: true }
  return {
    kind: 'send',
    message: built.message,
    onSent: () =>
      caller.log.info('Identity issued', {
        svidType: 'x509',
        spiffeIds: built.svids.map((svid) => svid.spiffeId.toString()),
        entryIds: built.svids.map((svid) => svid.entryId),
        expiresAt: built.svids.map((svid) => svid.notAfter.toISOString()),
      }),
  }
}

/**
 * The caller is entitled (its selectors match entries) but the agent holds no valid X.509-SVID for
 * any of them. This is "no identity right now", not "no identity": a caller is never refused with
 * PERMISSION_DENIED for it (WEP-13 and WX-10 are for callers matching no entry).
 * - With the server unreachable, or signing failing for every one of them, no SVID will come soon:
 *   a new call ends at once with UNAVAILABLE (WEP-12) and the client retries with backoff until it
 *   exists; an open stream stays open, sends nothing (the expired SVID is never sent) and gets the
 *   new SVID as soon as the agent mints one.
 * - Otherwise the SVID is being minted (a new entry, the server just back): the call waits for it,
 *   up to the stream's wait for a first message, then UNAVAILABLE.
 * Why is logged at warn (server unreachable since, expired at, entry ids), at most once per
 * interval per set of entries, so retrying clients do not flood the log.
 */
function noValidSvid(cache: IdentityCache, entries: readonly AgentEntry[], caller: AttestedCaller, warnings: WarnThrottle): StreamState<X509SVIDResponse> {
  const entryIds = entries.map((entry) => entry.id)
  const shortage = cache.svidShortage(entryIds)
  const signingFailing = shortage.entries.every((missing) => missing.signingRetryAt !== undefined)
  const unreachable = shortage.serverUnreachableSince !== undefined
  return {
    kind: 'wait',
    expected: !unreachable && !signingFailing,
    onUnavailable: (outcome) =>
      warnings.warn(caller.log, `x509:${outcome}:${[...entryIds].sort().join(',')}`, 'No valid X.509-SVID for the caller', {
        outcome,
        reason: unreachable ? 'server unreachable' : signingFailing ? 'signing failing' : 'not minted in time',
        serverUnreachableSince: shortage.serverUnreachableSince?.toISOString(),
        entryIds,
        spiffeIds: entries.map((entry) => entry.spiffeId.toString()),
        expiredAt: shortage.entries.map((missing) => missing.expiredAt?.toISOString() ?? null),
        signingRetryAt: shortage.entries.map((missing) => missing.signingRetryAt?.toISOString() ?? null),
      }),
  }
}

/**
 * FetchX509Bundles for one caller, now (§5.2.2): the own trust domain and the federated ones of its
 * entries; PERMISSION_DENIED without any entry (WX-14).
 */
export function x509BundlesState(cache: IdentityCache, caller: AttestedCaller): StreamState<X509BundlesResponse> {
  const identities = cache.identitiesFor(caller.selectors)
  if (identities.entries.length === 0) return { kind: 'deny' }
  const message = x509BundlesResponse(identities)
  if (message === undefined) return { kind: 'wait', expected: true }
  return { kind: 'send', message, onSent: () => caller.log.debug('X.509 bundles sent', { trustDomains: Object.keys(message.bundles ?? {}) }) }
}
