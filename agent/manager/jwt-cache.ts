/** A JWT-SVID the agent holds (the token is a secret: never log it). */
export interface CachedJwtSvid {
  readonly token: string
  readonly issuedAt: Date
  readonly expiresAt: Date
}

/** How many (entry, audience set) pairs are kept; AI-agent workloads may ask for many audiences. */
export const DEFAULT_JWT_CACHE_SIZE = 10_000

/**
 * JWT-SVIDs per (entry, audience set). A token is handed out again until half of its lifetime has
 * passed, then signed anew, so a workload never receives a token with less than half its life left.
 * Audience order and duplicates do not matter (`[b, a, a]` is the set `{a, b}`). Concurrent requests
 * for the same pair share one signing call. Least recently used pairs go first when full.
 */
export class JwtSvidCache {
  readonly #maxSize: number
  // Map iteration order is insertion order: re-inserting on use keeps the least recently used first.
  readonly #tokens = new Map<string, CachedJwtSvid>()
  /**
   * Signing calls under way. `deleteEntry` drops an entry's calls from here, so a call that started
   * before it neither stores its result nor is shared with later callers.
   */
  readonly #inFlight = new Map<string, Promise<CachedJwtSvid>>()

  constructor(maxSize = DEFAULT_JWT_CACHE_SIZE) {
    if (!(maxSize >= 1)) throw new TypeError(`jwt cache size must be at least 1, not ${maxSize}`)
    this.#maxSize = maxSize
  }

  get size(): number {
    return this.#tokens.size
  }

  /**
   * A token for `entryId` and `audience` still before half of its life at `now`, else the result of
   * `sign()` (stored for later callers).
   */
  async get(entryId: string, audience: readonly string[], now: Date, sign: () => Promise<CachedJwtSvid>): Promise<CachedJwtSvid> {
    const key = cacheKey(entryId, audience)
    const cached = this.#tokens.get(key)
    if (cached !== undefined) {
      if (isFresh(cached, now)) {
        this.#tokens.delete(key)
        this.#tokens.set(key, cached)
        return cached
      }
      this.#tokens.delete(key)
    }
    const pending = this.#inFlight.get(key)
    if (pending !== undefined) return pending
    const signing: Promise<CachedJwtSvid> = sign().then(
      (svid) => {
        if (this.#inFlight.get(key) === signing) {
          this.#inFlight.delete(key)
          this.#store(key, svid)
        }
        return svid
      },
      (err: unknown) => {
        if (this.#inFlight.get(key) === signing) this.#inFlight.delete(key)
        throw err
      },
    )
    this.#inFlight.set(key, signing)
    return signing
  }

  /** Forgets every token of an entry (deleted, or changed so that its tokens may be wrong). */
  deleteEntry(entryId: string): void {
    const prefix = `${entryId}\n`
    for (const key of this.#tokens.keys()) if (key.startsWith(prefix)) this.#tokens.delete(key)
    for (const key of this.#inFlight.keys()) if (key.startsWith(prefix)) this.#inFlight.delete(key)
  }

  /** Drops tokens past half of their life (called now and then, so the map does not hold dead tokens). */
  prune(now: Date): void {
    for (const [key, svid] of this.#tokens) if (!isFresh(svid, now)) this.#tokens.delete(key)
  }

  /** Forgets every token, and every signing call under way (as `deleteEntry` for all entries). */
  clear(): void {
    this.#tokens.clear()
    this.#inFlight.clear()
  }

  #store(key: string, svid: CachedJwtSvid): void {
    this.#tokens.set(key, svid)
    if (this.#tokens.size > this.#maxSize) {
      const oldest = this.#tokens.keys().next().value
      if (oldest !== undefined) this.#tokens.delete(oldest)
    }
  }
}

function cacheKey(entryId: string, audience: readonly string[]): string {
  // Entry IDs and audiences cannot hold a newline in a useful way; JSON keeps any value unambiguous.
  return `${entryId}\n${JSON.stringify([...new Set(audience)].sort())}`
}

function isFresh(svid: CachedJwtSvid, now: Date): boolean {
  const issued = svid.issuedAt.getTime()
  const halfLife = issued + (svid.expiresAt.getTime() - issued) / 2
  return now.getTime() < halfLife
}
