import type { KeyObject } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigError, FailedPreconditionError, SteepleError, errorMessage } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { RegistrationEntry } from '../../plugins/data-store/types.js'
import type { AgentNodeAttestorPlugin } from '../../plugins/node-attestor/types.js'
import type { LoadedPlugin } from '../../plugins/registry.js'
import type { Bundle } from '../../spiffe/bundle.js'
import { createCsr } from '../../spiffe/csr.js'
import type { SpiffeId } from '../../spiffe/id.js'
import { parseX509BundlePem } from '../../spiffe/pem.js'
import type { SelectorSet } from '../../spiffe/selector.js'
import { decodeCertificate } from '../../spiffe/x509-certificate.js'
import { generateKeyPair } from '../../spiffe/index.js'
import { verifyX509Svid } from '../../spiffe/x509-svid.js'
import type { AgentConfig } from '../config.js'
import { ServerClient, type AuthorizedSync, type AuthorizedUpdate } from '../client/server-client.js'
import { Backoff } from './backoff.js'
import { EntryIndex } from './entry-index.js'
import { JwtSvidCache } from './jwt-cache.js'
import { AgentStorage } from './storage.js'
import type { AgentEntry, CachedX509Svid, IdentityCache, WorkloadIdentities } from './types.js'

/** Tunables of the manager; the defaults suit production, tests shorten them. */
export interface ManagerTiming {
  /** Most CSRs sent in one BatchNewX509SVID call. */
  readonly batchSize: number
  /** Rotation point as a fraction of an SVID's lifetime, before jitter (SPIRE: 1/2). */
  readonly rotateFraction: number
  /** Jitter of the rotation point, relative (0.1 = ±10 %). */
  readonly rotateJitter: number
  /** Backoff of SyncAuthorized reconnects and failed signing calls. */
  readonly retryInitialMs: number
  readonly retryMaxMs: number
  /** How long a first attestation keeps retrying while the server is unreachable. */
  readonly attestRetryMs: number
}

export const DEFAULT_MANAGER_TIMING: ManagerTiming = Object.freeze({
  batchSize: 500,
  rotateFraction: 0.5,
  rotateJitter: 0.1,
  retryInitialMs: 250,
  // Each retry is one connection attempt; a short cap brings the agent back soon after the server.
  retryMaxMs: 5000,
  attestRetryMs: 60_000,
})

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
  readonly clock?: () => Date
  readonly random?: () => number
}

/** The agent's own credentials. */
interface AgentSvid {
  readonly id: SpiffeId
  readonly chainDer: readonly Uint8Array[]
  readonly privateKey: KeyObject
  readonly notBefore: Date
  readonly notAfter: Date
}

/** A workload SVID with what the manager needs to keep it current. */
interface HeldSvid {
  readonly svid: CachedX509Svid
  /** Revision of the entry it was minted for. */
  readonly revision: number
  /** When to replace it (ms since the epoch). */
  readonly rotateAtMs: number
}

/** Why the stored or bootstrap material cannot be used: stop with this, never trust silently. */
function noTrust(dataDir: string): ConfigError {
  return new ConfigError(
    `agent: no trust bundle for the first start: set agent.trust_bundle_path (--trust-bundle FILE) to the server's bundle (\`steeple-server bundle show\`), ` +
      `or agent.insecure_bootstrap (--insecure-bootstrap) for development; nothing is stored in ${dataDir} yet`,
  )
}

/**
 * The agent's SVID manager and identity cache (SPIRE's agent manager and cache, in one).
 *
 * - Attests the node on first start (trusting the server with a configured bundle, or explicitly
 *   with none), keeps the agent SVID and bundle in the data directory so a restart needs no new
 *   attestation, renews the agent SVID at half of its life, and attests again where the method
 *   allows when the server refuses the SVID.
 * - Receives the authorized entries and bundles on the server's SyncAuthorized stream (full set
 *   first, then changes), reconnecting with backoff while keeping everything it has.
 * - Mints an X.509-SVID per entry in batches (a fresh EC P-256 key each time, only the CSR leaves the
 *   agent), replaces each at half of its lifetime ±10 %, and never hands out an expired one.
 * - JWT-SVIDs are signed on demand and cached per (entry, audience set) until half of their life.
 * Subscribers hear of every change a workload could see; the Workload API recomputes from here.
 */
