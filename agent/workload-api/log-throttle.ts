import type { Logger } from '../../common/logger.js'

/**
 * Lets a warning through once per interval for each key and writes the others at debug, so a client
 * retrying with backoff (or many replicas of one workload) cannot flood the log with the same
 * warning. The next warning let through for a key carries `suppressed`: how many were held back.
 */
export class WarnThrottle {
  readonly #intervalMs: number
  readonly #nowMs: () => number
  /** Key → when its last warning went out, and how many were held back since. */
  readonly #last = new Map<string, { atMs: number; held: number }>()

  constructor(intervalMs: number, nowMs: () => number = Date.now) {
    this.#intervalMs = intervalMs
    this.#nowMs = nowMs
  }

  /** `log.warn(msg, fields)`, unless a warning with this key went out less than an interval ago. */
  warn(log: Logger, key: string, msg: string, fields: Record<string, unknown>): void {
    const nowMs = this.#nowMs()
    const last = this.#last.get(key)
    if (last !== undefined && nowMs - last.atMs < this.#intervalMs) {
      last.held++
      log.debug(msg, fields)
      return
    }
    // Keys whose interval is over and that held nothing back have nothing left to say.
    for (const [k, v] of this.#last) if (v.held === 0 && nowMs - v.atMs >= this.#intervalMs) this.#last.delete(k)
    this.#last.set(key, { atMs: nowMs, held: 0 })
    log.warn(msg, last !== undefined && last.held > 0 ? { ...fields, suppressed: last.held } : fields)
  }
}
