import { FailedPreconditionError, errorMessage } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { RegistrationEntry } from '../../plugins/data-store/types.js'
import type { Bundle, SelectorSet, TrustDomain } from '../../spiffe/index.js'
import type { JwtSvidSigner } from '../client/server-api.js'
import type { AuthorizedUpdate } from '../client/server-client.js'
import type { Clock } from './clock.js'
import { EntryIndex } from './entry-index.js'
import { JwtSvidCache } from './jwt-cache.js'
import type { AgentEntry, CachedX509Svid, WorkloadIdentities } from './types.js'

/** A workload SVID with what the minting scheduler needs to keep it current. */
export interface HeldSvid {
  readonly svid: CachedX509Svid
  /** Revision of the entry it was minted for. */
  readonly revision: number
  /** When to replace it (ms since the epoch). */
  readonly rotateAtMs: number
}

/** The agent's own trust domain bundle after a change. */
export interface OwnBundleChange {
  readonly bundle: Bundle
  /** True when the X.509 roots differ from those of the bundle it replaced (false for the first one). */
  readonly x509Changed: boolean
}

/** What one SyncAuthorized message changed. */
export interface AppliedUpdate {
  /** Entries added, removed or at a new revision: their SVIDs must be looked at again. */
  readonly changedEntryIds: readonly string[]
  /** The own bundle, when the message changed it. */
  readonly ownBundle: OwnBundleChange | undefined
}

export interface AgentCacheOptions {
  readonly trustDomain: TrustDomain
  /** Signs JWT-SVIDs that are not in the cache. */
  readonly jwtSigner: JwtSvidSigner
  readonly clock: Clock
  readonly log: Logger
}

/**
 * The identity cache the Workload API reads (SPIRE's manager/cache): the authorized entries
 * (indexed by selector), the X.509-SVID held for each, the JWT-SVIDs signed so far, and the bundles
 * (own trust domain first, then federated ones). It changes only when told (by the entry sync and
 * the minting scheduler); subscribers hear of every change a workload could see, once per turn of
 * the event loop.
 */
export class AgentCache {
  readonly #o: AgentCacheOptions
  readonly #entries = new EntryIndex()
  readonly #svids = new Map<string, HeldSvid>()
  /** Entry id → when its last SVID expired with no replacement (until a new one is stored). */
  readonly #expiredAt = new Map<string, Date>()
  readonly #jwt = new JwtSvidCache()
  readonly #listeners = new Set<() => void>()
  /** Own trust domain first, then federated ones, by trust domain name. */
  #bundles = new Map<string, Bundle>()
  #synced = false
  #notifyScheduled = false

  constructor(options: AgentCacheOptions) {
    this.#o = options
  }

  /** True once the first full set of entries has arrived. */
  get synced(): boolean {
    return this.#synced
  }

