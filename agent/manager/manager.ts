import type { SteepleError } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { AgentNodeAttestorPlugin } from '../../plugins/node-attestor/types.js'
import type { LoadedPlugin } from '../../plugins/registry.js'
import type { Bundle, SelectorSet, SpiffeId } from '../../spiffe/index.js'
import type { AgentConfig } from '../config.js'
import type { AgentServerClient } from '../client/server-api.js'
import { ServerClient, type AuthorizedUpdate } from '../client/server-client.js'
import { AgentSvidRotator } from './agent-svid.js'
import { AgentCache } from './cache.js'
import { systemClock, type Clock } from './clock.js'
import { NodeBootstrap } from './node-attestation.js'
import { ServerReachability } from './reachability.js'
import { MintScheduler } from './scheduler.js'
import { AgentStorage } from './storage.js'
import { EntrySync } from './sync.js'
import { DEFAULT_MANAGER_TIMING, type ManagerTiming } from './timing.js'
import type { AgentEntry, IdentityCache, SvidShortage, WorkloadIdentities } from './types.js'


export interface AgentManagerOptions {
  readonly config: Pick<AgentConfig, 'trustDomain' | 'serverAddress' | 'serverPort' | 'dataDir' | 'trustBundlePath' | 'insecureBootstrap'>
  readonly nodeAttestor: LoadedPlugin<AgentNodeAttestorPlugin>
  readonly log: Logger
  /**
   * Called once when the agent cannot go on: the server refused its SVID for good (evicted or
   * banned) and the node attestor cannot attest again. The agent should stop.
   */
  readonly onFatal: (err: SteepleError) => void
  readonly timing?: Partial<ManagerTiming>
  readonly clock?: Clock
  readonly random?: () => number
  /** The server's agent API; by default a gRPC client of `config.serverAddress:serverPort`. */
  readonly client?: AgentServerClient
}

/**
 * The agent's SVID manager: wires its parts together and is the {@link IdentityCache} the Workload
 * API reads. Each part has one job and takes the server through its own narrow interface:
 *
 * - {@link NodeBootstrap} (node-attestation.ts): the agent SVID from the data directory or a node
 *   attestation, and the bundle the server is trusted with;
 * - {@link AgentSvidRotator} (agent-svid.ts): renewal of the agent SVID, re-attestation when refused;
 * - {@link EntrySync} (sync.ts): the SyncAuthorized stream of entries and bundles, with reconnects;
 * - {@link AgentCache} (cache.ts): entries, SVIDs and bundles as workloads see them;
 * - {@link MintScheduler} (scheduler.ts): minting and rotating workload SVIDs, ordered by due time.
 *
 * What the manager knows about the server's reachability is read here ({@link svidShortage}): since
 * when calls fail ({@link ServerReachability}, told by the sync and the scheduler), when an entry's
 * SVID expired ({@link AgentCache.expiredAt}), when its signing is retried
 * ({@link MintScheduler.retryAtMs}), and the stream's consecutive failures ({@link EntrySync.failures}).
 */
export class AgentManager implements IdentityCache {
  readonly #client: AgentServerClient
  readonly #cache: AgentCache
  readonly #node: NodeBootstrap
  readonly #rotator: AgentSvidRotator
  readonly #sync: EntrySync
  readonly #scheduler: MintScheduler
  readonly #reachability = new ServerReachability()
  readonly #clock: Clock
  #closed = false

