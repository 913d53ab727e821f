import { NotFoundError, errorMessage } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { AttestedNode } from '../../plugins/data-store/types.js'
import type { SpiffeId } from '../../spiffe/index.js'
import type { ServerCore } from '../core.js'

/** How often at most an agent's `lastSeenAt` is written. */
export const LAST_SEEN_INTERVAL_MS = 60_000

type NodeRecord = Omit<AttestedNode, 'createdAt'>

/**
 * Read-modify-write of attested node records, serialized per agent within this server: the store
 * replaces whole records, so two concurrent changes (a renewal and a lastSeenAt touch) would
 * otherwise undo each other. (The store wakes the entry cache after each write.)
 */
export class NodeUpdater {
  readonly #core: ServerCore
  readonly #log: Logger
  readonly #queues = new Map<string, Promise<unknown>>()
  /** Agent → when this server last wrote its lastSeenAt (ms), so most calls write nothing. */
  readonly #touched = new Map<string, number>()

  constructor(core: ServerCore, log: Logger) {
    this.#core = core
    this.#log = log
  }

  /**
   * Re-reads the node and stores `change(node)`; `undefined` from `change` writes nothing.
   * Resolves with the node as stored afterwards, undefined when it does not exist (evicted).
   */
  update(agentId: SpiffeId, change: (node: AttestedNode) => NodeRecord | undefined): Promise<AttestedNode | undefined> {
    const key = agentId.toString()
    const previous = this.#queues.get(key) ?? Promise.resolve()
    const run = previous.then(async () => {
      const node = await this.#core.store.nodes.get(agentId)
      if (node === undefined) return undefined
      const next = change(node)
      if (next === undefined) return node
      try {
        return await this.#core.store.nodes.update(next)
      } catch (err) {
        if (err instanceof NotFoundError) return undefined
        throw err
      }
    })
    const tail = run.catch(() => undefined)
    this.#queues.set(key, tail)
    void tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key)
    })
    return run
  }

  /** Records that the agent was seen now, writing at most once per {@link LAST_SEEN_INTERVAL_MS}. Never rejects. */
  touch(node: AttestedNode): void {
    const key = node.spiffeId.toString()
    const now = this.#core.clock().getTime()
    const last = Math.max(this.#touched.get(key) ?? 0, node.lastSeenAt?.getTime() ?? 0)
    if (now - last < LAST_SEEN_INTERVAL_MS) return
    this.#touched.set(key, now)
    if (this.#touched.size > 10_000) this.#forgetOld(now)
    this.update(node.spiffeId, (current) => ({ ...current, lastSeenAt: new Date(now) })).catch((err: unknown) =>
      this.#log.warn('Agent last-seen time not recorded', { agentId: key, err: errorMessage(err) }),
    )
  }

  /** Drops the remembered writes old enough not to matter, so the map does not grow with every agent ever seen. */
  #forgetOld(now: number): void {
    for (const [key, at] of this.#touched) if (now - at >= LAST_SEEN_INTERVAL_MS) this.#touched.delete(key)
  }
}
