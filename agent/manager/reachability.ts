/**
 * Whether the server answers the agent's calls, as the entry sync and the minting scheduler find
 * out: the first failed call (connecting the stream, signing) marks it unreachable from that
 * instant, the next call that works marks it reachable again. Refusals of the agent SVID do not
 * count: the server answered.
 */
export class ServerReachability {
  #unreachableSince: Date | undefined

  /** Since when calls have been failing; undefined while they work. */
  get unreachableSince(): Date | undefined {
    return this.#unreachableSince
  }

  /** A call failed at `at` (the earliest failure in a row is kept). */
  failed(at: Date): void {
    this.#unreachableSince ??= at
  }

  /** A call worked. */
  reached(): void {
    this.#unreachableSince = undefined
  }
}
