import * as grpc from '@grpc/grpc-js'
import type { Logger } from '../../common/logger.js'
import { workloadApiPackageDefinition } from '../../proto/index.js'
import type { AgentConfig } from '../config.js'
import type { IdentityCache } from '../manager/index.js'
import type { WorkloadAttestation } from './caller.js'
import type { PeercredAddon } from '../../common/peercred.js'
import { startWorkloadSocket, type WorkloadSocket } from './peer/listener.js'
import { addReflection } from './reflection/reflection.js'
import { createWorkloadApiService } from './service.js'

/** What {@link startWorkloadApi} needs. */
export interface WorkloadApiOptions {
  /** `socketPath` (absolute) and `trustDomain` of the agent. */
  readonly config: Pick<AgentConfig, 'socketPath' | 'trustDomain'>
  readonly cache: IdentityCache
  /** The agent's workload attestors (`WorkloadAttestorHost`). */
  readonly attestors: WorkloadAttestation
  readonly log: Logger
  /** The peer-credential addon; the one `npm install` built when absent (tests pass a fake). */
  readonly addon?: PeercredAddon
  /** Clock for ValidateJWTSVID; the current time when absent. */
  readonly now?: () => Date
  /** How long a new stream waits for an SVID being minted (tests shorten it); 5 s when absent. */
  readonly firstMessageWaitMs?: number
}

/** A running Workload API endpoint. */
export interface RunningWorkloadApi {
  /** Absolute path of the socket. */
  readonly socketPath: string
  /**
   * Ends the open streams (status OK, so clients reconnect to the next agent), closes every
   * connection and removes the socket. Later calls return the same promise.
   */
  close(): Promise<void>
}

/**
 * Serves the SPIFFE Workload API on the agent's Unix socket (SPIFFE_Workload_Endpoint.md): the
 * SpiffeWorkloadAPI service, whose callers are known from the kernel and attested per call, and gRPC
 * server reflection (WEP-16). Plaintext HTTP/2 on a Unix socket only (WEP-01, WEP-03, WEP-06).
 * @throws what `startWorkloadSocket` throws: the path is taken or not a socket, the addon is missing.
 */
export async function startWorkloadApi(opts: WorkloadApiOptions): Promise<RunningWorkloadApi> {
  const log = opts.log.child({ component: 'workload_api' })
  const server = new grpc.Server()
  let socket: WorkloadSocket | undefined
  const service = createWorkloadApiService({
    cache: opts.cache,
    // Calls arrive only through the socket's connections, so the socket exists by then.
    callers: { lookup: (peer) => socket?.tracker.lookup(peer) },
    attestation: opts.attestors,
    trustDomain: opts.config.trustDomain,
    log,
    ...(opts.now !== undefined && { now: opts.now }),
    ...(opts.firstMessageWaitMs !== undefined && { firstMessageWaitMs: opts.firstMessageWaitMs }),
  })
  server.addService(service.definition, service.handlers)
  addReflection(server, [workloadApiPackageDefinition()], log)
  try {
    socket = await startWorkloadSocket({
      path: opts.config.socketPath,
      server,
      log,
      ...(opts.addon !== undefined && { addon: opts.addon }),
    })
  } catch (err) {
    server.forceShutdown()
    throw err
  }
  const opened = socket
  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    service.close()
    await opened.close()
    server.forceShutdown()
  }
  return {
    socketPath: opened.path,
    close: () => (closing ??= close()),
  }
}
