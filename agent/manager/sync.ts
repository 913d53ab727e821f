import { errorMessage, type SteepleError } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import { isRefusal, type EntrySyncClient } from '../client/server-api.js'
import type { AuthorizedSync, AuthorizedUpdate } from '../client/server-client.js'
import { Backoff } from './backoff.js'
import type { Clock } from './clock.js'
import type { ServerReachability } from './reachability.js'
import type { ManagerTiming } from './timing.js'

export interface EntrySyncOptions {
  readonly client: EntrySyncClient
  readonly clock: Clock
  readonly random: () => number
  readonly timing: Pick<ManagerTiming, 'retryInitialMs' | 'retryMaxMs'>
  readonly log: Logger
  /** Told of each connection that fails and each message that arrives. */
  readonly reachability: ServerReachability
  /** Each message of the stream, in order (the full set first after every reconnect). */
  readonly onUpdate: (update: AuthorizedUpdate) => void
  /** The server refused the agent SVID; resolves when the stream may be opened again (after attesting anew). */
  readonly onRejected: (err: SteepleError) => Promise<void>
}

/**
 * Keeps the agent's SyncAuthorized stream open (SPIRE's manager/sync): hands on each message,
 * reconnects with backoff when the stream fails or ends, and waits for a new agent SVID when the
 * server refuses the current one. What the agent holds stays in use meanwhile.
 */
export class EntrySync {
  readonly #o: EntrySyncOptions
  readonly #backoff: Backoff
  /** Aborted by close(): ends the wait between reconnects at once. */
  readonly #stopping = new AbortController()
  #stream: AuthorizedSync | undefined
  #loop: Promise<void> | undefined

  constructor(options: EntrySyncOptions) {
    this.#o = options
    this.#backoff = new Backoff(options.timing.retryInitialMs, options.timing.retryMaxMs, options.random)
  }

  /** Failed attempts since the last message from the server (0 while the stream delivers). */
  get failures(): number {
    return this.#backoff.failures
  }

  /** Opens the stream and keeps it open until {@link close}. */
  start(): void {
    this.#loop ??= this.#run()
  }

  /** Reopens the stream (it was opened with an agent SVID that has just been replaced). */
  reconnect(): void {
    this.#stream?.close()
  }

  /** Closes the stream for good. Safe to call twice. */
  close(): void {
    this.#stopping.abort()
    this.#stream?.close()
  }

  /** Resolves when the loop has ended (after {@link close}). */
  async done(): Promise<void> {
    await this.#loop
  }

  get #closed(): boolean {
    return this.#stopping.signal.aborted
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      let delivered = false
      try {
        const stream = this.#o.client.syncAuthorized((update) => {
          delivered = true
          this.#o.reachability.reached()
          this.#backoff.reset()
          this.#o.onUpdate(update)
        })
        this.#stream = stream
        await stream.done
        if (this.#closed) return
        this.#o.log.debug('Entry sync stream ended; reconnecting')
      } catch (err) {
        if (this.#closed) return
        if (isRefusal(err)) {
          await this.#o.onRejected(err)
          continue
        }
        this.#o.reachability.failed(this.#o.clock.now())
        const waitMs = this.#backoff.next()
        this.#o.log.warn('Entry sync failed; serving what the agent has and retrying', {
          err: errorMessage(err),
          retryInMs: waitMs,
          attempt: this.#backoff.failures,
        })
        await this.#o.clock.sleep(waitMs, this.#stopping.signal)
        continue
      } finally {
        this.#stream = undefined
      }
      if (!delivered) await this.#o.clock.sleep(this.#backoff.next(), this.#stopping.signal)
    }
  }
}
