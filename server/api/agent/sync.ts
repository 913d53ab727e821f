import type * as grpc from '@grpc/grpc-js'
import { PermissionDeniedError, UnavailableError } from '../../../common/errors.js'
import type { Logger } from '../../../common/logger.js'
import type { RegistrationEntry } from '../../../plugins/data-store/types.js'
import type { SyncAuthorizedRequest__Output } from '../../../proto/generated/steeple/agent/v1/SyncAuthorizedRequest.js'
import type { SyncAuthorizedResponse } from '../../../proto/generated/steeple/agent/v1/SyncAuthorizedResponse.js'
import type { SpiffeId } from '../../../spiffe/index.js'
import type { ServerCore } from '../../core.js'
import type { CacheChange } from '../../registration/index.js'
import { entryToMessage } from '../convert.js'
import type { AgentAuthenticator } from './auth.js'
import { bundleMessages, bundlesForEntries } from './bundles.js'
import { applyCacheEvents, writeMessage } from './common.js'

type SyncCall = grpc.ServerWritableStream<SyncAuthorizedRequest__Output, SyncAuthorizedResponse>

/** How long changes are gathered before one message goes out. */
export const DEFAULT_COALESCE_MS = 5
/** How often every stream is recomputed anyway (node entries expiring make no change event). */
export const DEFAULT_RESYNC_INTERVAL_MS = 30_000

const MAX_TIMER_MS = 2 ** 31 - 1

/** What {@link SyncHub} works with; timings in milliseconds. */
export interface SyncHubOptions {
  readonly core: ServerCore
  readonly auth: AgentAuthenticator
  readonly log: Logger
  readonly coalesceMs?: number
  readonly resyncIntervalMs?: number
}

/**
 * SyncAuthorized: each agent's stream gets the full set of its authorized entries and bundles,
 * then only what changed, pushed as soon as the entry cache or the bundle changes. One hub
 * subscribes to those changes and routes them to the streams of the agents concerned.
 */
