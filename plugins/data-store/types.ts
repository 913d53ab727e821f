import type { Bundle, Selector, SpiffeId, TrustDomain } from '../../spiffe/index.js'

/**
 * The server's data store: narrow stores, one per kind of record, all async so that SQLite
 * (embedded) and PostgreSQL (shared by several servers) implement the same contract. Every
 * implementation runs the suite in test/conformance/data-store-suite.ts.
 *
 * Rules every implementation keeps:
 * - An acknowledged write is durable (resolved promise = committed).
 * - Writes that change entries, nodes or bundles append a change event in the same transaction,
 *   so servers (and the in-process cache) learn every change by reading events in order.
 * - Not found on get → `undefined`; not found on update/delete → NotFoundError; a uniqueness
 *   conflict → AlreadyExistsError. Messages name the record and the rule, never SQL.
 * - A write that fails changes nothing and appends no event.
 * - `createdAt` and event times come from the store's clock (the plugin host's); records come out
 *   as fresh values: a caller mutating what it passed in or got back changes nothing stored.
 * - Listings come in creation order, so paging visits every record once: records created after a
 *   page was read appear on later pages, and a page token stays valid when the record it points
 *   after is deleted. A token the store did not make → InvalidArgumentError.
 */
export interface DataStore {
  readonly entries: EntryStore
  readonly nodes: NodeStore
  readonly bundles: BundleStore
  readonly joinTokens: JoinTokenStore
  readonly events: EventStore
  readonly audit: AuditStore
  /** Flushes and closes; later calls (close included) reject with UnavailableError. */
  close(): Promise<void>
}

/** A registration entry: who (selectors under a parent) gets which SPIFFE ID, and how. */
export interface RegistrationEntry {
  /** Opaque, unique (UUID unless the operator chose one). */
  readonly id: string
  readonly spiffeId: SpiffeId
  readonly parentId: SpiffeId
  /** Sorted by type then value, no duplicates. */
  readonly selectors: readonly Selector[]
  /** 0 = the server default. */
  readonly x509SvidTtlSeconds: number
  /** 0 = the server default. */
  readonly jwtSvidTtlSeconds: number
  readonly dnsNames: readonly string[]
  readonly federatesWith: readonly TrustDomain[]
  readonly admin: boolean
  readonly downstream: boolean
  /** After this instant the entry authorizes nothing; undefined = never expires. */
  readonly expiresAt: Date | undefined
  /** Operator label returned with the SVID ('' = none). */
  readonly hint: string
  readonly storeSvid: boolean
  /** Incremented on every update. */
  readonly revisionNumber: number
  readonly createdAt: Date
  /** Who answers for this identity (team, user or system); '' = unset. For the inventory. */
  readonly owner: string
  /** Free text: why this identity exists (e.g. the AI agent task it serves). */
  readonly description: string
}

/** What a caller supplies to create an entry; the store fills the rest. */
export type NewRegistrationEntry = Omit<RegistrationEntry, 'id' | 'revisionNumber' | 'createdAt'> & {
  /** Optional operator-chosen ID; undefined or '' = a new UUID. */
  readonly id?: string
}

export type SelectorMatch = 'exact' | 'subset' | 'superset' | 'any'

/** Every field given must match (AND); an empty filter matches everything. */
export interface EntryFilter {
  readonly spiffeId?: SpiffeId
  readonly parentId?: SpiffeId
  /**
   * exact: same set; subset: entry selectors ⊆ given (an entry without selectors is a subset of
   * any set: apply `matchesSelectors` when authorizing); superset: entry selectors ⊇ given; any:
   * share at least one (never true for an empty `selectors`).
   */
  readonly selectors?: { readonly selectors: readonly Selector[]; readonly match: SelectorMatch }
  readonly hint?: string
  readonly owner?: string
  readonly federatesWith?: TrustDomain
  readonly downstream?: boolean
}

export interface Page {
  /** Opaque token from the previous page's `nextPageToken`; undefined = first page. */
  readonly pageToken?: string
  /** 0 or undefined = everything. */
  readonly pageSize?: number
}

