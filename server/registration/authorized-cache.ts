import { errorMessage } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { AttestedNode, ChangeEvent, DataStore, RegistrationEntry } from '../../plugins/data-store/types.js'
import { parseSpiffeId, type SpiffeId, type TrustDomain } from '../../spiffe/index.js'
import { AuthorizationIndex } from './authorization-index.js'
import { EventCursor } from './event-cursor.js'
import { serverId } from './ids.js'

/** What a batch of change events touched. */
export interface CacheChange {
  /** Attested agents (including ones just evicted) whose authorized entries or own record may have changed. */
  readonly agentIds: readonly SpiffeId[]
  /** Trust domain names whose bundle changed (set, appended, pruned or deleted). */
  readonly bundleTrustDomains: readonly string[]
}

export type CacheChangeListener = (change: CacheChange) => void

export interface AuthorizedEntryCacheOptions {
  /** Only `entries`, `nodes` and `events` are read. */
  readonly store: Pick<DataStore, 'entries' | 'nodes' | 'events'>
  readonly trustDomain: TrustDomain
  /** Now, for entry expiry. */
  readonly clock: () => Date
  readonly log: Logger
  /** Records or events read per store call; default 5000. */
  readonly pageSize?: number
  /**
   * How long a missing event ID is waited for before it is given up; default 60 s. With a store
   * shared by several servers, IDs are handed out when a transaction starts but become visible when
   * it commits, so a lower ID can appear after a higher one.
   */
  readonly eventGapTimeoutMs?: number
}

const DEFAULT_PAGE_SIZE = 5000

const EMPTY_CHANGE: CacheChange = Object.freeze({ agentIds: [], bundleTrustDomains: [] })

/**
 * Which registration entries each attested agent may receive and get SVIDs for: an in-memory copy
 * of every entry and attested node, loaded once and then kept current from the store's change
 * events (only the changed records are read again).
 *
 * The rule (as SPIRE's): an agent's roots are its own ID and the alias IDs of the node entries
 * (parent = the server ID) whose selectors are all among the agent's node selectors. It is
 * authorized for every entry whose parent is a root, and, recursively, for every entry whose parent
 * is the SPIFFE ID of an entry it is authorized for. Expired entries authorize nothing, not even
 * their descendants; banned and unknown (evicted) agents get nothing; node entries themselves are
 * never handed to an agent.
 */
export class AuthorizedEntryCache {
  readonly #store: Pick<DataStore, 'entries' | 'nodes' | 'events'>
  readonly #clock: () => Date
  readonly #log: Logger
  readonly #serverId: string
  readonly #pageSize: number

  #index: AuthorizationIndex
  readonly #cursor: EventCursor

  readonly #listeners = new Set<CacheChangeListener>()
  #tail: Promise<unknown> = Promise.resolve()
  #queued: Promise<CacheChange> | undefined
  #timer: NodeJS.Timeout | undefined