export class AgentManager implements IdentityCache {
  readonly #o: AgentManagerOptions
  readonly #timing: ManagerTiming
  readonly #log: Logger
  readonly #clock: () => Date
  readonly #random: () => number
  readonly #storage: AgentStorage
  readonly #client: ServerClient
  readonly #entries = new EntryIndex()
  readonly #svids = new Map<string, HeldSvid>()
  /** Entry id → earliest retry time after a failed signing (ms since the epoch). */
  readonly #mintRetryAt = new Map<string, number>()
  readonly #jwt = new JwtSvidCache()
  readonly #listeners = new Set<() => void>()
  /** Own trust domain first, then federated ones, by trust domain name. */
  #bundles = new Map<string, Bundle>()
  #agentSvid: AgentSvid | undefined
  #synced = false
  #closed = false
  #fatal = false
  #sync: AuthorizedSync | undefined
  #syncLoop: Promise<void> | undefined
  readonly #syncBackoff: Backoff
  readonly #mintBackoff: Backoff
  #mintTimer: NodeJS.Timeout | undefined
  #minting: Promise<void> | undefined
  #mintAgain = false
  #renewTimer: NodeJS.Timeout | undefined
  #notifyScheduled = false
  #reattesting: Promise<void> | undefined
  /** Aborted by close(): ends every wait between retries at once. */
  readonly #stopping = new AbortController()