  stats(): { entries: number; svids: number; bundles: number } {
    return { entries: this.#entries.size, svids: this.#svids.size, bundles: this.#bundles.size }
  }

  entry(id: string): AgentEntry | undefined {
    return this.#entries.get(id)
  }

  heldSvid(entryId: string): HeldSvid | undefined {
    return this.#svids.get(entryId)
  }

  ownBundle(): Bundle | undefined {
    return this.#bundles.get(this.#o.trustDomain.name)
  }

  /**
   * Applies one SyncAuthorized message: a full one replaces the entry set, a later one adds,
   * changes and removes entries; a bundle set replaces the bundles. Notifies when anything changed.
   */
  apply(update: AuthorizedUpdate): AppliedUpdate {
    const changedIds: string[] = []
    if (update.full) {
      const keep = new Set(update.upserted.map((e) => e.id))
      for (const id of [...this.#entries.ids()]) if (!keep.has(id) && this.#removeEntry(id)) changedIds.push(id)
    }
    for (const entry of update.upserted) if (this.#upsertEntry(entry)) changedIds.push(entry.id)
    for (const id of update.deletedIds) if (this.#removeEntry(id)) changedIds.push(id)
    let changed = changedIds.length > 0
    let ownBundle: OwnBundleChange | undefined
    if (update.bundles !== undefined) {
      const result = this.#setBundles(update.bundles)
      changed = result.changed || changed
      ownBundle = result.own
    }
    if (update.full && !this.#synced) {
      this.#synced = true
      changed = true
      this.#o.log.info('Entries synced', { entries: this.#entries.size, bundles: this.#bundles.size })
    }
    if (changed) this.notify()
    return { changedEntryIds: changedIds, ownBundle }
  }

  /** Sets the own bundle (from the data directory or an attestation), keeping the federated ones. */
  setOwnBundle(bundle: Bundle): void {
    if (!bundle.trustDomain.equals(this.#o.trustDomain)) {
      throw new TypeError(`own bundle must be of ${this.#o.trustDomain.name}, not ${bundle.trustDomain.name}`)
    }
    this.#setBundles([bundle, ...[...this.#bundles.values()].filter((b) => !b.trustDomain.equals(bundle.trustDomain))])
  }

  /** Holds a freshly minted SVID for an entry (subscribers hear of it at the next {@link notify}). */
  storeSvid(entryId: string, held: HeldSvid): void {
    this.#svids.set(entryId, held)
    this.#expiredAt.delete(entryId)
  }

  /** Drops an entry's SVID that expired with no replacement; subscribers already filter expired ones out. */
  expireSvid(entryId: string): void {
    const held = this.#svids.get(entryId)
    if (held === undefined) return
    this.#svids.delete(entryId)
    this.#expiredAt.set(entryId, held.svid.notAfter)
  }

  /**
   * When the entry's last SVID expired with no replacement: one held past its expiry (until the
   * scheduler drops it) or one dropped since; undefined when it has a valid one or never had one.
   */
  expiredAt(entryId: string): Date | undefined {
    const held = this.#svids.get(entryId)?.svid
    if (held !== undefined && held.notAfter.getTime() <= this.#o.clock.now().getTime()) return held.notAfter
    return this.#expiredAt.get(entryId)
  }

  /** Drops JWT-SVIDs past half of their life, so the cache does not hold dead tokens. */
  pruneJwtSvids(now: Date): void {
    this.#jwt.prune(now)
  }

  /** Everything a workload with these (prefixed) selectors may have now; never expired SVIDs. */
  identitiesFor(selectors: SelectorSet): WorkloadIdentities {
    const entries = this.#entries.matching(selectors)
    const nowMs = this.#o.clock.now().getTime()
    const svids: CachedX509Svid[] = []
    const federated = new Map<string, Bundle>()
    for (const entry of entries) {
      const held = this.#svids.get(entry.id)
      if (held !== undefined && held.svid.notAfter.getTime() > nowMs) svids.push(held.svid)
      for (const td of entry.federatesWith) {
        const bundle = this.#bundles.get(td.name)
        if (bundle !== undefined && !td.equals(this.#o.trustDomain)) federated.set(td.name, bundle)
      }
    }
    const bundle = this.ownBundle()
    if (bundle === undefined) throw new FailedPreconditionError('agent: no trust bundle yet')
    return { svids, entries, bundle, federatedBundles: [...federated.values()] }
  }

  allBundles(): readonly Bundle[] {
    return [...this.#bundles.values()]
  }

  subscribe(listener: () => void): () => void {
    // A wrapper, so the same function subscribed twice is two subscriptions.
    const wrapped = (): void => listener()
    this.#listeners.add(wrapped)
    return () => this.#listeners.delete(wrapped)
  }

  /** A JWT-SVID from the cache while before half of its life, else signed by the server. */
  async fetchJwtSvid(entry: AgentEntry, audience: readonly string[]): Promise<{ token: string; expiresAt: Date }> {
    const svid = await this.#jwt.get(entry.id, audience, this.#o.clock.now(), async () => {
      const signed = await this.#o.jwtSigner.newJwtSvid(entry.id, audience)
      return { token: signed.token, issuedAt: signed.issuedAt, expiresAt: signed.expiresAt }
    })
    return { token: svid.token, expiresAt: svid.expiresAt }
  }

  /** Tells every subscriber, once for all calls made in this turn of the event loop. */
  notify(): void {
    if (this.#notifyScheduled) return
    this.#notifyScheduled = true
    queueMicrotask(() => {
      this.#notifyScheduled = false
      for (const listener of [...this.#listeners]) {
        try {
          listener()
        } catch (err) {
          this.#o.log.error('Cache listener failed', { err: errorMessage(err) })
        }
      }
    })
  }

  #upsertEntry(e: RegistrationEntry): boolean {
    const entry: AgentEntry = {
      id: e.id,
      spiffeId: e.spiffeId,
      selectors: e.selectors,
      federatesWith: e.federatesWith,
      hint: e.hint,
      x509SvidTtlSeconds: e.x509SvidTtlSeconds,
      jwtSvidTtlSeconds: e.jwtSvidTtlSeconds,
      revisionNumber: e.revisionNumber,
      createdAt: e.createdAt,
    }
    const previous = this.#entries.set(entry)
    if (previous !== undefined && previous.revisionNumber === entry.revisionNumber) return false
    if (previous !== undefined) {
      this.#jwt.deleteEntry(entry.id)
      const held = this.#svids.get(entry.id)
      // A changed ID must never be served under the old one; a changed TTL or hint waits for the new SVID.
      if (held !== undefined && !held.svid.spiffeId.equals(entry.spiffeId)) this.#svids.delete(entry.id)
    }
    return true
  }

  #removeEntry(id: string): boolean {
    const removed = this.#entries.delete(id) !== undefined
    this.#svids.delete(id)
    this.#expiredAt.delete(id)
    this.#jwt.deleteEntry(id)
    return removed
  }

  /** Own bundle first: `bundles` may come in any order. */
  #setBundles(bundles: readonly Bundle[]): { changed: boolean; own: OwnBundleChange | undefined } {
    const td = this.#o.trustDomain
    const next = new Map<string, Bundle>()
    const own = bundles.find((b) => b.trustDomain.equals(td))
    if (own !== undefined) next.set(td.name, own)
    else if (this.#bundles.has(td.name)) next.set(td.name, this.#bundles.get(td.name)!)
    for (const b of bundles) if (!b.trustDomain.equals(td)) next.set(b.trustDomain.name, b)
    const previousOwn = this.#bundles.get(td.name)
    const changed = !sameBundles(this.#bundles, next)
    this.#bundles = next
    let ownChange: OwnBundleChange | undefined
    if (own !== undefined && (previousOwn === undefined || !sameX509(previousOwn, own) || !sameJwt(previousOwn, own))) {
      ownChange = { bundle: own, x509Changed: previousOwn !== undefined && !sameX509(previousOwn, own) }
    }
    return { changed, own: ownChange }
  }
}

function sameX509(a: Bundle, b: Bundle): boolean {
  if (a.x509Authorities.length !== b.x509Authorities.length) return false
  return a.x509Authorities.every((der, i) => Buffer.compare(der, b.x509Authorities[i]!) === 0)
}

function sameJwt(a: Bundle, b: Bundle): boolean {
  if (a.jwtAuthorities.size !== b.jwtAuthorities.size) return false
  for (const kid of a.jwtAuthorities.keys()) if (!b.jwtAuthorities.has(kid)) return false
  return true
}

function sameBundles(a: ReadonlyMap<string, Bundle>, b: ReadonlyMap<string, Bundle>): boolean {
  if (a.size !== b.size) return false
  for (const [name, bundle] of a) {
    const other = b.get(name)
    if (other === undefined || !sameX509(bundle, other) || !sameJwt(bundle, other) || bundle.sequenceNumber !== other.sequenceNumber) return false
  }
  return true
}
