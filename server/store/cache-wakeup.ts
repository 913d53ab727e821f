import { errorMessage } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { BundleStore, DataStore, EntryStore, NodeStore } from '../../plugins/data-store/types.js'

/** What the wake-up drives: the authorized-entry cache's catch-up with the store's change events. */
export interface CatchingUpCache {
  applyEvents(): Promise<unknown>
}

/**
 * Wakes the authorized-entry cache after every committed write of an entry, node or bundle, so
 * agents' sync streams carry the change within milliseconds instead of at the next poll. This is
 * the one place that does it: handlers and services just write to the store.
 *
 * Wake-ups do not hold up the write that caused them (a batch of writes shares the cache's
 * queued catch-up); {@link CacheWakeup.settled} lets an API answer only once the cache has applied
 * everything written so far.
 */
export class CacheWakeup {
  readonly #log: Logger
  #cache: CatchingUpCache | undefined
  #last: Promise<void> = Promise.resolve()
  /** Batches of writes under way; wake-ups wait for the last to end. */
  #batches = 0
  #deferred = false

  constructor(log: Logger) {
    this.#log = log
  }

  /** The cache to wake; writes before this (while the cache is being built) wake nothing. */
  attach(cache: CatchingUpCache): void {
    this.#cache = cache
  }

  /** Called after a committed write. Never throws; a failed catch-up is logged (the cache also polls). */
  wake(): void {
    if (this.#cache === undefined) return
    if (this.#batches > 0) {
      this.#deferred = true
      return
    }
    this.#last = this.#cache.applyEvents().then(
      () => undefined,
      (err: unknown) => this.#log.warn('Cache update failed', { err: errorMessage(err) }),
    )
  }

  /**
   * Runs a batch of writes (an operator's batch of entries) and wakes the cache once after it,
   * so agents get the batch in one sync message instead of one per write.
   */
  async batch<T>(writes: () => Promise<T>): Promise<T> {
    this.#batches++
    try {
      return await writes()
    } finally {
      this.#batches--
      if (this.#batches === 0 && this.#deferred) {
        this.#deferred = false
        this.wake()
      }
    }
  }

  /** Resolves once the cache has applied every write made before this call. Never rejects. */
  settled(): Promise<void> {
    return this.#last
  }
}

/** `store` whose entry, node and bundle writes wake the cache through `wakeup` once committed. */
export function withCacheWakeup(store: DataStore, wakeup: CacheWakeup): DataStore {
  const after =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const result = await write(...args)
      wakeup.wake()
      return result
    }
  const entries: EntryStore = {
    create: after((e) => store.entries.create(e)),
    get: (id) => store.entries.get(id),
    list: (filter, page) => store.entries.list(filter, page),
    count: (filter) => store.entries.count(filter),
    update: after((e) => store.entries.update(e)),
    delete: after((id) => store.entries.delete(id)),
    pruneExpired: after((before) => store.entries.pruneExpired(before)),
  }
  const nodes: NodeStore = {
    create: after((n) => store.nodes.create(n)),
    get: (id) => store.nodes.get(id),
    list: (filter, page) => store.nodes.list(filter, page),
    count: (filter) => store.nodes.count(filter),
    update: after((n) => store.nodes.update(n)),
    delete: after((id) => store.nodes.delete(id)),
  }
  const bundles: BundleStore = {
    set: after((b) => store.bundles.set(b)),
    append: after((b) => store.bundles.append(b)),
    get: (td) => store.bundles.get(td),
    list: () => store.bundles.list(),
    delete: after((td) => store.bundles.delete(td)),
    pruneAuthorities: after((td, before, kids) => store.bundles.pruneAuthorities(td, before, kids)),
  }
  return { entries, nodes, bundles, joinTokens: store.joinTokens, events: store.events, audit: store.audit, close: () => store.close() }
}
