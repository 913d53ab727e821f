import type { Clock, ClockTimer } from '../../agent/manager/clock.js'

interface PendingTimer {
  readonly atMs: number
  readonly seq: number
  readonly fn: () => void
}

/**
 * A {@link Clock} that moves only when the test says so: timers and sleeps fire during
 * {@link advance}, in due order, each with the clock reading its due time. Nothing waits for real
 * time, so tests of schedules run in microseconds and cannot flake on a slow machine.
 */
export class FakeClock implements Clock {
  #ms: number
  #seq = 0
  readonly #timers = new Map<number, PendingTimer>()

  constructor(start: Date | number = Date.UTC(2030, 0, 1)) {
    this.#ms = typeof start === 'number' ? start : start.getTime()
  }

  now(): Date {
    return new Date(this.#ms)
  }

  setTimer(fn: () => void, delayMs: number): ClockTimer {
    const seq = this.#seq++
    this.#timers.set(seq, { atMs: this.#ms + Math.max(0, delayMs), seq, fn })
    return { cancel: () => this.#timers.delete(seq) }
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const onAbort = (): void => {
        timer.cancel()
        resolve()
      }
      const timer = this.setTimer(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, delayMs)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** How many timers and sleeps are pending. */
  get pendingTimers(): number {
    return this.#timers.size
  }

  /** When the earliest pending timer is due, or undefined when none is pending. */
  nextTimerAt(): Date | undefined {
    const next = this.#earliest()
    return next === undefined ? undefined : new Date(next.atMs)
  }

  /**
   * Moves the clock `ms` forward, firing every timer due by then (those set by a firing timer too),
   * earliest first; `advance(0)` fires the timers due now.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new TypeError(`the fake clock only moves forward, not by ${ms} ms`)
    const end = this.#ms + ms
    for (let next = this.#earliest(); next !== undefined && next.atMs <= end; next = this.#earliest()) {
      this.#timers.delete(next.seq)
      this.#ms = Math.max(this.#ms, next.atMs)
      next.fn()
    }
    this.#ms = end
  }

  /** Moves the clock forward to `at` (see {@link advance}). */
  advanceTo(at: Date | number): void {
    this.advance(Math.max(0, (typeof at === 'number' ? at : at.getTime()) - this.#ms))
  }

  #earliest(): PendingTimer | undefined {
    let earliest: PendingTimer | undefined
    for (const timer of this.#timers.values()) {
      if (earliest === undefined || timer.atMs < earliest.atMs || (timer.atMs === earliest.atMs && timer.seq < earliest.seq)) earliest = timer
    }
    return earliest
  }
}

/**
 * Lets real work run (promise chains, file I/O) until `probe` holds, without moving any fake clock.
 * @throws naming `what` when it does not hold within `limitMs` of real time (a hang, not a timing rule).
 */
export async function until(what: string, probe: () => boolean, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${limitMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}
