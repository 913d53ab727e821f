/**
 * Exponential backoff with full jitter: the n-th consecutive failure waits a random time in
 * [base·2^(n-1)/2, base·2^(n-1)], capped at `maxMs`, so many agents that lost the same server do
 * not all come back in the same instant.
 */
export class Backoff {
  readonly #initialMs: number
  readonly #maxMs: number
  readonly #random: () => number
  #failures = 0

  constructor(initialMs: number, maxMs: number, random: () => number = Math.random) {
    if (!(initialMs > 0) || !(maxMs >= initialMs)) throw new TypeError(`backoff needs 0 < initialMs <= maxMs, not ${initialMs} and ${maxMs}`)
    this.#initialMs = initialMs
    this.#maxMs = maxMs
    this.#random = random
  }

  /** How many failures in a row so far. */
  get failures(): number {
    return this.#failures
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  next(): number {
    this.#failures++
    const ceiling = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#failures - 1, 30))
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2)
  }

  /** After a success: the next failure waits the initial time again. */
  reset(): void {
    this.#failures = 0
  }
}
