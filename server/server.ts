import { errorMessage } from '../common/errors.js'
import { createLogger, type Logger } from '../common/logger.js'
import { startAdminApi, type AdminApi } from './api/admin/index.js'
import { startAgentApi, type AgentApi } from './api/agent/index.js'
import type { ServerConfig } from './config.js'
import { buildServerCore, type ServerCore } from './core.js'
import { HealthChecker } from './health.js'
import { createServerMetrics, instrumentCore, startMetricsServer, type MetricsServer } from './metrics.js'

/** Bounds of the CA rotation tick: often enough for short test TTLs, rarely enough to cost nothing. */
const MIN_ROTATION_TICK_MS = 250
const MAX_ROTATION_TICK_MS = 10_000
/** How often expired join tokens and audit events past retention are removed. */
const HOUSEKEEPING_INTERVAL_MS = 60_000
/** How long shutdown may take before the process gives up on a clean exit. */
const SHUTDOWN_TIMEOUT_MS = 30_000

/** How often the CA checks whether to prepare, activate or prune: 1/60 of the CA TTL, clamped. */
export function rotationTickMs(caTtlSeconds: number): number {
  return Math.min(MAX_ROTATION_TICK_MS, Math.max(MIN_ROTATION_TICK_MS, Math.floor((caTtlSeconds * 1000) / 60)))
}

/** A started server. */
export interface RunningServer {
  readonly core: ServerCore
  /** The agent API's TCP port (the one chosen when the config says 0). */
  readonly agentApiPort: number
  readonly socketPath: string
  /** Undefined when metrics are off. */
  readonly metricsPort: number | undefined
  /** Stops taking calls, lets calls in flight finish, then closes the APIs and the core. */
  stop(): Promise<void>
}

/**
 * Starts everything the config asks for: the core (plugins, CA, entry cache), CA rotation and
 * housekeeping timers, the agent API, the admin API and, with `metrics_port`, the metrics endpoint.
 * Anything started is stopped again when a later step fails.
 * @throws what the first failing step throws (plugin config, CA, bind errors).
 */
export async function startServer(config: ServerConfig, options: { log?: Logger } = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger({ level: config.logLevel })
  log.info('Server starting', { trustDomain: config.trustDomain.name, dataDir: config.dataDir })
  const core = await buildServerCore(config, { log })
  let serving = false
  const timers: NodeJS.Timeout[] = []
  let agentApi: AgentApi | undefined
  let adminApi: AdminApi | undefined
  let metricsServer: MetricsServer | undefined

  const stopParts = async (): Promise<void> => {
    serving = false
    for (const timer of timers) clearInterval(timer)
    const results = await Promise.allSettled([adminApi?.close(), agentApi?.close(), metricsServer?.close()])
    for (const r of results) if (r.status === 'rejected') log.error('Stopping an API failed', { err: errorMessage(r.reason) })
    await core.close()
  }

  try {
    const metrics = createServerMetrics(core, log.child({ component: 'metrics' }))
    const apiCore = instrumentCore(core, metrics)
    const health = new HealthChecker(core, () => serving)

    const caLog = log.child({ component: 'ca' })
    timers.push(
      setInterval(() => {
        core.ca.rotate().catch((err: unknown) => caLog.error('CA rotation failed', { err: errorMessage(err) }))
      }, rotationTickMs(config.caTtlSeconds)),
    )
    const housekeeping = () => {
      runHousekeeping(core).catch((err: unknown) => log.warn('Housekeeping failed', { err: errorMessage(err) }))
    }
    timers.push(setInterval(housekeeping, HOUSEKEEPING_INTERVAL_MS))
    housekeeping()

    agentApi = await startAgentApi(apiCore)
    adminApi = await startAdminApi(apiCore, { health })
    if (config.metricsPort !== undefined) {
      metricsServer = await startMetricsServer({ port: config.metricsPort, metrics, health, log: log.child({ component: 'metrics' }) })
    }
    serving = true
    log.info('Server started', {
      trustDomain: config.trustDomain.name,
      agentApiAddress: `${config.bindAddress}:${agentApi.port}`,
      socketPath: adminApi.socketPath,
      ...(metricsServer !== undefined && { metricsAddress: `127.0.0.1:${metricsServer.port}` }),
    })
  } catch (err) {
    await stopParts().catch((closeErr: unknown) => log.error('Cleanup after a failed start failed', { err: errorMessage(closeErr) }))
    throw err
  }

  let stopping: Promise<void> | undefined
  return {
    core,
    agentApiPort: agentApi.port,
    socketPath: adminApi.socketPath,
    metricsPort: metricsServer?.port,
    stop: () =>
      (stopping ??= (async () => {
        log.info('Server stopping')
        await stopParts()
        log.info('Server stopped')
      })()),
  }
}

/** Removes join tokens that expired and audit events older than the retention. */
async function runHousekeeping(core: ServerCore): Promise<void> {
  const now = core.clock()
  const tokens = await core.store.joinTokens.pruneExpired(now)
  const events = await core.store.audit.prune(new Date(now.getTime() - core.config.auditRetentionSeconds * 1000))
  if (tokens > 0 || events > 0) core.log.info('Expired records removed', { joinTokens: tokens, auditEvents: events })
}

/**
 * `steeple-server run`: starts the server and runs until SIGTERM or SIGINT, then shuts down
 * cleanly (calls in flight, writes included, finish first) and exits 0; exits 1 when the
 * shutdown fails or takes longer than 30 s.
 * @throws when start-up fails (the caller prints it and exits non-zero).
 */
export async function runServer(config: ServerConfig): Promise<void> {
  const log = createLogger({ level: config.logLevel })
  const server = await startServer(config, { log })
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info('Shutdown requested', { signal })
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      // A second signal during shutdown gets Node's default: immediate exit.
      const watchdog = setTimeout(() => {
        log.error('Shutdown took too long', { timeoutMs: SHUTDOWN_TIMEOUT_MS })
        process.exit(1)
      }, SHUTDOWN_TIMEOUT_MS)
      watchdog.unref()
      server.stop().then(
        () => {
          clearTimeout(watchdog)
          resolve()
        },
        (err: unknown) => {
          log.error('Shutdown failed', { err: errorMessage(err) })
          process.exit(1)
        },
      )
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  })
}
