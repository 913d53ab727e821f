import * as grpc from '@grpc/grpc-js'
import { shutdownGracefully } from '../../../common/grpc-shutdown.js'
import type { Logger } from '../../../common/logger.js'
import { loadAdminApi } from '../../../proto/index.js'
import type { ServerCore } from '../../core.js'
import type { HealthChecker } from '../../health.js'
import { adminApiHandlers } from './service.js'
import { listenAdminSocket, type AdminAccess, type AdminCaller, type AdminSocket } from './socket.js'

export { entryInputFromMessage, MAX_ENTRY_BATCH } from './entries.js'
export { DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT } from './service.js'
export type { AdminAccess } from './socket.js'

/** How long close() lets calls in flight finish before cutting them off. */
const SHUTDOWN_GRACE_MS = 10_000

/** Options of {@link startAdminApi}. */
export interface AdminApiOptions {
  readonly health: HealthChecker
  /** Defaults to `config.socketPath`. */
  readonly socketPath?: string
  /** Who may call besides root and the server's uid; defaults to `config.admin`. */
  readonly access?: AdminAccess
  /** Defaults to `core.log` tagged `{ component: 'admin-api' }`. */
  readonly log?: Logger
}

/** A running admin API. */
export interface AdminApi {
  readonly socketPath: string
  /** Stops taking calls, lets calls in flight finish (writes included), then removes the socket. */
  close(): Promise<void>
}

/** The audit actor of an admin call: the uid of the process that connected, from the kernel. */
export function adminActor(caller: AdminCaller): string {
  return `admin:uid:${caller.uid}`
}

/**
 * Serves the admin API (gRPC, no TLS) on the Unix socket: created owner-only (never looser, even
 * for a moment), every connection authorized by the caller's peer credentials, each call audited
 * with the caller's uid; a stale socket left by a dead server is replaced, a live one is not.
 * @throws FailedPreconditionError when another server answers on the socket; bind errors.
 */
export async function startAdminApi(core: ServerCore, options: AdminApiOptions): Promise<AdminApi> {
  const log = options.log ?? core.log.child({ component: 'admin-api' })
  const server = new grpc.Server()
  let socket: AdminSocket | undefined
  const actorOf = (peer: string): string | undefined => {
    const caller = socket?.callerOf(peer)
    return caller === undefined ? undefined : adminActor(caller)
  }
  // The service is in place before the first connection can arrive.
  server.addService(loadAdminApi().service, adminApiHandlers({ core, log, health: options.health, actorOf }))
  socket = await listenAdminSocket({ path: options.socketPath ?? core.config.socketPath, server, access: options.access ?? core.config.admin, log })
  const socketPath = socket.path
  const listening = socket
  log.info('Admin API listening', { socketPath })

  let closing: Promise<void> | undefined
  return {
    socketPath,
    close: () =>
      (closing ??= (async () => {
        if ((await shutdownGracefully(server, SHUTDOWN_GRACE_MS)) === 'cut-off') {
          log.warn('Admin calls still running at shutdown were cut off', { graceMs: SHUTDOWN_GRACE_MS })
        }
        await listening.close()
        log.info('Admin API stopped')
      })()),
  }
}
