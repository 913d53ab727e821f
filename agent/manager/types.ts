import type { Bundle, Selector, SelectorSet, SpiffeId, TrustDomain } from '../../spiffe/index.js'

/** An X.509-SVID the agent holds for one registration entry. */
export interface CachedX509Svid {
  readonly entryId: string
  readonly spiffeId: SpiffeId
  /** Operator label ('' = none). */
  readonly hint: string
  /** Leaf first, then intermediates (DER). */
  readonly chainDer: readonly Uint8Array[]
  /** Unencrypted PKCS#8 DER of the leaf key. */
  readonly privateKeyDer: Uint8Array
  readonly notAfter: Date
}

/** One authorized registration entry as the agent knows it. */
export interface AgentEntry {
  readonly id: string
  readonly spiffeId: SpiffeId
  readonly selectors: readonly Selector[]
  readonly federatesWith: readonly TrustDomain[]
  readonly hint: string
  readonly x509SvidTtlSeconds: number
  readonly jwtSvidTtlSeconds: number
  readonly revisionNumber: number
  readonly createdAt: Date
}

/** What a workload with some selectors is entitled to, at one instant. */
export interface WorkloadIdentities {
  /**
   * One per matching entry that has a valid SVID, in a stable order (entry creation time, then
   * id), so the default identity (the first) does not change between updates (WAPI-13).
   */
  readonly svids: readonly CachedX509Svid[]
  /** The matching entries (an entry may match before its SVID is minted). */
  readonly entries: readonly AgentEntry[]
  /** The agent's own trust domain bundle. */
  readonly bundle: Bundle
  /** Foreign trust domains the matching entries federate with, one bundle each. */
  readonly federatedBundles: readonly Bundle[]
}

/** Why the agent holds no valid X.509-SVID for one entry right now. */
export interface MissingSvid {
  readonly entryId: string
  /** When the last SVID the agent held for it expired; undefined when it never had one (this run). */
  readonly expiredAt: Date | undefined
  /** When signing is tried again after a failure; undefined when it is being minted now or next. */
  readonly signingRetryAt: Date | undefined
}

/** Why some entries have no valid X.509-SVID right now (for the Workload API's answer and log). */
export interface SvidShortage {
  /** Since when calls to the server (entry sync, signing) have been failing; undefined while they work. */
  readonly serverUnreachableSince: Date | undefined
  /** One per entry asked about, in the same order. */
  readonly entries: readonly MissingSvid[]
}

/**
 * The agent's identity cache as the Workload API sees it. Implemented by the SVID manager
 * (agent/manager/), which keeps entries in sync with the server and SVIDs minted and rotated.
 */
export interface IdentityCache {
  /** True once the agent has its own SVID and the trust bundle (else: UNAVAILABLE). */
  isReady(): boolean
  /** Everything a workload with these (prefixed) selectors may have now; never expired SVIDs. */
  identitiesFor(selectors: SelectorSet): WorkloadIdentities
  /** Why these entries have no valid X.509-SVID now: server unreachable since when, expired when, retrying when. */
  svidShortage(entryIds: readonly string[]): SvidShortage
  /** All bundles the agent knows: own trust domain and federated ones. */
  allBundles(): readonly Bundle[]
  /**
   * Called after anything a workload could see changes: an SVID rotated or minted, an entry
   * added, changed or removed, a bundle changed. Returns an unsubscribe function.
   */
  subscribe(listener: () => void): () => void
  /**
   * A JWT-SVID for an entry, from the cache when one with the same audience set is still before
   * half of its life, else freshly signed by the server.
   * @throws SteepleError (UNAVAILABLE when the server cannot be reached).
   */
  fetchJwtSvid(entry: AgentEntry, audience: readonly string[]): Promise<{ token: string; expiresAt: Date }>
}
