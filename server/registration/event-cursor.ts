import type { Logger } from '../../common/logger.js'

/** Default for how long a missing event ID is waited for. */
export const DEFAULT_EVENT_GAP_TIMEOUT_MS = 60_000
// More missing IDs than this at once is not a commit race (a restored database, a sequence jump):
// waiting for them would only re-read the same events over and over.
const MAX_TRACKED_GAPS = 10_000

/**
 * Where a reader of the change-event log stands. Event IDs are handed out when a transaction
 * starts but become visible when it commits, so with a store shared by several servers a lower ID
 * can appear after a higher one. The cursor therefore stays just below the lowest missing ID for
 * up to `gapTimeoutMs`, events above it are read again, and the ones already applied are skipped.
 */
export class EventCursor {
  readonly #gapTimeoutMs: number
  readonly #log: Logger
  readonly #nowMs: () => number
  /** Every event up to here is applied (or given up). */
  #position: number
  /** Highest event ID applied. */
  #highest: number
  /** Applied events above the position. */
  readonly #applied = new Set<number>()
  /** Missing event ID → when it was first missed (ms). */
  readonly #gaps = new Map<number, number>()

  /** `nowMs` is wall-clock time by default: it bounds a race between database commits. */
  constructor(start: number, opts: { gapTimeoutMs?: number; log: Logger; nowMs?: () => number }) {
    this.#position = this.#highest = start
    this.#gapTimeoutMs = opts.gapTimeoutMs ?? DEFAULT_EVENT_GAP_TIMEOUT_MS
    this.#log = opts.log
    this.#nowMs = opts.nowMs ?? Date.now
  }

  /** Read events after this ID; every one up to it is applied or given up. */
  get position(): number {
    return this.#position
  }

  /** Whether an event above the position was applied already (and must be skipped). */
  isApplied(eventId: number): boolean {
    return this.#applied.has(eventId)
  }

  /** Starts over at `eventId` (after a full reload). */
  reset(eventId: number): void {
    this.#position = this.#highest = eventId
    this.#applied.clear()
    this.#gaps.clear()
  }

  /** Records a pass: the event IDs just applied (possibly none); moves the position as far as it can. */
  advance(applied: readonly number[]): void {
    const nowMs = this.#nowMs()
    const previous = this.#highest
    let highest = previous
    let above = 0
    for (const id of applied) {
      this.#applied.add(id)
      this.#gaps.delete(id)
      if (id > previous) above++
      if (id > highest) highest = id
    }
    const missing = highest - previous - above
    if (missing > MAX_TRACKED_GAPS) {
      this.#log.warn('Change events skipped', { from: previous + 1, to: highest, missing })
    } else {
      for (let id = previous + 1; id < highest; id++) if (!this.#applied.has(id)) this.#gaps.set(id, nowMs)
    }
    this.#highest = highest
    for (const [id, since] of this.#gaps) {
      if (nowMs - since >= this.#gapTimeoutMs) {
        this.#gaps.delete(id)
        this.#log.debug('Missing change event given up', { eventId: id })
      }
    }
    let position = highest
    for (const id of this.#gaps.keys()) if (id - 1 < position) position = id - 1
    this.#position = position
    for (const id of this.#applied) if (id <= position) this.#applied.delete(id)
  }
}