export interface PageOf<T> {
  readonly items: T[]
  /** Undefined when this was the last page. */
  readonly nextPageToken?: string
}

export interface EntryStore {
  /**
   * Stores a new entry (revision 0, selectors sorted and deduplicated).
   * @throws AlreadyExistsError for an entry with the same spiffeId, parentId and selectors, or a taken id.
   */
  create(entry: NewRegistrationEntry): Promise<RegistrationEntry>
  get(id: string): Promise<RegistrationEntry | undefined>
  list(filter?: EntryFilter, page?: Page): Promise<PageOf<RegistrationEntry>>
  count(filter?: EntryFilter): Promise<number>
  /**
   * Replaces the mutable fields of entry `entry.id` (all but id and createdAt) and increments the
   * revision. @throws NotFoundError, AlreadyExistsError (the change would duplicate another entry).
   */
  update(entry: Omit<RegistrationEntry, 'revisionNumber' | 'createdAt'>): Promise<RegistrationEntry>
  /** @throws NotFoundError */
  delete(id: string): Promise<RegistrationEntry>
  /** Removes entries whose expiresAt is before `before` (an event each); returns how many. */
  pruneExpired(before: Date): Promise<number>
}

/** An agent that attested: its ID, how, and the node selectors found for it. */
export interface AttestedNode {
  readonly spiffeId: SpiffeId
  /** Node attestor name (`join_token`, `x509pop`, …). */
  readonly attestationType: string
  readonly selectors: readonly Selector[]
  /** Serial (hex) and expiry of the agent's current SVID. */
  readonly certSerial: string
  readonly certNotAfter: Date
  /** Set while a renewed SVID is issued but not yet used by the agent. */
  readonly newCertSerial: string
  readonly newCertNotAfter: Date | undefined
  readonly banned: boolean
  /** Whether the attestation method allows attesting again (x509pop yes, join_token no). */
  readonly canReattest: boolean
  readonly createdAt: Date
  readonly lastSeenAt: Date | undefined
}

/** Every field given must match (AND). */
export interface NodeFilter {
  readonly attestationType?: string
  readonly banned?: boolean
  /** Nodes whose selectors include all of these. */
  readonly selectors?: readonly Selector[]
  /** Nodes whose certNotAfter is before this instant. */
  readonly expiresBefore?: Date
}

export interface NodeStore {
  /** @throws AlreadyExistsError */
  create(node: Omit<AttestedNode, 'createdAt'>): Promise<AttestedNode>
  get(spiffeId: SpiffeId): Promise<AttestedNode | undefined>
  list(filter?: NodeFilter, page?: Page): Promise<PageOf<AttestedNode>>
  count(filter?: NodeFilter): Promise<number>
  /** Replaces all fields but spiffeId and createdAt. @throws NotFoundError */
  update(node: Omit<AttestedNode, 'createdAt'>): Promise<AttestedNode>
  /** Eviction: the agent must attest again. @throws NotFoundError */
  delete(spiffeId: SpiffeId): Promise<AttestedNode>
}

/**
 * Trust bundles by trust domain: the server's own and federated ones. Sequence numbers are
 * `bigint`s and survive any value (BUN-09 asks for at least 64 bits). Every call that changes a
 * bundle appends a `bundle` event keyed by the trust domain name.
 */
