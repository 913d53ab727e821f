import { errorMessage } from '../common/errors.js'
import type { ServerCore } from './core.js'

/** What the server says about itself: alive (answering), ready (serving), and why not. */
export interface HealthReport {
  /** The process answers. */
  readonly live: boolean
  /** Every API listens, the CA can sign now, and the data store answers. */
  readonly ready: boolean
  /** Why not ready ('' when ready). */
  readonly problem: string
  readonly trustDomain: string
  /** When the active X.509 CA expires; undefined when there is none. */
  readonly caExpiresAt: Date | undefined
  /** Registration entries and attested agents (0 when the store did not answer). */
  readonly entries: number
  readonly agents: number
}

/**
 * Health and readiness, shared by the admin API's Health call (the `healthcheck` command) and the
 * metrics port's /live and /ready.
 */
export class HealthChecker {
  readonly #core: ServerCore
  readonly #serving: () => boolean

  /** `serving` says whether start-up finished and shutdown has not begun. */
  constructor(core: ServerCore, serving: () => boolean) {
    this.#core = core
    this.#serving = serving
  }

  /** Checks now; never rejects (a failing check makes the report not ready, with the reason). */
  async check(): Promise<HealthReport> {
    const now = this.#core.clock()
    let caExpiresAt: Date | undefined
    let problem = ''
    try {
      caExpiresAt = this.#core.ca.activeAuthority().notAfter
      if (caExpiresAt.getTime() <= now.getTime()) problem = 'the active CA has expired'
    } catch (err) {
      problem = `ca: ${errorMessage(err)}`
    }
    let entries = 0
    let agents = 0
    try {
      ;[entries, agents] = await Promise.all([this.#core.store.entries.count(), this.#core.store.nodes.count()])
    } catch (err) {
      problem ||= `data store: ${errorMessage(err)}`
    }
    if (!this.#serving()) problem ||= 'the server is starting or stopping'
    return {
      live: true,
      ready: problem === '',
      problem,
      trustDomain: this.#core.config.trustDomain.name,
      caExpiresAt,
      entries,
      agents,
    }
  }
}