  private constructor(opts: AgentManagerOptions) {
    const timing = { ...DEFAULT_MANAGER_TIMING, ...opts.timing }
    const { log, config } = opts
    const clock = (this.#clock = opts.clock ?? systemClock)
    const reachability = this.#reachability
    const random = opts.random ?? Math.random
    const storage = new AgentStorage(config.dataDir, config.trustDomain)
    const client = (this.#client =
      opts.client ??
      new ServerClient({
        address: `${config.serverAddress}:${config.serverPort}`,
        trustDomain: config.trustDomain,
        insecureBootstrap: config.insecureBootstrap,
        clock: () => clock.now(),
      }))
    const cache = (this.#cache = new AgentCache({ trustDomain: config.trustDomain, jwtSigner: client, clock, log }))
    const node = (this.#node = new NodeBootstrap({ config, nodeAttestor: opts.nodeAttestor, client, storage, clock, random, timing, log }))
    this.#rotator = new AgentSvidRotator({
      client,
      storage,
      clock,
      log,
      ownBundle: () => cache.ownBundle(),
      reattest: async () => {
        const { svid, bundle } = await node.attest(cache.ownBundle())
        cache.setOwnBundle(bundle)
        return svid
      },
      onNewSvid: () => this.#sync.reconnect(),
      onFatal: (err) => {
        this.close()
        opts.onFatal(err)
      },
    })
    this.#sync = new EntrySync({
      client,
      clock,
      random,
      timing,
      log,
      reachability,
      onUpdate: (update) => this.#apply(update),
      onRejected: (err) => this.#rotator.rejected(err),
    })
    this.#scheduler = new MintScheduler({
      signer: client,
      cache,
      clock,
      random,
      timing,
      log,
      reachability,
      onRejected: (err) => void this.#rotator.rejected(err),
    })
  }

  /**
   * Gets the agent its SVID (from the data directory, or by attesting), then starts syncing entries.
   * Resolves once the agent has an SVID and a bundle; entries arrive afterwards.
   * @throws ConfigError without any way to trust the server; SteepleError from attestation
   *   (PERMISSION_DENIED: evidence refused, token used); FailedPreconditionError for unreadable files.
   */
  static async start(opts: AgentManagerOptions): Promise<AgentManager> {
    const manager = new AgentManager(opts)
    try {
      const { svid, bundle } = await manager.#node.bootstrap()
      manager.#cache.setOwnBundle(bundle)
      manager.#rotator.use(svid)
    } catch (err) {
      manager.close()
      throw err
    }
    manager.#sync.start()
    return manager
  }

  /** The agent's SPIFFE ID. */
  get agentId(): SpiffeId | undefined {
    return this.#rotator.svid?.id
  }

  /** When the agent SVID expires. */
  get agentSvidExpiresAt(): Date | undefined {
    return this.#rotator.svid?.notAfter
  }

  /** Whether the agent stopped because the server refused it. */
  get failed(): boolean {
    return this.#rotator.failed
  }

  /** How many entries and minted SVIDs the agent holds (for logs and health). */
  stats(): { entries: number; svids: number; bundles: number } {
    return this.#cache.stats()
  }

  isReady(): boolean {
    return !this.#closed && this.#rotator.svid !== undefined && this.#cache.synced && this.#cache.ownBundle() !== undefined
  }

  identitiesFor(selectors: SelectorSet): WorkloadIdentities {
    return this.#cache.identitiesFor(selectors)
  }

  svidShortage(entryIds: readonly string[]): SvidShortage {
    const nowMs = this.#clock.now().getTime()
    return {
      serverUnreachableSince: this.#reachability.unreachableSince,
      entries: entryIds.map((entryId) => {
        const retryAtMs = this.#scheduler.retryAtMs(entryId)
        return {
          entryId,
          expiredAt: this.#cache.expiredAt(entryId),
          signingRetryAt: retryAtMs !== undefined && retryAtMs > nowMs ? new Date(retryAtMs) : undefined,
        }
      }),
    }
  }

  allBundles(): readonly Bundle[] {
    return this.#cache.allBundles()
  }

  subscribe(listener: () => void): () => void {
    return this.#cache.subscribe(listener)
  }

  fetchJwtSvid(entry: AgentEntry, audience: readonly string[]): Promise<{ token: string; expiresAt: Date }> {
    return this.#cache.fetchJwtSvid(entry, audience)
  }

  /** Stops syncing, minting and renewing; what is held stays readable. Safe to call twice. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#node.close()
    this.#scheduler.close()
    this.#rotator.close()
    this.#sync.close()
    this.#client.close()
    this.#cache.notify()
  }

  /** Resolves when the sync loop and any minting pass have ended (after {@link close}). */
  async closed(): Promise<void> {
    await this.#sync.done()
    await this.#scheduler.idle()
  }

  /** One SyncAuthorized message: into the cache, new own roots to the client, changed entries to the scheduler. */
  #apply(update: AuthorizedUpdate): void {
    const applied = this.#cache.apply(update)
    if (applied.ownBundle !== undefined) this.#node.trustBundle(applied.ownBundle)
    // The server is back (or the stream was reopened): signing that failed meanwhile is retried now.
    if (update.full) this.#scheduler.retryNow()
    this.#scheduler.entriesChanged(applied.changedEntryIds)
  }
}