export class SyncHub {
  readonly #o: SyncHubOptions
  readonly #sessions = new Map<string, Set<SyncSession>>()
  readonly #unsubscribe: (() => void)[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(opts: SyncHubOptions) {
    this.#o = opts
  }

  /** Subscribes to cache and bundle changes. */
  start(): void {
    this.#unsubscribe.push(
      this.#o.core.cache.onChange((change) => this.#onCacheChange(change)),
      this.#o.core.ownBundle.subscribe(() => this.#markAll()),
    )
    this.#timer = setInterval(() => this.#markAll(), this.#o.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS)
    this.#timer.unref()
  }

  /** Ends every stream with UNAVAILABLE (so agents reconnect elsewhere) and unsubscribes. */
  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe()
    if (this.#timer !== undefined) clearInterval(this.#timer)
    for (const sessions of this.#sessions.values()) {
      for (const session of sessions) session.fail(new UnavailableError('server is shutting down'))
    }
  }

  /** Number of open streams (for tests and metrics). */
  get streamCount(): number {
    let n = 0
    for (const sessions of this.#sessions.values()) n += sessions.size
    return n
  }

  /**
   * Serves one stream until the agent cancels it or the server ends it.
   * @throws what {@link AgentAuthenticator.authenticate} throws; PermissionDeniedError when the agent
   *   is evicted or banned while the stream is open.
   */
  async syncAuthorized(call: SyncCall): Promise<void> {
    const peer = await this.#o.auth.authenticate(call)
    const key = peer.agentId.toString()
    const log = this.#o.log.child({ agentId: key })
    const session = new SyncSession(this.#o, call, peer.agentId, peer.node.createdAt.getTime(), log)
    let set = this.#sessions.get(key)
    if (set === undefined) this.#sessions.set(key, (set = new Set()))
    set.add(session)
    log.debug('Sync stream opened')
    try {
      await session.run()
    } finally {
      set.delete(session)
      if (set.size === 0 && this.#sessions.get(key) === set) this.#sessions.delete(key)
      log.debug('Sync stream closed')
    }
  }

  #onCacheChange(change: CacheChange): void {
    const own = this.#o.core.config.trustDomain.name
    // The own bundle reaches the streams through its owner, once it has re-read it.
    if (change.bundleTrustDomains.some((td) => td !== own)) {
      this.#markAll()
      return
    }
    for (const agentId of change.agentIds) {
      for (const session of this.#sessions.get(agentId.toString()) ?? []) session.markDirty()
    }
  }

  #markAll(): void {
    for (const sessions of this.#sessions.values()) for (const session of sessions) session.markDirty()
  }
}

/** One open SyncAuthorized stream: what the agent holds, and the pending push. */
class SyncSession {
  readonly #o: SyncHubOptions
  readonly #call: SyncCall
  readonly #agentId: SpiffeId
  /** createdAt of the node the stream was opened for: a node attested again after eviction is another node. */
  readonly #nodeCreatedAt: number
  readonly #log: Logger
  /** Entry ID → revision the agent holds. */
  readonly #sent = new Map<string, number>()
  #bundleFingerprint = ''
  #first = true
  #dirty = false
  #flushing = false
  #closed = false
  #timer: NodeJS.Timeout | undefined
  #expiryTimer: NodeJS.Timeout | undefined
  #resolve: () => void = () => {}
  #reject: (err: unknown) => void = () => {}

  constructor(o: SyncHubOptions, call: SyncCall, agentId: SpiffeId, nodeCreatedAt: number, log: Logger) {
    this.#o = o
    this.#call = call
    this.#agentId = agentId
    this.#nodeCreatedAt = nodeCreatedAt
    this.#log = log
  }

  /** Sends the full set, then changes; resolves when the agent goes away, rejects when the stream must end with an error. */
  run(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    this.#call.on('cancelled', () => this.#end())
    this.#call.on('close', () => this.#end())
    this.markDirty()
    return done
  }

  /** Something the agent may care about changed: push within the coalescing window. */
  markDirty(): void {
    if (this.#closed) return
    this.#dirty = true
    if (this.#timer === undefined && !this.#flushing) {
      this.#timer = setTimeout(() => void this.#flush(), this.#first ? 0 : (this.#o.coalesceMs ?? DEFAULT_COALESCE_MS))
    }
  }

  /** Ends the stream with this error. */
  fail(err: unknown): void {
    if (this.#closed) return
    this.#stop()
    this.#reject(err)
  }

  #end(): void {
    if (this.#closed) return
    this.#stop()
    this.#resolve()
  }

  #stop(): void {
    this.#closed = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    if (this.#expiryTimer !== undefined) clearTimeout(this.#expiryTimer)
    this.#timer = undefined
    this.#expiryTimer = undefined
  }

  async #flush(): Promise<void> {
    this.#timer = undefined
    if (this.#closed) return
    this.#flushing = true
    this.#dirty = false
    try {
      await this.#sync()
    } catch (err) {
      this.fail(err)
    } finally {
      this.#flushing = false
    }
    if (this.#dirty) this.markDirty()
  }

  async #sync(): Promise<void> {
    const { core } = this.#o
    let node = core.cache.node(this.#agentId)
    // The store said the node exists when the call was authenticated; the cache may trail it.
    if (node === undefined && this.#first) {
      await applyCacheEvents(core, this.#log)
      node = core.cache.node(this.#agentId)
    }
    if (node === undefined || node.createdAt.getTime() !== this.#nodeCreatedAt) {
      throw new PermissionDeniedError(`agent ${this.#agentId.toString()} was evicted: attest again`)
    }
    if (node.banned) throw new PermissionDeniedError(`agent ${this.#agentId.toString()} is banned`)

    const entries = core.cache.authorizedEntries(this.#agentId)
    const bundles = bundleMessages(await bundlesForEntries(core, entries))
    if (this.#closed) return
    const current = new Map(entries.map((e) => [e.id, e]))
    const upserted = this.#first ? entries : entries.filter((e) => this.#sent.get(e.id) !== e.revisionNumber)
    const deletedIds = this.#first ? [] : [...this.#sent.keys()].filter((id) => !current.has(id))
    const bundlesChanged = bundles.fingerprint !== this.#bundleFingerprint
    this.#scheduleExpiry(entries)
    if (!this.#first && upserted.length === 0 && deletedIds.length === 0 && !bundlesChanged) return

    const message: SyncAuthorizedResponse = {
      full: this.#first,
      upserted: upserted.map(entryToMessage),
      deleted_ids: deletedIds,
      bundles: this.#first || bundlesChanged ? bundles.messages : [],
    }
    if (this.#first) this.#sent.clear()
    for (const entry of upserted) this.#sent.set(entry.id, entry.revisionNumber)
    for (const id of deletedIds) this.#sent.delete(id)
    this.#bundleFingerprint = bundles.fingerprint
    this.#log.debug('Authorized entries sent', {
      full: this.#first,
      upserted: upserted.length,
      deleted: deletedIds.length,
      bundles: message.bundles!.length,
    })
    this.#first = false
    await writeMessage(this.#call, message)
  }

  /** Entries stop being authorized after their expiry without any change event: recompute then. */
  #scheduleExpiry(entries: readonly RegistrationEntry[]): void {
    if (this.#expiryTimer !== undefined) clearTimeout(this.#expiryTimer)
    this.#expiryTimer = undefined
    let next = Infinity
    for (const entry of entries) if (entry.expiresAt !== undefined) next = Math.min(next, entry.expiresAt.getTime())
    if (next === Infinity) return
    // Authorized while now <= expiresAt: the first instant it is not is one millisecond later.
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(0, next + 1 - this.#o.core.clock().getTime()))
    this.#expiryTimer = setTimeout(() => this.markDirty(), delayMs)
    this.#expiryTimer.unref()
  }
}
