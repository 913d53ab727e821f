import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../common/logger.js'
import { withBatchedAudit } from './store/audit-batch.js'
import { CacheWakeup, withCacheWakeup } from './store/cache-wakeup.js'
import type { DataStore } from '../plugins/data-store/types.js'
import type { KeyManager } from '../plugins/key-manager/types.js'
import type { ServerNodeAttestor, ServerNodeAttestorHost } from '../plugins/node-attestor/types.js'
import { closeAll, type PluginHost, type PluginKind } from '../plugins/registry.js'
import { CaManager } from './ca/manager.js'
import { OwnBundle } from './ca/own-bundle.js'
import { SvidIssuer } from './issuance/issuer.js'
import { serverCatalog } from './catalog.js'
import type { ServerConfig } from './config.js'
import { AuthorizedEntryCache, RegistrationService } from './registration/index.js'

/**
 * Everything the server's APIs work with, built once at start-up from the config: plugins,
 * the CA, registration and the authorized-entry cache. APIs receive this object; they never
 * build parts of it themselves.
 */
export interface ServerCore {
  readonly config: ServerConfig
  readonly log: Logger
  readonly clock: () => Date
  readonly store: DataStore
  readonly keyManager: KeyManager
  readonly ca: CaManager
  /** The trust domain's own bundle: read it here, subscribe here to its changes. */
  readonly ownBundle: OwnBundle
  /** Signs every SVID the server issues, with the issuance policy and the audit record of each. */
  readonly issuer: SvidIssuer
  readonly registration: RegistrationService
  readonly cache: AuthorizedEntryCache
  /** Node attestors by name (`join_token`, `x509pop`). */
  readonly nodeAttestors: ReadonlyMap<string, ServerNodeAttestor>
  /**
   * Resolves once the entry cache has applied every write made so far (the store wakes it after
   * each), so an API can answer when agents' sync streams already carry its change. Never rejects.
   */
  changesApplied(): Promise<void>
  /** Closes plugins in reverse order. */
  close(): Promise<void>
}

export interface BuildServerCoreOptions {
  readonly log: Logger
  readonly clock?: () => Date
}

/** Loads plugins, initializes the CA (creating or resuming it), loads the entry cache and the own bundle. */
export async function buildServerCore(config: ServerConfig, options: BuildServerCoreOptions): Promise<ServerCore> {
  const log = options.log
  const clock = options.clock ?? (() => new Date())
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const catalog = serverCatalog()
  const hostFor = (kind: PluginKind) => (name: string): PluginHost => ({
    log: log.child({ pluginKind: kind, pluginName: name }),
    trustDomain: config.trustDomain,
    dataDir: config.dataDir,
    clock,
  })
  const opened: unknown[] = []
  try {
    const [storePlugin] = await catalog.load('DataStore', config.plugins['DataStore'] ?? {}, hostFor('DataStore'))
    // Audit appends from concurrent calls share one commit (store/audit-batch.ts); committed
    // writes wake the entry cache (store/cache-wakeup.ts).
    const wakeup = new CacheWakeup(log.child({ component: 'entry-cache' }))
    const store = withCacheWakeup(withBatchedAudit(storePlugin!.instance), wakeup)
    opened.push(store)
    const [kmPlugin] = await catalog.load('KeyManager', config.plugins['KeyManager'] ?? {}, hostFor('KeyManager'))
    const keyManager = kmPlugin!.instance
    opened.push(keyManager)
    const upstreams = await catalog.load('UpstreamAuthority', config.plugins['UpstreamAuthority'] ?? {}, hostFor('UpstreamAuthority'))
    opened.push(...upstreams.map((u) => u.instance))
    const attestorHost = (name: string): ServerNodeAttestorHost => ({ ...hostFor('ServerNodeAttestor')(name), joinTokens: store.joinTokens })
    const attestors = await catalog.load('ServerNodeAttestor', config.plugins['NodeAttestor'] ?? {}, attestorHost)
    opened.push(...attestors.map((a) => a.instance))

    const ca = new CaManager({
      trustDomain: config.trustDomain,
      keyManager,
      bundles: store.bundles,
      upstream: upstreams[0]?.instance,
      keyType: config.caKeyType,
      caTtlSeconds: config.caTtlSeconds,
      subject: config.caSubject,
      journalPath: join(config.dataDir, 'ca-journal.json'),
      clock,
      log: log.child({ component: 'ca' }),
    })
    await ca.init()
    const cache = await AuthorizedEntryCache.load({ store, trustDomain: config.trustDomain, clock, log: log.child({ component: 'entry-cache' }) })
    wakeup.attach(cache)
    const ownBundle = await OwnBundle.start({
      trustDomain: config.trustDomain,
      bundles: store.bundles,
      ca,
      changes: cache,
      log: log.child({ component: 'own-bundle' }),
    })
    // Closed before the store it reads.
    opened.push(ownBundle)
    const registration = new RegistrationService({
      store,
      trustDomain: config.trustDomain,
      log: log.child({ component: 'registration' }),
      clock,
      writeBatch: (writes) => wakeup.batch(writes),
    })
    return {
      config,
      log,
      clock,
      store,
      keyManager,
      ca,
      issuer: new SvidIssuer({
        signer: ca,
        audit: store.audit,
        defaults: { x509SvidTtlSeconds: config.defaultX509SvidTtlSeconds, jwtSvidTtlSeconds: config.defaultJwtSvidTtlSeconds },
        clock,
        log: log.child({ component: 'issuance' }),
      }),
      ownBundle,
      registration,
      cache,
      nodeAttestors: new Map(attestors.map((a) => [a.name, a.instance])),
      changesApplied: () => wakeup.settled(),
      close: async () => {
        cache.stopPolling()
        await closeAll(opened, log)
      },
    }
  } catch (err) {
    await closeAll(opened, log)
    throw err
  }
}
