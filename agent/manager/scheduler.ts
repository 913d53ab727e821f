import { errorMessage, type SteepleError } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import { createCsr, generateKeyPair } from '../../spiffe/index.js'
import { isRefusal, type X509SvidSigner } from '../client/server-api.js'
import { Backoff } from './backoff.js'
import type { HeldSvid } from './cache.js'
import type { Clock, ClockTimer } from './clock.js'
import { DueQueue } from './due-queue.js'
import type { ServerReachability } from './reachability.js'
import type { ManagerTiming } from './timing.js'
import type { AgentEntry } from './types.js'

/** What the scheduler reads and writes in the identity cache. */
export interface MintTarget {
  entry(id: string): AgentEntry | undefined
  heldSvid(entryId: string): HeldSvid | undefined
  storeSvid(entryId: string, held: HeldSvid): void
  expireSvid(entryId: string): void
  pruneJwtSvids(now: Date): void
  notify(): void
  stats(): { readonly entries: number }
}

export interface MintSchedulerOptions {
  readonly signer: X509SvidSigner
  readonly cache: MintTarget
  readonly clock: Clock
  readonly random: () => number
  readonly timing: Pick<ManagerTiming, 'batchSize' | 'rotateFraction' | 'rotateJitter' | 'retryInitialMs' | 'retryMaxMs'>
  readonly log: Logger
  /** Told of each signing call that fails or works. */
  readonly reachability: ServerReachability
  /** The server refused the agent SVID on a signing call (the agent must attest again). */
  readonly onRejected: (err: SteepleError) => void
}

/**
 * Mints and rotates the workload X.509-SVIDs (SPIRE's manager rotation): a fresh EC P-256 key per
 * SVID, only the CSR leaves the agent, up to `batchSize` CSRs per signing call. Each entry is
 * replaced at half of its SVID's lifetime ±10 % (jitter), retried with backoff after a failed call,
 * and dropped at expiry when no replacement came (so streams stop showing it).
 *
 * Every entry the cache holds is queued once, at the next instant something is due for it: its
 * minting (missing, older revision, rotation point), its retry, or its expiry. A wake-up takes only
 * the entries that are due, in O(log n) each, so 10,000 entries cost no scan per rotation. Whoever
 * changes an entry says so ({@link entriesChanged}); one pass runs at a time.
 */
export class MintScheduler {
  readonly #o: MintSchedulerOptions
  readonly #queue = new DueQueue()
  /** Entry id → earliest retry after a failed signing (ms since the epoch). */
  readonly #retryAt = new Map<string, number>()
  readonly #backoff: Backoff
  #timer: ClockTimer | undefined
  #timerAt = Infinity
  #pass: Promise<void> | undefined
  /** Entries the running pass took off the queue and has not requeued yet. */
  readonly #taken = new Set<string>()
  #closed = false

  constructor(options: MintSchedulerOptions) {
    this.#o = options
    this.#backoff = new Backoff(options.timing.retryInitialMs, options.timing.retryMaxMs, options.random)
  }

  /** Entries queued (every entry the cache holds, but those in a signing call right now). */
  get queued(): number {
    return this.#queue.size
  }

  /** When a failed signing of the entry is retried (ms since the epoch), or undefined when none failed. */
  retryAtMs(entryId: string): number | undefined {
    return this.#retryAt.get(entryId)
  }

  /** Entries were added, changed (new revision) or removed in the cache: forget their retries and requeue them. */
  entriesChanged(entryIds: Iterable<string>): void {
    for (const id of entryIds) {
      this.#retryAt.delete(id)
      this.#requeue(id)
    }
    this.#arm()
  }

  /** The server is back (a full entry set arrived): signing that failed meanwhile is retried now. */
  retryNow(): void {
    const ids = [...this.#retryAt.keys()]
    this.#retryAt.clear()
    this.#backoff.reset()
    for (const id of ids) this.#requeue(id)
    this.#arm()
  }

  /** Stops minting; a pass in progress ends after its current signing call. */
  close(): void {
    this.#closed = true
    this.#timer?.cancel()
    this.#timer = undefined
  }

  /** Resolves when no pass is running. */
  async idle(): Promise<void> {
    await this.#pass
  }

  /** The next instant something is due for the entry, or undefined when the cache no longer holds it. */
  #wakeAt(id: string): number | undefined {
    const entry = this.#o.cache.entry(id)
    if (entry === undefined) return undefined
    const held = this.#o.cache.heldSvid(id)
    const retryAt = this.#retryAt.get(id) ?? -Infinity
    if (held === undefined || held.revision !== entry.revisionNumber) {
      return held === undefined ? retryAt : Math.min(retryAt, held.svid.notAfter.getTime())
    }
    return Math.min(Math.max(retryAt, held.rotateAtMs), held.svid.notAfter.getTime())
  }