  private constructor(opts: AgentManagerOptions) {
    this.#o = opts
    this.#timing = { ...DEFAULT_MANAGER_TIMING, ...opts.timing }
    this.#log = opts.log
    this.#clock = opts.clock ?? (() => new Date())
    this.#random = opts.random ?? Math.random
    this.#storage = new AgentStorage(opts.config.dataDir, opts.config.trustDomain)
    this.#client = new ServerClient({
      address: `${opts.config.serverAddress}:${opts.config.serverPort}`,
      trustDomain: opts.config.trustDomain,
      insecureBootstrap: opts.config.insecureBootstrap,
      clock: this.#clock,
    })
    this.#syncBackoff = new Backoff(this.#timing.retryInitialMs, this.#timing.retryMaxMs, this.#random)
    this.#mintBackoff = new Backoff(this.#timing.retryInitialMs, this.#timing.retryMaxMs, this.#random)
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
      await manager.#bootstrap()
    } catch (err) {
      manager.close()
      throw err
    }
    manager.#syncLoop = manager.#runSync()
    return manager
  }

  /** The agent's SPIFFE ID. */
  get agentId(): SpiffeId | undefined {
    return this.#agentSvid?.id
  }

  /** When the agent SVID expires. */
  get agentSvidExpiresAt(): Date | undefined {
    return this.#agentSvid?.notAfter
  }

  /** How many entries and minted SVIDs the agent holds (for logs and health). */
  stats(): { entries: number; svids: number; bundles: number } {
    return { entries: this.#entries.size, svids: this.#svids.size, bundles: this.#bundles.size }
  }

  isReady(): boolean {
    return !this.#closed && this.#agentSvid !== undefined && this.#synced && this.#ownBundle() !== undefined
  }

  identitiesFor(selectors: SelectorSet): WorkloadIdentities {
    const entries = this.#entries.matching(selectors)
    const nowMs = this.#clock().getTime()
    const svids: CachedX509Svid[] = []
    const federated = new Map<string, Bundle>()
    for (const entry of entries) {
      const held = this.#svids.get(entry.id)
      if (held !== undefined && held.svid.notAfter.getTime() > nowMs) svids.push(held.svid)
      for (const td of entry.federatesWith) {
        const bundle = this.#bundles.get(td.name)
        if (bundle !== undefined && !td.equals(this.#o.config.trustDomain)) federated.set(td.name, bundle)
      }
    }
    const bundle = this.#ownBundle()
    if (bundle === undefined) throw new FailedPreconditionError('agent: no trust bundle yet')
    return { svids, entries, bundle, federatedBundles: [...federated.values()] }
  }

  allBundles(): readonly Bundle[] {
    return [...this.#bundles.values()]
  }

  subscribe(listener: () => void): () => void {
    const wrapped = (): void => listener()
    this.#listeners.add(wrapped)
    return () => this.#listeners.delete(wrapped)
  }

  async fetchJwtSvid(entry: AgentEntry, audience: readonly string[]): Promise<{ token: string; expiresAt: Date }> {
    const svid = await this.#jwt.get(entry.id, audience, this.#clock(), async () => {
      const signed = await this.#client.newJwtSvid(entry.id, audience)
      return { token: signed.token, issuedAt: signed.issuedAt, expiresAt: signed.expiresAt }
    })
    return { token: svid.token, expiresAt: svid.expiresAt }
  }

  /** Stops syncing, minting and renewing; what is held stays readable. Safe to call twice. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#stopping.abort()
    clearTimeout(this.#mintTimer)
    clearTimeout(this.#renewTimer)
    this.#sync?.close()
    this.#client.close()
    this.#notify()
  }

  /** Resolves when the sync loop has ended (after {@link close}). */
  async closed(): Promise<void> {
    await this.#syncLoop
    await this.#minting
  }

  /** Waits `ms`, or less when the manager closes meanwhile. */
  #pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.#stopping.signal }).catch(() => undefined)
  }

  // ---- bootstrap and the agent's own SVID ----

  async #bootstrap(): Promise<void> {
    const { dataDir } = this.#o.config
    const storedBundle = await this.#storage.loadBundle()
    const stored = await this.#storage.loadSvid()
    if (storedBundle !== undefined) this.#setBundles([storedBundle], false)
    if (stored !== undefined && storedBundle !== undefined) {
      let svid: AgentSvid | undefined
      try {
        svid = this.#agentSvidFrom(stored.chainDer, stored.privateKey, storedBundle)
      } catch (err) {
        this.#log.warn('Stored agent SVID does not chain to the stored bundle; attesting again', { err: errorMessage(err) })
      }
      if (svid !== undefined && svid.notAfter.getTime() > this.#clock().getTime()) {
        this.#useAgentSvid(svid)
        this.#log.info('Agent SVID loaded', { agentId: svid.id.toString(), expiresAt: svid.notAfter.toISOString(), dataDir })
        return
      }
      if (svid !== undefined) this.#log.warn('Stored agent SVID has expired; attesting again', { expiredAt: svid.notAfter.toISOString() })
    }
    if (storedBundle === undefined) {
      const { trustBundlePath, insecureBootstrap } = this.#o.config
      if (trustBundlePath !== undefined) {
        this.#setBundles([await this.#readTrustBundle(trustBundlePath)], false)
      } else if (insecureBootstrap) {
        this.#log.warn('Insecure bootstrap: trusting whichever server answers first, and the bundle it sends', {
          server: `${this.#o.config.serverAddress}:${this.#o.config.serverPort}`,
        })
      } else {
        throw noTrust(dataDir)
      }
    }
    await this.#attestWithRetry()
  }

  async #readTrustBundle(path: string): Promise<Bundle> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      throw new ConfigError(`agent.trust_bundle_path: cannot read ${path}: ${errorMessage(err)}`, { cause: err })
    }
    try {
      const bundle = parseX509BundlePem(this.#o.config.trustDomain, text)
      if (bundle.x509Authorities.length === 0) throw new Error('no certificate in it')
      return bundle
    } catch (err) {
      throw new ConfigError(`agent.trust_bundle_path: ${path} is not a PEM bundle of CA certificates: ${errorMessage(err)}`, { cause: err })
    }
  }

  /** First attestation: retried while the server is unreachable (it may be starting too), for a bound. */
  async #attestWithRetry(): Promise<void> {
    const deadline = Date.now() + this.#timing.attestRetryMs
    const backoff = new Backoff(this.#timing.retryInitialMs, 5000, this.#random)
    for (;;) {
      try {
        await this.#attest()
        return
      } catch (err) {
        const unavailable = err instanceof SteepleError && err.code === 'UNAVAILABLE'
        if (!unavailable || this.#closed || Date.now() >= deadline) throw err
        const waitMs = backoff.next()
        this.#log.warn('Server unreachable for attestation; retrying', { err: errorMessage(err), retryInMs: waitMs })
        await this.#pause(waitMs)
      }
    }
  }

  async #attest(): Promise<void> {
    const { name, instance } = this.#o.nodeAttestor
    const own = this.#ownBundle()
    if (own !== undefined) this.#client.setBundle(own)
    const session = await instance.begin()
    const keys = generateKeyPair('ec-p256')
    const outcome = await this.#client.attest(name, session, createCsr(keys.privateKey))
    // The SVID must chain to the bundle the server sent, and be the agent ID the server named.
    const svid = this.#agentSvidFrom(outcome.svidChainDer, keys.privateKey, outcome.bundle)
    if (!svid.id.equals(outcome.agentId)) {
      throw new SteepleError('INTERNAL', status.INTERNAL, `agent: the server issued an SVID for ${svid.id.toString()} but named ${outcome.agentId.toString()}`)
    }
    // Stored before use: a crash right after attestation must not cost the (one-time) join token.
    await this.#storage.saveBundle(outcome.bundle)
    await this.#storage.saveSvid({ chainDer: svid.chainDer, privateKey: svid.privateKey })
    this.#setBundles(this.#mergeOwn(outcome.bundle), false)
    this.#useAgentSvid(svid)
    this.#log.info('Node attested', { agentId: svid.id.toString(), attestor: name, expiresAt: svid.notAfter.toISOString(), reattestable: outcome.reattestable })
  }

  /**
   * The agent SVID from its chain, checked to be an X509-SVID chaining to `bundle` (at its own start
   * time: expiry is the caller's decision).
   * @throws SpiffeError when it is not.
   */
  #agentSvidFrom(chainDer: readonly Uint8Array[], privateKey: KeyObject, bundle: Bundle): AgentSvid {
    const leaf = decodeCertificate(chainDer[0]!)
    const { id } = verifyX509Svid(chainDer, bundle, { now: leaf.notBefore })
    return { id, chainDer: [...chainDer], privateKey, notBefore: leaf.notBefore, notAfter: leaf.notAfter }
  }

  #useAgentSvid(svid: AgentSvid): void {
    this.#agentSvid = svid
    this.#client.setSvid({ chainDer: svid.chainDer, privateKey: svid.privateKey })
    const own = this.#ownBundle()
    if (own !== undefined) this.#client.setBundle(own)
    this.#scheduleRenewal()
  }

  #scheduleRenewal(delayMs?: number): void {
    clearTimeout(this.#renewTimer)
    const svid = this.#agentSvid
    if (svid === undefined || this.#closed) return
    const start = svid.notBefore.getTime()
    const halfLife = start + (svid.notAfter.getTime() - start) / 2
    const waitMs = delayMs ?? Math.max(0, halfLife - this.#clock().getTime())
    this.#renewTimer = setTimeout(() => void this.#renew(), Math.min(waitMs, 2 ** 31 - 1))
  }

  async #renew(): Promise<void> {
    if (this.#closed) return
    const keys = generateKeyPair('ec-p256')
    try {
      const renewed = await this.#client.renew(createCsr(keys.privateKey))
      const own = this.#ownBundle()
      if (own === undefined) throw new FailedPreconditionError('agent: no trust bundle to check the renewed SVID with')
      const svid = this.#agentSvidFrom(renewed.svidChainDer, keys.privateKey, own)
      await this.#storage.saveSvid({ chainDer: svid.chainDer, privateKey: svid.privateKey })
      this.#useAgentSvid(svid)
      this.#log.info('Agent SVID renewed', { agentId: svid.id.toString(), expiresAt: svid.notAfter.toISOString() })
      // The sync stream was opened with the old certificate: reopen it with the new one.
      this.#sync?.close()
    } catch (err) {
      if (err instanceof SteepleError && (err.code === 'PERMISSION_DENIED' || err.code === 'UNAUTHENTICATED')) {
        void this.#onRejected(err)
        return
      }
      const retryMs = Math.min(30_000, Math.max(1000, ((this.#agentSvid?.notAfter.getTime() ?? 0) - this.#clock().getTime()) / 10))
      this.#log.warn('Agent SVID renewal failed; retrying', { err: errorMessage(err), retryInMs: retryMs })
      this.#scheduleRenewal(retryMs)
    }
  }

  /** The server refused the agent SVID (evicted, banned or expired): attest again, or give up. */
  #onRejected(err: SteepleError): Promise<void> {
    this.#reattesting ??= (async () => {
      this.#log.warn('The server refused the agent SVID; attesting again', { err: errorMessage(err) })
      try {
        await this.#attest()
        this.#sync?.close()
      } catch (attestErr) {
        if (this.#closed) return
        this.#log.error('The agent was refused by the server and cannot attest again; stopping', {
          err: errorMessage(err),
          attestErr: errorMessage(attestErr),
          dataDir: this.#o.config.dataDir,
        })
        await this.#storage.deleteSvid().catch((e: unknown) => this.#log.error('Removing the refused agent SVID failed', { err: errorMessage(e) }))
        this.#fatal = true
        this.close()
        this.#o.onFatal(
          new FailedPreconditionError(
            `agent: the server refused this agent (${errorMessage(err)}) and attesting again failed (${errorMessage(attestErr)}); start it with new attestation evidence (a new join token)`,
            { cause: attestErr },
          ),
        )
      }
    })().finally(() => {
      this.#reattesting = undefined
    })
    return this.#reattesting
  }

  // ---- entries and bundles from the server ----

  async #runSync(): Promise<void> {
    while (!this.#closed) {
      let delivered = false
      try {
        const sync = this.#client.syncAuthorized((update) => {
          delivered = true
          this.#syncBackoff.reset()
          this.#apply(update)
        })
        this.#sync = sync
        await sync.done
        if (this.#closed) return
        this.#log.debug('Entry sync stream ended; reconnecting')
      } catch (err) {
        if (this.#closed) return
        if (err instanceof SteepleError && (err.code === 'PERMISSION_DENIED' || err.code === 'UNAUTHENTICATED')) {
          await this.#onRejected(err)
          if (this.#closed) return
          continue
        }
        const waitMs = this.#syncBackoff.next()
        this.#log.warn('Entry sync failed; serving what the agent has and retrying', {
          err: errorMessage(err),
          retryInMs: waitMs,
          attempt: this.#syncBackoff.failures,
        })
        await this.#pause(waitMs)
        continue
      } finally {
        this.#sync = undefined
      }
      if (!delivered) await this.#pause(this.#syncBackoff.next())
    }
  }

  #apply(update: AuthorizedUpdate): void {
    let changed = false
    if (update.full) {
      const keep = new Set(update.upserted.map((e) => e.id))
      for (const id of [...this.#entries.ids()]) if (!keep.has(id)) changed = this.#removeEntry(id) || changed
    }
    for (const entry of update.upserted) changed = this.#upsertEntry(entry) || changed
    for (const id of update.deletedIds) changed = this.#removeEntry(id) || changed
    if (update.bundles !== undefined) changed = this.#setBundles(update.bundles, true) || changed
    if (update.full) {
      // The server is back (or the stream was reopened): signing that failed meanwhile is retried now.
      this.#mintRetryAt.clear()
      this.#mintBackoff.reset()
      if (!this.#synced) {
        this.#synced = true
        changed = true
        this.#log.info('Entries synced', { entries: this.#entries.size, bundles: this.#bundles.size })
      }
    }
    if (changed) this.#notify()
    this.#scheduleMint(0)
  }

  #upsertEntry(e: RegistrationEntry): boolean {
    const entry: AgentEntry = {
      id: e.id,
      spiffeId: e.spiffeId,
      selectors: e.selectors,
      federatesWith: e.federatesWith,
      hint: e.hint,
      x509SvidTtlSeconds: e.x509SvidTtlSeconds,
      jwtSvidTtlSeconds: e.jwtSvidTtlSeconds,
      revisionNumber: e.revisionNumber,
      createdAt: e.createdAt,
    }
    const previous = this.#entries.set(entry)
    if (previous !== undefined && previous.revisionNumber === entry.revisionNumber) return false
    if (previous !== undefined) {
      this.#jwt.deleteEntry(entry.id)
      this.#mintRetryAt.delete(entry.id)
      const held = this.#svids.get(entry.id)
      // A changed ID must never be served under the old one; a changed TTL or hint waits for the new SVID.
      if (held !== undefined && !held.svid.spiffeId.equals(entry.spiffeId)) this.#svids.delete(entry.id)
    }
    return true
  }

  #removeEntry(id: string): boolean {
    const removed = this.#entries.delete(id) !== undefined
    this.#svids.delete(id)
    this.#mintRetryAt.delete(id)
    this.#jwt.deleteEntry(id)
    return removed
  }

  /** Own bundle first: `bundles` may come in any order; returns whether anything changed. */
  #setBundles(bundles: readonly Bundle[], persist: boolean): boolean {
    const td = this.#o.config.trustDomain
    const next = new Map<string, Bundle>()
    const own = bundles.find((b) => b.trustDomain.equals(td))
    if (own !== undefined) next.set(td.name, own)
    else if (this.#bundles.has(td.name)) next.set(td.name, this.#bundles.get(td.name)!)
    for (const b of bundles) if (!b.trustDomain.equals(td)) next.set(b.trustDomain.name, b)
    const previousOwn = this.#bundles.get(td.name)
    const changed = !sameBundles(this.#bundles, next)
    this.#bundles = next
    if (own !== undefined && (previousOwn === undefined || !sameX509(previousOwn, own) || !sameJwt(previousOwn, own))) {
      if (previousOwn !== undefined && !sameX509(previousOwn, own)) this.#client.setBundle(own)
      if (persist) {
        this.#storage.saveBundle(own).catch((err: unknown) => this.#log.error('Storing the trust bundle failed', { err: errorMessage(err) }))
      }
    }
    return changed
  }

  #mergeOwn(bundle: Bundle): Bundle[] {
    return [bundle, ...[...this.#bundles.values()].filter((b) => !b.trustDomain.equals(bundle.trustDomain))]
  }

  #ownBundle(): Bundle | undefined {
    return this.#bundles.get(this.#o.config.trustDomain.name)
  }

  // ---- minting and rotation of workload SVIDs ----

  /** Runs the minting pass after `delayMs` (sooner wins), or again right after the pass in progress. */
  #scheduleMint(delayMs: number): void {
    if (this.#closed) return
    if (this.#minting !== undefined) {
      if (delayMs === 0) this.#mintAgain = true
      else this.#armMintTimer(delayMs)
      return
    }
    this.#armMintTimer(delayMs)
  }

  #mintTimerAt = Infinity

  #armMintTimer(delayMs: number): void {
    const at = Date.now() + delayMs
    if (this.#mintTimer !== undefined && this.#mintTimerAt <= at) return
    clearTimeout(this.#mintTimer)
    this.#mintTimerAt = at
    this.#mintTimer = setTimeout(() => {
      this.#mintTimer = undefined
      this.#mintTimerAt = Infinity
      this.#startMintPass()
    }, Math.min(Math.max(0, delayMs), 2 ** 31 - 1))
  }

  #startMintPass(): void {
    if (this.#closed || this.#minting !== undefined) return
    this.#mintAgain = false
    this.#minting = this.#mintPass()
      .catch((err: unknown) => this.#log.error('Minting SVIDs failed', { err: errorMessage(err) }))
      .finally(() => {
        this.#minting = undefined
        if (this.#mintAgain) this.#scheduleMint(0)
        else this.#scheduleNextWake()
      })
  }

  /** Entries whose SVID is missing, minted for an older revision, or due for rotation. */
  #due(nowMs: number): AgentEntry[] {
    const due: AgentEntry[] = []
    for (const entry of this.#entries.values()) {
      const retryAt = this.#mintRetryAt.get(entry.id)
      if (retryAt !== undefined && retryAt > nowMs) continue
      const held = this.#svids.get(entry.id)
      if (held === undefined || held.revision !== entry.revisionNumber || held.rotateAtMs <= nowMs) due.push(entry)
    }
    return due
  }

  async #mintPass(): Promise<void> {
    if (this.#agentSvid === undefined) return
    const due = this.#due(this.#clock().getTime())
    for (let i = 0; i < due.length && !this.#closed; i += this.#timing.batchSize) {
      const batch = due.slice(i, i + this.#timing.batchSize)
      const keys = batch.map(() => generateKeyPair('ec-p256').privateKey)
      const params = batch.map((entry, k) => ({ entryId: entry.id, csrDer: createCsr(keys[k]!) }))
      let results
      try {
        results = await this.#client.batchNewX509Svid(params)
      } catch (err) {
        if (err instanceof SteepleError && (err.code === 'PERMISSION_DENIED' || err.code === 'UNAUTHENTICATED')) {
          void this.#onRejected(err)
          return
        }
        const waitMs = this.#mintBackoff.next()
        const retryAt = this.#clock().getTime() + waitMs
        for (const entry of due.slice(i)) this.#mintRetryAt.set(entry.id, retryAt)
        this.#log.warn('Signing SVIDs failed; serving the SVIDs the agent has and retrying', {
          err: errorMessage(err),
          pending: due.length - i,
          retryInMs: waitMs,
        })
        return
      }
      this.#mintBackoff.reset()
      const nowMs = this.#clock().getTime()
      let changed = false
      for (let k = 0; k < batch.length; k++) {
        const entry = batch[k]!
        // Results come in request order; the id check guards against a server that reorders them.
        const result = results[k]?.entryId === entry.id ? results[k] : results.find((r) => r.entryId === entry.id)
        const current = this.#entries.get(entry.id)
        // Deleted or changed while the call was out: the next pass handles the current revision.
        if (current === undefined || current.revisionNumber !== entry.revisionNumber) continue
        if (result === undefined || !result.ok) {
          const reason = result === undefined ? 'no result' : errorMessage(result.error)
          this.#mintRetryAt.set(entry.id, nowMs + this.#timing.retryMaxMs)
          this.#log.warn('The server did not sign an SVID', { entryId: entry.id, spiffeId: entry.spiffeId.toString(), err: reason })
          continue
        }
        const lifetimeMs = result.expiresAt.getTime() - nowMs
        if (lifetimeMs <= 0) continue
        const fraction = this.#timing.rotateFraction * (1 + this.#timing.rotateJitter * (2 * this.#random() - 1))
        this.#svids.set(entry.id, {
          svid: {
            entryId: entry.id,
            spiffeId: result.spiffeId,
            hint: entry.hint,
            chainDer: result.svidChainDer,
            privateKeyDer: keys[k]!.export({ format: 'der', type: 'pkcs8' }),
            notAfter: result.expiresAt,
          },
          revision: entry.revisionNumber,
          rotateAtMs: nowMs + Math.floor(lifetimeMs * fraction),
        })
        this.#mintRetryAt.delete(entry.id)
        changed = true
      }
      if (changed) this.#notify()
      // Let Workload API calls in between batches.
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    if (due.length > 0) this.#log.debug('SVIDs minted', { count: due.length, entries: this.#entries.size })
  }

  /**
   * Wakes at the next rotation, retry or expiry. An expiry with no replacement (server down) must
   * reach the streams too, so they stop showing an SVID that is no longer valid.
   */
  #scheduleNextWake(): void {
    let next = Infinity
    for (const [id, held] of this.#svids) {
      const retryAt = this.#mintRetryAt.get(id)
      next = Math.min(next, retryAt !== undefined ? Math.max(retryAt, held.rotateAtMs) : held.rotateAtMs, held.svid.notAfter.getTime())
    }
    for (const [id, retryAt] of this.#mintRetryAt) if (!this.#svids.has(id)) next = Math.min(next, retryAt)
    if (next === Infinity) return
    const nowMs = this.#clock().getTime()
    if (next <= nowMs) {
      // Only expiries can be in the past here (due entries were just handled): tell the streams.
      this.#notify()
      this.#expireHeld(nowMs)
      return
    }
    this.#scheduleMint(next - nowMs)
  }

  /** Drops SVIDs that have expired (after telling subscribers, who already filter them out). */
  #expireHeld(nowMs: number): void {
    for (const [id, held] of this.#svids) if (held.svid.notAfter.getTime() <= nowMs) this.#svids.delete(id)
    this.#jwt.prune(new Date(nowMs))
    this.#scheduleMint(this.#timing.retryInitialMs)
  }

  #notify(): void {
    if (this.#notifyScheduled) return
    this.#notifyScheduled = true
    queueMicrotask(() => {
      this.#notifyScheduled = false
      for (const listener of [...this.#listeners]) {
        try {
          listener()
        } catch (err) {
          this.#log.error('Cache listener failed', { err: errorMessage(err) })
        }
      }
    })
  }

  /** Whether the agent stopped because the server refused it. */
  get failed(): boolean {
    return this.#fatal
  }
}

function sameX509(a: Bundle, b: Bundle): boolean {
  if (a.x509Authorities.length !== b.x509Authorities.length) return false
  return a.x509Authorities.every((der, i) => Buffer.compare(der, b.x509Authorities[i]!) === 0)
}

function sameJwt(a: Bundle, b: Bundle): boolean {
  if (a.jwtAuthorities.size !== b.jwtAuthorities.size) return false
  for (const kid of a.jwtAuthorities.keys()) if (!b.jwtAuthorities.has(kid)) return false
  return true
}

function sameBundles(a: ReadonlyMap<string, Bundle>, b: ReadonlyMap<string, Bundle>): boolean {
  if (a.size !== b.size) return false
  for (const [name, bundle] of a) {
    const other = b.get(name)
    if (other === undefined || !sameX509(bundle, other) || !sameJwt(bundle, other) || bundle.sequenceNumber !== other.sequenceNumber) return false
  }
  return true
}
