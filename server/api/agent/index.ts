import * as grpc from '@grpc/grpc-js'
import { shutdownGracefully } from '../../../common/grpc-shutdown.js'
import type { Logger } from '../../../common/logger.js'
import { loadAgentApi } from '../../../proto/index.js'
import type { ServerCore } from '../../core.js'
import { AttestService } from './attest.js'
import { AgentAuthenticator } from './auth.js'
import { NodeAttestationService } from '../../node/attestation.js'
import { NodeUpdater } from '../../node/updater.js'
import { agentApiHandlers } from './service.js'
import { SignService } from './sign.js'
import { SyncHub } from './sync.js'
import { ServerTls } from './tls.js'

export { AGENT_ID_SELECTOR_TYPE, agentIdSelector } from '../../node/attestation.js'

/** How often the entry cache reads change events (other servers' writes) while the agent API runs. */
export const DEFAULT_POLL_INTERVAL_MS = 250
/** How long close() waits for calls to finish before cutting them off. */
const SHUTDOWN_GRACE_MS = 5_000
const KEEPALIVE_TIME_MS = 60_000
const KEEPALIVE_TIMEOUT_MS = 20_000

/** Overrides for {@link startAgentApi}; every field has a default. */
export interface AgentApiOptions {
  /** Defaults to `config.bindAddress`. */
  readonly bindAddress?: string
  /** Defaults to `config.bindPort`; 0 picks a free port. */
  readonly port?: number
  /** Defaults to `core.log` tagged `{ component: 'agent-api' }`. */
  readonly log?: Logger
  /** Entry cache polling interval; default {@link DEFAULT_POLL_INTERVAL_MS}. */
  readonly pollIntervalMs?: number
  /** Longest attestation, challenges included; default 30 s. */
  readonly attestTimeoutMs?: number
  /** How often every sync stream is recomputed regardless of events; default 30 s. */
  readonly resyncIntervalMs?: number
}

/** A running agent API. */
export interface AgentApi {
  /** The port bound (useful with port 0). */
  readonly port: number
  /** The server SVID chain presented now (leaf first). */
  serverSvidChain(): readonly Buffer[]
  /** Ends sync streams (UNAVAILABLE), lets other calls finish for a few seconds, then stops. */
  close(): Promise<void>
}

/**
 * Starts the agent API (gRPC over TLS on TCP): the server presents its own X509-SVID, agents
 * attest without a client certificate and use their agent SVID for everything else. Also starts
 * entry cache polling, so writes by other servers reach agents' sync streams quickly.
 * @throws when the server SVID cannot be minted or the address cannot be bound.
 */
export async function startAgentApi(core: ServerCore, opts: AgentApiOptions = {}): Promise<AgentApi> {
  const log = opts.log ?? core.log.child({ component: 'agent-api' })
  const tls = new ServerTls(core, log)
  await tls.start()
  const nodes = new NodeUpdater(core, log)
  const auth = new AgentAuthenticator(core, tls, nodes)
  const attestation = new NodeAttestationService(core, nodes, log)
  const attest = new AttestService({ core, auth, attestation, ...(opts.attestTimeoutMs !== undefined && { attestTimeoutMs: opts.attestTimeoutMs }) })
  const sync = new SyncHub({ core, auth, log, ...(opts.resyncIntervalMs !== undefined && { resyncIntervalMs: opts.resyncIntervalMs }) })
  const sign = new SignService({ core, auth, log })
  sync.start()

  const server = new grpc.Server({
    // Sync streams live as long as the agent: pings find agents that vanished without closing.
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  })
  server.addService(loadAgentApi().service, agentApiHandlers({ core, auth, attest, sync, sign, log }))
  const address = `${opts.bindAddress ?? core.config.bindAddress}:${opts.port ?? core.config.bindPort}`
  let port: number
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, tls.credentials, (err, bound) => (err === null ? resolve(bound) : reject(err)))
    })
  } catch (err) {
    sync.close()
    tls.stop()
    server.forceShutdown()
    throw err
  }
  core.cache.startPolling(opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS)
  log.info('Agent API listening', { address: address.replace(/:\d+$/, `:${port}`) })

  let closing: Promise<void> | undefined
  return {
    port,
    serverSvidChain: () => tls.svidChain,
    close: () =>
      (closing ??= (async () => {
        core.cache.stopPolling()
        sync.close()
        await shutdownGracefully(server, SHUTDOWN_GRACE_MS)
        tls.stop()
        log.info('Agent API stopped')
      })()),
  }
}
