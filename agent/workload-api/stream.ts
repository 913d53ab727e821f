import { createHash } from 'node:crypto'
import type * as grpc from '@grpc/grpc-js'
import type { Logger } from '../../common/logger.js'
import type { IdentityCache } from '../manager/index.js'
import { attestationFailed, identityUnavailable, noIdentity, workloadApiStatus } from './caller.js'
import type { CallerInfo } from './peer/tracker.js'

/** What a stream should do given the cache as it is now. */
export type StreamState<M> =
  /** Send this full message (unless the caller already has exactly it). */
  | { readonly kind: 'send'; readonly message: M; readonly onSent?: () => void }
  /**
   * Nothing valid to send now (entries match but none has a valid SVID). `expected`: it is being
   * made and should come shortly (minting with the server reachable); otherwise nothing will come
   * soon (server unreachable past the expiry, signing failing). `onUnavailable` logs why, when the
   * stream is refused for it or, having sent before, starts waiting for an unexpected SVID.
   */
  | { readonly kind: 'wait'; readonly expected: boolean; readonly onUnavailable?: (outcome: UnavailableOutcome) => void }
  /** The caller has no identity (any more): end with PERMISSION_DENIED. */
  | { readonly kind: 'deny' }

/** What a stream did about a 'wait': ended with UNAVAILABLE, or stayed open for the next message. */
export type UnavailableOutcome = 'UNAVAILABLE' | 'stream kept open'

export interface UpdateStreamOptions<M> {
  readonly call: grpc.ServerWritableStream<unknown, M>
  readonly cache: IdentityCache
  readonly caller: CallerInfo
  /** The state for this caller now; a throw ends the stream through `workloadApiStatus`. */
  readonly compute: () => StreamState<M>
  /** The message's wire bytes: two messages are the same update when these are. */
  readonly serialize: (message: M) => Buffer
  readonly log: Logger
  /** How long a stream that has sent nothing waits for an expected first message (then UNAVAILABLE). */
  readonly firstMessageWaitMs: number
  /** Called once when the stream is over, however it ended. */
  readonly onDone: () => void
}

/**
 * One server stream of the Workload API (SPIFFE_Workload_API.md §4.3): the first message goes out
 * at once (WAPI-06), then a full new message whenever a cache change alters what this caller would
 * receive (WAPI-05, WAPI-07). Bursts of changes are coalesced into one recomputation, a change that
 * leaves the message byte-for-byte the same sends nothing, and while the client reads slowly only the
 * latest state is kept, not a queue. The stream ends with PERMISSION_DENIED when the caller has no
 * identity (WX-10, WX-11), and with UNAVAILABLE when the caller process is gone.
 *
 * When there is nothing valid to send (a 'wait'), a stream that has sent nothing yet ends with
 * UNAVAILABLE at once unless a message is expected, and then after `firstMessageWaitMs` at the
 * latest: a new call never waits unbounded (WEP-12). A stream that has sent before stays open and
 * silent: the caller is still entitled, so PERMISSION_DENIED would be wrong, and an empty message
 * would be no better (go-spiffe reports "no SVIDs in response" as a watch error and keeps what it
 * had, as it does with silence); the next valid message goes out as soon as it exists.
 */
export class UpdateStream<M> {
  readonly #opts: UpdateStreamOptions<M>
  #unsubscribe: (() => void) | undefined
  #lastFingerprint: string | undefined
  #ended = false
  /** A change arrived that is not reflected in what was last sent. */
  #dirty = false
  #scheduled = false
  /** The last write filled the transport's buffer; send again on 'drain'. */
  #blocked = false
  /** Ends the wait for a first message; cleared once one is sent. */
  #firstMessageTimer: NodeJS.Timeout | undefined
  #firstMessageWaitOver = false
  /** The move of this open stream into waiting for an unexpected SVID is reported (once per wait). */
  #waitReported = false

  constructor(opts: UpdateStreamOptions<M>) {
    this.#opts = opts
  }

  /** Subscribes to the cache, then sends the first state. */
  start(): void {
    const { call, cache } = this.#opts
    call.on('cancelled', () => this.#finish())
    call.on('drain', () => {
      this.#blocked = false
      if (this.#dirty) this.#schedule()
    })
    // Subscribed before the first computation, so no change can fall between the two.
    this.#unsubscribe = cache.subscribe(() => this.#schedule())
    this.#firstMessageTimer = setTimeout(() => {
      this.#firstMessageWaitOver = true
      this.#update()
    }, this.#opts.firstMessageWaitMs)
    this.#update()
  }

  /** Ends the stream with `err`'s status (or OK without one); later calls do nothing. */
  end(err?: unknown): void {
    if (this.#ended) return
    const { call, log } = this.#opts
    this.#finish()
    if (err === undefined) call.end()
    else call.emit('error', workloadApiStatus(err, log))
  }

  #schedule(): void {
    if (this.#ended) return
    this.#dirty = true
    if (this.#scheduled || this.#blocked) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      if (!this.#blocked) this.#update()
    })
  }

  #update(): void {
    if (this.#ended) return
    this.#dirty = false
    const { call, caller, compute, serialize, log } = this.#opts
    if (!caller.isAlive()) {
      log.info('Workload API stream ended', { reason: 'caller exited' })
      this.end(attestationFailed())
      return
    }
    let state: StreamState<M>
    try {
      state = compute()
    } catch (err) {
      this.end(err)
      return
    }
    if (state.kind === 'deny') {
      this.end(noIdentity())
      return
    }
    if (state.kind === 'wait') {
      const sentBefore = this.#lastFingerprint !== undefined
      if (!sentBefore && (!state.expected || this.#firstMessageWaitOver)) {
        state.onUnavailable?.('UNAVAILABLE')
        this.end(identityUnavailable())
        return
      }
      if (sentBefore && !state.expected && !this.#waitReported) {
        this.#waitReported = true
        state.onUnavailable?.('stream kept open')
      }
      return
    }
    this.#waitReported = false
    const fingerprint = createHash('sha256').update(serialize(state.message)).digest('base64')
    if (fingerprint === this.#lastFingerprint) return
    this.#lastFingerprint = fingerprint
    clearTimeout(this.#firstMessageTimer)
    if (!call.write(state.message)) this.#blocked = true
    state.onSent?.()
  }

  #finish(): void {
    if (this.#ended) return
    this.#ended = true
    clearTimeout(this.#firstMessageTimer)
    this.#unsubscribe?.()
    this.#opts.onDone()
  }
}