  private constructor(opts: AuthorizedEntryCacheOptions) {
    this.#store = opts.store
    this.#clock = opts.clock
    this.#log = opts.log.child({ component: 'authorized-entry-cache' })
    this.#serverId = serverId(opts.trustDomain).toString()
    this.#index = new AuthorizationIndex(this.#serverId)
    this.#pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE
    this.#cursor = new EventCursor(0, {
      log: this.#log,
      ...(opts.eventGapTimeoutMs !== undefined && { gapTimeoutMs: opts.eventGapTimeoutMs }),
    })
  }

  /** Builds the cache from everything in the store. Rejects with the store's error. */
  static async load(opts: AuthorizedEntryCacheOptions): Promise<AuthorizedEntryCache> {
    const cache = new AuthorizedEntryCache(opts)
    await cache.reload()
    return cache
  }

  /** Number of entries held. */
  get entryCount(): number {
    return this.#index.entryCount
  }

  /** Number of attested agents held. */
  get nodeCount(): number {
    return this.#index.nodeCount
  }

  /** Every event with an ID up to this one has been applied. */
  get lastEventId(): number {
    return this.#cursor.position
  }

  /**
   * Calls `listener` after each batch of events that touched an agent or a bundle, with the agents
   * concerned, so the agent API can push within milliseconds. Returns a function that unsubscribes.
   */
  onChange(listener: CacheChangeListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Reads the change events since the last one applied and reloads the records they name.
   * Calls are serialized; a call made while another waits to run shares that run.
   * Resolves with what changed; rejects with the store's error (the cache stays as it was).
   */
  applyEvents(): Promise<CacheChange> {
    if (this.#queued !== undefined) return this.#queued
    const run = this.#tail.then(() => {
      this.#queued = undefined
      return this.#applyOnce()
    })
    this.#queued = run
    this.#tail = run.catch(() => undefined)
    return run
  }

  /** Rebuilds everything from the store (start-up, or after the events were pruned under us). */
  reload(): Promise<void> {
    const run = this.#tail.then(() => this.#reloadOnce())
    this.#tail = run.catch(() => undefined)
    return run
  }

  /** Applies events every `intervalMs` (for writes made by other servers sharing the store). */
  startPolling(intervalMs: number): void {
    this.stopPolling()
    this.#timer = setInterval(() => {
      this.applyEvents().catch((err: unknown) => this.#log.warn('Cache update failed', { err: errorMessage(err) }))
    }, intervalMs)
    this.#timer.unref()
  }

  stopPolling(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** The attested agent with this ID, or undefined (never attested or evicted). */
  node(agentId: SpiffeId): AttestedNode | undefined {
    return this.#index.node(agentId.toString())
  }

  /** The entry with this ID, or undefined. */
  entry(entryId: string): RegistrationEntry | undefined {
    return this.#index.entry(entryId)
  }

  /**
   * The entries `agentId` may receive, in no particular order; [] for an agent that is unknown,
   * evicted or banned.
   */
  authorizedEntries(agentId: SpiffeId): RegistrationEntry[] {
    return this.#index.authorizedEntries(agentId.toString(), this.#clock().getTime())
  }

  /** The entry if `agentId` may receive it (see {@link authorizedEntries}), else undefined. */
  authorizedEntry(agentId: SpiffeId, entryId: string): RegistrationEntry | undefined {
    return this.#index.authorizedEntry(agentId.toString(), entryId, this.#clock().getTime())
  }

  /** Whether `agentId` may receive entry `entryId`. */
  isAuthorized(agentId: SpiffeId, entryId: string): boolean {
    return this.authorizedEntry(agentId, entryId) !== undefined
  }

  async #reloadOnce(): Promise<void> {
    // The event ID is read first: a write racing with the listing is then also seen as an event
    // later, and applying it again is harmless (records are reloaded, not patched).
    const latest = await this.#store.events.latestEventId()
    const entries: RegistrationEntry[] = []
    const nodes: AttestedNode[] = []
    for (let token: string | undefined, first = true; first || token !== undefined; first = false) {
      const page = await this.#store.entries.list(undefined, { pageSize: this.#pageSize, ...(token !== undefined && { pageToken: token }) })
      entries.push(...page.items)
      token = page.nextPageToken
    }
    for (let token: string | undefined, first = true; first || token !== undefined; first = false) {
      const page = await this.#store.nodes.list(undefined, { pageSize: this.#pageSize, ...(token !== undefined && { pageToken: token }) })
      nodes.push(...page.items)
      token = page.nextPageToken
    }
    const before = this.#index.nodeIds()
    const index = new AuthorizationIndex(this.#serverId)
    for (const entry of entries) index.putEntry(entry)
    for (const node of nodes) index.putNode(node)
    this.#index = index
    this.#cursor.reset(latest)
    this.#log.info('Authorized entry cache loaded', { entries: index.entryCount, agents: index.nodeCount, eventId: latest })
    const agents = new Map<string, SpiffeId>()
    for (const id of [...before, ...nodes.map((n) => n.spiffeId)]) agents.set(id.toString(), id)
    this.#emit({ agentIds: [...agents.values()], bundleTrustDomains: [] })
  }

  async #applyOnce(): Promise<CacheChange> {
    const fresh: ChangeEvent[] = []
    for (let after = this.#cursor.position; ; ) {
      const batch = await this.#store.events.listSince(after, this.#pageSize)
      for (const event of batch) if (!this.#cursor.isApplied(event.eventId)) fresh.push(event)
      if (batch.length < this.#pageSize) break
      after = batch[batch.length - 1]!.eventId
    }
    if (fresh.length === 0) {
      this.#cursor.advance([])
      return EMPTY_CHANGE
    }

    const entryKeys = new Set<string>()
    const nodeKeys = new Set<string>()
    const bundles = new Set<string>()
    for (const event of fresh) {
      if (event.kind === 'entry') entryKeys.add(event.key)
      else if (event.kind === 'node') nodeKeys.add(event.key)
      else bundles.add(event.key)
    }
    // Read everything first, then change the indexes in one synchronous step, so queries never
    // see half of a batch.
    const entryRecords = new Map<string, RegistrationEntry | undefined>()
    for (const key of entryKeys) entryRecords.set(key, await this.#store.entries.get(key))
    const nodeRecords = new Map<string, AttestedNode | undefined>()
    for (const key of nodeKeys) {
      let id: SpiffeId
      try {
        id = parseSpiffeId(key)
      } catch (err) {
        this.#log.warn('Change event names an invalid agent ID', { key, err: errorMessage(err) })
        continue
      }
      nodeRecords.set(key, await this.#store.nodes.get(id))
    }

    const index = this.#index
    const affected = new Map<string, SpiffeId>()
    const touched = new Set<string>()
    const collect = () => {
      for (const key of touched) affected.set(key, index.node(key)!.spiffeId)
      touched.clear()
    }
    // Agents reached before the change (an entry moved away, a node entry lost a selector) and after it.
    for (const key of entryRecords.keys()) index.agentsAffectedByEntry(key, touched)
    for (const key of nodeRecords.keys()) if (index.node(key) !== undefined) touched.add(key)
    collect()
    for (const [key, record] of entryRecords) {
      if (record === undefined) index.removeEntry(key)
      else index.putEntry(record)
    }
    for (const [key, record] of nodeRecords) {
      if (record === undefined) index.removeNode(key)
      else index.putNode(record)
    }
    for (const key of entryRecords.keys()) index.agentsAffectedByEntry(key, touched)
    for (const key of nodeRecords.keys()) if (index.node(key) !== undefined) touched.add(key)
    collect()

    this.#cursor.advance(fresh.map((e) => e.eventId))
    const change: CacheChange = { agentIds: [...affected.values()], bundleTrustDomains: [...bundles] }
    this.#log.debug('Change events applied', {
      events: fresh.length,
      eventId: this.#cursor.position,
      agents: change.agentIds.length,
    })
    this.#emit(change)
    return change
  }

  #emit(change: CacheChange): void {
    if (change.agentIds.length === 0 && change.bundleTrustDomains.length === 0) return
    for (const listener of this.#listeners) {
      try {
        listener(change)
      } catch (err) {
        this.#log.error('Cache change listener failed', { err: errorMessage(err) })
      }
    }
  }
}
