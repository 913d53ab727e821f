import { status } from '@grpc/grpc-js'
import { InvalidArgumentError, SteepleError, errorMessage } from '../../common/errors.js'
import type { JWTBundlesResponse } from '../../proto/generated/JWTBundlesResponse.js'
import type { JWTSVIDRequest__Output } from '../../proto/generated/JWTSVIDRequest.js'
import type { JWTSVIDResponse } from '../../proto/generated/JWTSVIDResponse.js'
import type { ValidateJWTSVIDRequest__Output } from '../../proto/generated/ValidateJWTSVIDRequest.js'
import type { ValidateJWTSVIDResponse } from '../../proto/generated/ValidateJWTSVIDResponse.js'
import {
  BundleSet,
  SpiffeError,
  parseAndValidateJwtSvid,
  parseSpiffeId,
  type JwtSvid,
  type SpiffeId,
} from '../../spiffe/index.js'
import type { AgentEntry, IdentityCache } from '../manager/index.js'
import { identityUnavailable, noIdentity, type AttestedCaller } from './caller.js'
import { claimsStruct } from './claims.js'
import { firstPerHint, jwtBundlesResponse } from './responses.js'
import type { CallContext } from './service.js'
import type { StreamState } from './stream.js'
import { grpcStatusOf } from '../../common/grpc-status.js'

/** Entries in creation order (then id), one per SPIFFE ID: the first is the default identity. */
function identitiesInOrder(entries: readonly AgentEntry[]): AgentEntry[] {
  const sorted = [...entries].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const seen = new Set<string>()
  return sorted.filter((entry) => {
    const id = entry.spiffeId.toString()
    if (seen.has(id)) return false
    seen.add(id)
    return true
  })
}

/**
 * FetchJWTSVID (SPIFFE_Workload_API.md §6.2.1): `audience` is required (WJ-02, WAPI-10) and goes
 * into `aud` as given; `spiffe_id`, when set, must be a SPIFFE ID the caller is entitled to (WJ-03,
 * WJ-05). One token per identity of the caller (two entries with the same SPIFFE ID are one
 * identity), hints unique (WAPI-14). The tokens come from the cache, which signs through the server
 * when it has none fresh enough. When it cannot (server unreachable), the caller is entitled but has
 * no identity right now: UNAVAILABLE "no identity available right now", as FetchX509SVID answers a
 * new call in that case (WEP-12; clients retry), with the reason logged at warn, rate-limited. The
 * call to the server is bounded by the server client's deadline.
 */
export async function fetchJwtSvids(request: JWTSVIDRequest__Output, ctx: CallContext): Promise<JWTSVIDResponse> {
  const audience = request.audience
  if (audience.length === 0) throw new InvalidArgumentError('audience must be specified')
  if (audience.some((value) => value === '')) throw new InvalidArgumentError('audience must not contain empty values')
  let wanted: SpiffeId | undefined
  if (request.spiffe_id !== '') {
    try {
      wanted = parseSpiffeId(request.spiffe_id)
    } catch (err) {
      throw new InvalidArgumentError(`invalid requested SPIFFE ID: ${errorMessage(err)}`, { cause: err })
    }
  }
  const caller = await ctx.attest()
  const { cache } = ctx.deps
  let entries = identitiesInOrder(cache.identitiesFor(caller.selectors).entries)
  if (wanted !== undefined) entries = entries.filter((entry) => entry.spiffeId.equals(wanted))
  entries = firstPerHint(entries)
  if (entries.length === 0) throw noIdentity()

  let tokens: { token: string; expiresAt: Date }[]
  try {
    tokens = await Promise.all(entries.map((entry) => cache.fetchJwtSvid(entry, audience)))
  } catch (err) {
    // The entry went away between matching and signing: the caller has no such identity now.
    if (err instanceof SteepleError && (grpcStatusOf(err) === status.PERMISSION_DENIED || grpcStatusOf(err) === status.NOT_FOUND)) {
      caller.log.info('JWT-SVID not issued', { reason: err.message })
      throw noIdentity()
    }
    const entryIds = entries.map((entry) => entry.id)
    ctx.warnings.warn(caller.log, `jwt:${[...entryIds].sort().join(',')}`, 'JWT-SVID not issued', {
      reason: errorMessage(err),
      // Only the server's state matters here: JWT-SVIDs are signed by the server on demand.
      serverUnreachableSince: cache.svidShortage([]).serverUnreachableSince?.toISOString(),
      entryIds,
      spiffeIds: entries.map((entry) => entry.spiffeId.toString()),
    })
    throw identityUnavailable()
  }
  caller.log.info('Identity issued', {
    svidType: 'jwt',
    spiffeIds: entries.map((entry) => entry.spiffeId.toString()),
    entryIds: entries.map((entry) => entry.id),
    audience,
    expiresAt: tokens.map((t) => t.expiresAt.toISOString()),
  })
  return { svids: entries.map((entry, i) => ({ spiffe_id: entry.spiffeId.toString(), svid: tokens[i]!.token, hint: entry.hint })) }
}

/**
 * ValidateJWTSVID (§6.2.3): `audience` and `svid` are required (WJ-11); the token is validated by
 * the JWT-SVID rules against the bundle of its subject's trust domain among those the agent holds
 * (own and federated; WJ-12, WJ-13). Any failure is INVALID_ARGUMENT naming the broken rule
 * (INTEROP-14). The caller is attested (it must still be running) but needs no identity.
 */
export async function validateJwtSvid(request: ValidateJWTSVIDRequest__Output, ctx: CallContext): Promise<ValidateJWTSVIDResponse> {
  if (request.audience === '') throw new InvalidArgumentError('audience must be specified')
  if (request.svid === '') throw new InvalidArgumentError('svid must be specified')
  const caller = await ctx.attest()
  const { cache, trustDomain, now } = ctx.deps
  let svid: JwtSvid
  try {
    svid = parseAndValidateJwtSvid(request.svid, new BundleSet(cache.allBundles()), request.audience, now === undefined ? {} : { now: now() })
  } catch (err) {
    if (err instanceof SpiffeError) throw new InvalidArgumentError(err.message, { cause: err })
    throw err
  }
  caller.log.debug('JWT-SVID validated', { spiffeId: svid.id.toString(), audience: request.audience })
  return { spiffe_id: svid.id.toString(), claims: claimsStruct(svid, trustDomain) }
}

/** FetchJWTBundles for one caller, now (§6.2.2): as FetchX509Bundles, with JWK Sets (WJ-07, WJ-09). */
export function jwtBundlesState(cache: IdentityCache, caller: AttestedCaller): StreamState<JWTBundlesResponse> {
  const identities = cache.identitiesFor(caller.selectors)
  if (identities.entries.length === 0) return { kind: 'deny' }
  const message = jwtBundlesResponse(identities)
  return { kind: 'send', message, onSent: () => caller.log.debug('JWT bundles sent', { trustDomains: Object.keys(message.bundles ?? {}) }) }
}
