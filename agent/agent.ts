import { mkdir } from 'node:fs/promises'
import { SteepleError, errorMessage } from '../common/errors.js'
import { createLogger, type Logger } from '../common/logger.js'
import type { AgentNodeAttestorPlugin } from '../plugins/node-attestor/types.js'
import { closeAll, type LoadedPlugin, type PluginHost } from '../plugins/registry.js'
import { WorkloadAttestorHost } from './attestor/workload.js'
import { agentCatalog } from './catalog.js'
import type { AgentConfig } from './config.js'
import { AgentManager, type ManagerTiming } from './manager/index.js'
import { startWorkloadApi, type RunningWorkloadApi } from './workload-api/index.js'

/** How long shutdown may take before the process gives up on a clean exit. */
const SHUTDOWN_TIMEOUT_MS = 30_000

/** A started agent. */
export interface RunningAgent {
  readonly manager: AgentManager
  readonly socketPath: string
  /** Resolves with the reason when the agent had to stop on its own (refused by the server). */
  readonly failed: Promise<SteepleError>
  /** Closes the Workload API (open streams end), stops syncing and closes the plugins. */
  stop(): Promise<void>
}

export interface StartAgentOptions {
  readonly log?: Logger
  /** Shorter retry and rotation knobs, for tests. */
  readonly timing?: Partial<ManagerTiming>
}

/**
 * Starts the agent: loads its plugins (one node attestor, one or more workload attestors), gets the
 * agent SVID (stored, or by attesting the node), starts syncing entries and serving the Workload API
 * on the configured socket. Anything started is stopped again when a later step fails.
 * @throws ConfigError for bad plugin config or no way to trust the server; SteepleError from
 *   attestation; the socket's errors (path taken by something that is not a socket).
 */
export async function startAgent(config: AgentConfig, options: StartAgentOptions = {}): Promise<RunningAgent> {
  const log = options.log ?? createLogger({ level: config.logLevel })
  log.info('Agent starting', { trustDomain: config.trustDomain.name, dataDir: config.dataDir, server: `${config.serverAddress}:${config.serverPort}` })
  if (config.joinTokenOrigin === '--join-token') {
    log.warn('Join token given with --join-token: every local user can read it in /proc/<pid>/cmdline; give it with --join-token-file, STEEPLE_JOIN_TOKEN or agent.join_token_path', {
      pid: process.pid,
    })
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o755 })
  const catalog = agentCatalog()
  const hostFor =
    (kind: string) =>
    (name: string): PluginHost => ({
      log: log.child({ pluginKind: kind, pluginName: name }),
      trustDomain: config.trustDomain,
      dataDir: config.dataDir,
      clock: () => new Date(),
    })
  const plugins: unknown[] = []
  let manager: AgentManager | undefined
  let api: RunningWorkloadApi | undefined
  let reportFailure!: (err: SteepleError) => void
  const failed = new Promise<SteepleError>((resolve) => (reportFailure = resolve))

  const stopParts = async (): Promise<void> => {
    await api?.close().catch((err: unknown) => log.error('Closing the Workload API failed', { err: errorMessage(err) }))
    manager?.close()
    await manager?.closed()
    await closeAll(plugins, log)
  }

  try {
    const [nodeAttestor] = await catalog.load('AgentNodeAttestor', config.plugins['NodeAttestor'] ?? {}, hostFor('NodeAttestor'))
    plugins.push(nodeAttestor!.instance)
    const workloadAttestors = await catalog.load('WorkloadAttestor', config.plugins['WorkloadAttestor'] ?? {}, hostFor('WorkloadAttestor'))
    plugins.push(...workloadAttestors.map((p) => p.instance))
    manager = await AgentManager.start({
      config,
      nodeAttestor: nodeAttestor as LoadedPlugin<AgentNodeAttestorPlugin>,
      log: log.child({ component: 'manager' }),
      onFatal: (err) => reportFailure(err),
      ...(options.timing !== undefined && { timing: options.timing }),
    })
    const attestors = new WorkloadAttestorHost(workloadAttestors, { log: log.child({ component: 'workload_attestor' }) })
    api = await startWorkloadApi({ config, cache: manager, attestors, log })
    log.info('Agent started', {
      agentId: manager.agentId?.toString(),
      socketPath: api.socketPath,
      workloadAttestors: workloadAttestors.map((p) => p.name),
      nodeAttestor: nodeAttestor!.name,
    })
  } catch (err) {
    await stopParts().catch((closeErr: unknown) => log.error('Cleanup after a failed start failed', { err: errorMessage(closeErr) }))
    throw err
  }

  let stopping: Promise<void> | undefined
  return {
    manager,
    socketPath: api.socketPath,
    failed,
    stop: () =>
      (stopping ??= (async () => {
        log.info('Agent stopping')
        await stopParts()
        log.info('Agent stopped')
      })()),
  }
}

/**
 * `steeple-agent run`: starts the agent and runs until SIGTERM or SIGINT (exit 0 after a clean
 * shutdown), or until the server refuses the agent for good (rejects with the reason).
 * @throws when start-up fails, or the agent had to stop (the caller prints it and exits non-zero).
 */
export async function runAgent(config: AgentConfig): Promise<void> {
  const log = createLogger({ level: config.logLevel })
  const agent = await startAgent(config, { log })
  const outcome = await new Promise<SteepleError | undefined>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info('Shutdown requested', { signal })
      resolve(undefined)
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    void agent.failed.then(resolve)
  })
  const watchdog = setTimeout(() => {
    log.error('Shutdown took too long', { timeoutMs: SHUTDOWN_TIMEOUT_MS })
    process.exit(1)
  }, SHUTDOWN_TIMEOUT_MS)
  watchdog.unref()
  await agent.stop()
  clearTimeout(watchdog)
  if (outcome !== undefined) throw outcome
}