  #requeue(id: string): void {
    this.#taken.delete(id)
    const at = this.#wakeAt(id)
    if (at === undefined) this.#queue.delete(id)
    else this.#queue.set(id, at)
  }

  /** Sets the timer for the earliest due entry (a pass in progress re-arms when it ends). */
  #arm(): void {
    if (this.#closed || this.#pass !== undefined) return
    const at = this.#queue.peekAt()
    if (at === undefined) return
    if (this.#timer !== undefined && this.#timerAt <= at) return
    this.#timer?.cancel()
    this.#timerAt = at
    this.#timer = this.#o.clock.setTimer(() => {
      this.#timer = undefined
      this.#timerAt = Infinity
      this.#startPass()
    }, at - this.#o.clock.now().getTime())
  }

  #startPass(): void {
    if (this.#closed || this.#pass !== undefined) return
    this.#pass = this.#runPass()
      .catch((err: unknown) => {
        this.#o.log.error('Minting SVIDs failed', { err: errorMessage(err) })
        // Entries taken off the queue must not be lost: they wait for a retry like a failed call.
        const retryAt = this.#o.clock.now().getTime() + this.#backoff.next()
        for (const id of [...this.#taken]) {
          this.#retryAt.set(id, retryAt)
          this.#requeue(id)
        }
      })
      .finally(() => {
        this.#pass = undefined
        this.#arm()
      })
  }

  /** Takes the due entries off the queue: drops expired SVIDs, mints what is due, requeues the rest. */
  async #runPass(): Promise<void> {
    const { cache, clock } = this.#o
    const nowMs = clock.now().getTime()
    const due: AgentEntry[] = []
    let expired = false
    for (const id of this.#queue.popDue(nowMs)) {
      const entry = cache.entry(id)
      if (entry === undefined) continue
      this.#taken.add(id)
      const held = cache.heldSvid(id)
      if (held !== undefined && held.svid.notAfter.getTime() <= nowMs) {
        cache.expireSvid(id)
        expired = true
      }
      if (this.#mintDue(entry, nowMs)) due.push(entry)
      else this.#requeue(id)
    }
    if (expired) {
      // An expiry with no replacement (server down) must reach the streams too.
      cache.notify()
      cache.pruneJwtSvids(new Date(nowMs))
    }
    const { batchSize } = this.#o.timing
    for (let i = 0; i < due.length && !this.#closed; i += batchSize) {
      if (!(await this.#mintBatch(due.slice(i, i + batchSize), due.slice(i + batchSize)))) return
      // Let Workload API calls in between batches.
      if (i + batchSize < due.length) await new Promise<void>((resolve) => setImmediate(resolve))
    }
    if (due.length > 0) this.#o.log.debug('SVIDs minted', { count: due.length, entries: cache.stats().entries })
  }

  /** Entries whose SVID is missing, minted for an older revision, or past its rotation point, unless waiting for a retry. */
  #mintDue(entry: AgentEntry, nowMs: number): boolean {
    const retryAt = this.#retryAt.get(entry.id)
    if (retryAt !== undefined && retryAt > nowMs) return false
    const held = this.#o.cache.heldSvid(entry.id)
    return held === undefined || held.revision !== entry.revisionNumber || held.rotateAtMs <= nowMs
  }

  /** One signing call; false when it failed (every entry of `batch` and `rest` then waits for a retry). */
  async #mintBatch(batch: readonly AgentEntry[], rest: readonly AgentEntry[]): Promise<boolean> {
    const { cache, clock, timing, log } = this.#o
    const keys = batch.map(() => generateKeyPair('ec-p256').privateKey)
    const params = batch.map((entry, k) => ({ entryId: entry.id, csrDer: createCsr(keys[k]!) }))
    let results
    try {
      results = await this.#o.signer.batchNewX509Svid(params)
    } catch (err) {
      const waitMs = this.#backoff.next()
      const retryAt = clock.now().getTime() + waitMs
      for (const entry of [...batch, ...rest]) {
        this.#retryAt.set(entry.id, retryAt)
        this.#requeue(entry.id)
      }
      if (isRefusal(err)) {
        // Attesting again reopens the entry sync, whose full set retries these at once.
        this.#o.onRejected(err)
        return false
      }
      this.#o.reachability.failed(clock.now())
      log.warn('Signing SVIDs failed; serving the SVIDs the agent has and retrying', {
        err: errorMessage(err),
        pending: batch.length + rest.length,
        retryInMs: waitMs,
      })
      return false
    }
    this.#backoff.reset()
    this.#o.reachability.reached()
    const nowMs = clock.now().getTime()
    let changed = false
    for (let k = 0; k < batch.length; k++) {
      const entry = batch[k]!
      // Results come in request order; the id check guards against a server that reorders them.
      const result = results[k]?.entryId === entry.id ? results[k] : results.find((r) => r.entryId === entry.id)
      const current = cache.entry(entry.id)
      // Deleted or changed while the call was out: requeued as the cache holds it now.
      if (current !== undefined && current.revisionNumber === entry.revisionNumber) {
        if (result === undefined || !result.ok) {
          this.#retryAt.set(entry.id, nowMs + timing.retryMaxMs)
          const reason = result === undefined ? 'no result' : errorMessage(result.error)
          log.warn('The server did not sign an SVID', { entryId: entry.id, spiffeId: entry.spiffeId.toString(), err: reason })
        } else if (result.expiresAt.getTime() <= nowMs) {
          // Expired on arrival (clocks apart): not served, tried again later rather than at once.
          this.#retryAt.set(entry.id, nowMs + timing.retryMaxMs)
        } else {
          const lifetimeMs = result.expiresAt.getTime() - nowMs
          const fraction = timing.rotateFraction * (1 + timing.rotateJitter * (2 * this.#o.random() - 1))
          cache.storeSvid(entry.id, {
            svid: {
              entryId: entry.id,
              spiffeId: result.spiffeId,
              hint: entry.hint,
              chainDer: result.svidChainDer,
              privateKeyDer: keys[k]!.export({ format: 'der', type: 'pkcs8' }),
              notAfter: result.expiresAt,
            },
            revision: entry.revisionNumber,
            rotateAtMs: nowMs + Math.floor(lifetimeMs * fraction),
          })
          this.#retryAt.delete(entry.id)
          changed = true
        }
      }
      this.#requeue(entry.id)
    }
    if (changed) cache.notify()
    return true
  }
}
