import * as grpc from '@grpc/grpc-js'
import type { Logger } from '../../../common/logger.js'
import { loadAdminApi } from '../../../proto/load.js'
import type { ServerCore } from '../../core.js'
import type { HealthChecker } from '../../health.js'
import { adminApiHandlers } from './service.js'
import { prepareSocketPath, removeSocket, restrictSocket } from './socket.js'

export { entryInputFromMessage, MAX_ENTRY_BATCH } from './entries.js'
export { DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT } from './service.js'

/** How long close() lets calls in flight finish before cutting them off. */
const SHUTDOWN_GRACE_MS = 10_000

/** Options of {@link startAdminApi}. */
export interface AdminApiOptions {
  readonly health: HealthChecker
  /** Defaults to `config.socketPath`. */
  readonly socketPath?: string
  /** Defaults to `core.log` tagged `{ component: 'admin-api' }`. */
  readonly log?: Logger
}

/** A running admin API. */
export interface AdminApi {
  readonly socketPath: string
  /** Stops taking calls, lets calls in flight finish (writes included), then removes the socket. */
  close(): Promise<void>
}

/**
 * The actor recorded for admin calls. The socket is owner-only (0600 in a 0700 directory), so the
 * caller is the server's own user (or root); grpc-js does not expose the peer's credentials.
 */
export function adminActor(): string {
  return `admin:uid:${process.getuid?.() ?? 'unknown'}`
}

/**
 * Serves the admin API (gRPC, no TLS) on the Unix socket: created owner-only; a stale socket left
 * by a dead server is replaced, a live one is not.
 * @throws FailedPreconditionError when another server answers on the socket; bind errors.
 */
export async function startAdminApi(core: ServerCore, options: AdminApiOptions): Promise<AdminApi> {
  const log = options.log ?? core.log.child({ component: 'admin-api' })
  const socketPath = options.socketPath ?? core.config.socketPath
  await prepareSocketPath(socketPath)
  const server = new grpc.Server()
  server.addService(loadAdminApi().service, adminApiHandlers({ core, log, actor: adminActor(), health: options.health }))
  try {
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err === null ? resolve() : reject(err)))
    })
    await restrictSocket(socketPath)
  } catch (err) {
    server.forceShutdown()
    await removeSocket(socketPath)
    throw err
  }
  log.info('Admin API listening', { socketPath })

  let closing: Promise<void> | undefined
  return {
    socketPath,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            log.warn('Admin calls still running at shutdown were cut off', { graceMs: SHUTDOWN_GRACE_MS })
            server.forceShutdown()
            resolve()
          }, SHUTDOWN_GRACE_MS)
          server.tryShutdown(() => {
            clearTimeout(timer)
            resolve()
          })
        })
        await removeSocket(socketPath)
        log.info('Admin API stopped')
      })()),
  }
}
