import { setTimeout as sleep } from 'node:timers/promises'

/** A timer started by a {@link Clock}. */
export interface ClockTimer {
  /** Stops the timer; nothing happens when it has fired already. */
  cancel(): void
}

/**
 * Time as the agent's manager sees it: the current instant, timers and waits from one source, so
 * every scheduling decision can be driven by hand in tests (test/fakes/fake-clock.ts).
 */
export interface Clock {
  now(): Date
  /** Calls `fn` once after `delayMs` (at once, on a later turn of the event loop, for 0 or less). */
  setTimer(fn: () => void, delayMs: number): ClockTimer
  /** Resolves after `delayMs`, or as soon as `signal` aborts; never rejects. */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>
}

/** Node's timers cannot wait longer than this; a longer wait fires early, and the caller decides again. */
const MAX_TIMER_MS = 2 ** 31 - 1

function timerDelay(delayMs: number): number {
  return Math.min(Math.max(0, delayMs), MAX_TIMER_MS)
}

/** The wall clock and Node's timers. */
export const systemClock: Clock = Object.freeze({
  now: () => new Date(),
  setTimer(fn: () => void, delayMs: number): ClockTimer {
    const timer = setTimeout(fn, timerDelay(delayMs))
    return { cancel: () => clearTimeout(timer) }
  },
  sleep: (delayMs: number, signal?: AbortSignal): Promise<void> =>
    sleep(timerDelay(delayMs), undefined, signal === undefined ? undefined : { signal }).catch(() => undefined),
})