export interface BundleStore {
  /** Adds or replaces the bundle of `bundle.trustDomain` as given (sequence number included). */
  set(bundle: Bundle): Promise<Bundle>
  /**
   * Appends X.509 authorities (compared by DER bytes) and JWT authorities (compared by key ID) to
   * the stored bundle of that trust domain, skipping ones already present, and bumps its sequence
   * number by one when anything was added; nothing added = nothing written. Without a stored
   * bundle, one is created with sequence number 1 (0 when nothing was given) and the given refresh
   * hint; the given sequence number is ignored and a stored refresh hint is kept. Atomic, so
   * several servers sharing the store can each add their own CA.
   */
  append(bundle: Bundle): Promise<Bundle>
  get(trustDomain: TrustDomain): Promise<Bundle | undefined>
  /** Every stored bundle, in no particular order. */
  list(): Promise<Bundle[]>
  /** @throws NotFoundError */
  delete(trustDomain: TrustDomain): Promise<void>
  /**
   * Removes X.509 authorities whose certificate's notAfter is before `before` and JWT authorities
   * listed in `expiredJwtKids` from the bundle of `trustDomain`; bumps the sequence by one if that
   * removed anything. Returns the bundle as stored afterwards (unchanged when nothing was removed);
   * undefined when the trust domain has no bundle.
   */
  pruneAuthorities(trustDomain: TrustDomain, before: Date, expiredJwtKids: readonly string[]): Promise<Bundle | undefined>
}

export interface JoinToken {
  /** The secret itself is never stored: only its SHA-256 (hex). */
  readonly tokenHash: string
  readonly expiresAt: Date
  /** Optional SPIFFE ID the agent will be aliased to (SPIRE's `token generate -spiffeID`). */
  readonly aliasId: SpiffeId | undefined
  readonly createdAt: Date
}

export interface JoinTokenStore {
  /** @throws AlreadyExistsError */
  create(token: Omit<JoinToken, 'createdAt'>): Promise<JoinToken>
  /**
   * Atomically deletes and returns the token (one-time use: of concurrent callers, one gets it).
   * Undefined when absent, already used or expired at `now` (valid while now < expiresAt; an
   * expired token is deleted too).
   */
  consume(tokenHash: string, now: Date): Promise<JoinToken | undefined>
  /** Removes tokens whose expiresAt is before `before`; returns how many. */
  pruneExpired(before: Date): Promise<number>
}

export type ChangeKind = 'entry' | 'node' | 'bundle'

/** One committed change: which record of which kind (the record itself is read from its store). */
export interface ChangeEvent {
  /** Strictly increasing across all kinds. */
  readonly eventId: number
  readonly kind: ChangeKind
  /** Entry ID, node SPIFFE ID or trust domain name. */
  readonly key: string
  readonly at: Date
}

export interface EventStore {
  /** Events with eventId > afterEventId, in order, at most `limit` (0 or undefined = all). */
  listSince(afterEventId: number, limit?: number): Promise<ChangeEvent[]>
  /** The highest eventId so far (0 when none), pruned events included: IDs never go back. */
  latestEventId(): Promise<number>
  /** Deletes events whose `at` is before `before` (only servers that lag behind need them); returns how many. */
  prune(before: Date): Promise<number>
}

/** Who did or received what, and why: the audit trail operators and AI-agent owners read. */
export interface AuditEvent {
  readonly at: Date
  /** e.g. `entry.create`, `agent.attest`, `svid.x509.sign`, `svid.jwt.sign`, `agent.evict`. */
  readonly action: string
  /** Who acted: `admin:uid:1000`, an agent SPIFFE ID, `server`. */
  readonly actor: string
  /** The identity concerned (SPIFFE ID) or record key. */
  readonly subject: string
  /** The registration entry that authorized it, when one did ('' otherwise). */
  readonly entryId: string
  /** Small JSON-able details: serial, expiry, audience, selectors, reason. */
  readonly details: Readonly<Record<string, unknown>>
}

/** Every field given must match (AND). */
export interface AuditFilter {
  /** Events at or after this instant. */
  readonly since?: Date
  readonly subject?: string
  readonly actor?: string
  readonly action?: string
  readonly entryId?: string
}

export interface AuditStore {
  /** Appends events in one transaction. */
  append(events: readonly AuditEvent[]): Promise<void>
  /** Newest first by `at`; among equal times the later appended first. At most `limit` (0 or undefined = all). */
  list(filter?: AuditFilter, limit?: number): Promise<AuditEvent[]>
  /** Removes events whose `at` is before `before`; returns how many. */
  prune(before: Date): Promise<number>
}
