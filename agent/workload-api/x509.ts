import type { X509BundlesResponse } from '../../proto/generated/X509BundlesResponse.js'
import type { X509SVIDResponse } from '../../proto/generated/X509SVIDResponse.js'
import type { IdentityCache } from '../manager/types.js'
import type { AttestedCaller } from './caller.js'
import { x509BundlesResponse, x509SvidResponse } from './responses.js'
import type { StreamState } from './stream.js'

/**
 * FetchX509SVID for one caller, now (SPIFFE_Workload_API.md §5.2.1): no matching entry ends the
 * stream with PERMISSION_DENIED (WX-10, WX-11); matching entries whose SVIDs are not minted yet wait
 * for the cache; otherwise the full response, whose sending is the audit record of the identities
 * issued (pid, uid, SPIFFE IDs, entry ids, expiry; never keys).
 */
export function x509SvidState(cache: IdentityCache, caller: AttestedCaller): StreamState<X509SVIDResponse> {
  const identities = cache.identitiesFor(caller.selectors)
  if (identities.entries.length === 0) return { kind: 'deny' }
  const built = x509SvidResponse(identities)
  if (built === undefined) return { kind: 'wait' }
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
 * FetchX509Bundles for one caller, now (§5.2.2): the own trust domain and the federated ones of its
 * entries; PERMISSION_DENIED without any entry (WX-14).
 */
export function x509BundlesState(cache: IdentityCache, caller: AttestedCaller): StreamState<X509BundlesResponse> {
  const identities = cache.identitiesFor(caller.selectors)
  if (identities.entries.length === 0) return { kind: 'deny' }
  const message = x509BundlesResponse(identities)
  if (message === undefined) return { kind: 'wait' }
  return { kind: 'send', message, onSent: () => caller.log.debug('X.509 bundles sent', { trustDomains: Object.keys(message.bundles ?? {}) }) }
}
