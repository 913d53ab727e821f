import { randomBytes } from 'node:crypto'
import { chmod, lstat, mkdir, mkdtemp, rename, rm, stat, unlink } from 'node:fs/promises'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { FailedPreconditionError, errorMessage } from '../../../common/errors.js'
import type { Logger } from '../../../common/logger.js'
import { loadPeercredAddon, socketFd, type PeercredAddon, type PeerCredentials } from '../../../common/peercred.js'

/** How long to wait for an answer on an existing socket before calling it stale. */
const PROBE_TIMEOUT_MS = 1_000
/** Longest Unix socket path that binds on both Linux (107) and macOS (103). */
const MAX_SOCKET_PATH_BYTES = 103
/** Prefix of the private directory the socket is bound in before it is renamed into place. */
const PRIVATE_DIR_PREFIX = '.admin-'
/** `/.admin-XXXXXX/s`: how much longer than the socket's directory the path bound first is. */
const PRIVATE_PATH_EXTRA_BYTES = `/${PRIVATE_DIR_PREFIX}XXXXXX/s`.length
/** The socket's mode when only root and the server's uid may call: owner only. */
const OWNER_ONLY_MODE = 0o600
/**
 * The mode when `admin.allowed_uids`/`allowed_gids` name others: anyone may connect, and the peer
 * credentials decide (a connection from anyone else is closed before gRPC reads from it).
 */
const SHARED_MODE = 0o666

/**
 * Makes `socketPath` ready to bind: creates its directory (0700) when missing, and removes a
 * socket file left behind by a server that is gone. A socket something still answers on is left
 * alone: two servers on one socket would split the operators' commands between them.
 * @throws FailedPreconditionError when the path is too long for a socket, another process answers
 *   on it, or it is taken by something that is not a socket.
 */
export async function prepareSocketPath(socketPath: string): Promise<void> {
  const length = Buffer.byteLength(socketPath)
  // The socket is first bound inside a private directory next to it (see listenAdminSocket).
  const privateLength = Buffer.byteLength(dirname(socketPath)) + PRIVATE_PATH_EXTRA_BYTES
  if (Math.max(length, privateLength) > MAX_SOCKET_PATH_BYTES) {
    throw new FailedPreconditionError(
      `admin socket: ${socketPath} is too long; Unix socket paths must be at most ${MAX_SOCKET_PATH_BYTES} bytes, and the directory at most ${MAX_SOCKET_PATH_BYTES - PRIVATE_PATH_EXTRA_BYTES}: set a shorter socket_path`,
    )
  }
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 })
  const existing = await lstat(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (existing === undefined) return
  if (!existing.isSocket()) {
    throw new FailedPreconditionError(`admin socket: ${socketPath} exists and is not a socket; remove it or set socket_path`)
  }
  if (await answers(socketPath)) {
    throw new FailedPreconditionError(`admin socket: ${socketPath} is in use by another process (is another steeple-server running on this data directory?)`)
  }
  await unlink(socketPath)
}

/** Who may call the admin API, besides root and the server's own uid. */
export interface AdminAccess {
  /** Further uids allowed. */
  readonly uids: readonly number[]
  /** Gids allowed: a caller whose primary or supplementary group is one of them. */
  readonly gids: readonly number[]
}

/** The process behind an admin connection, as the kernel recorded it at connect(). */
export interface AdminCaller extends PeerCredentials {
  readonly supplementaryGids: readonly number[]
}

/** The admin API's Unix socket, with the callers behind its connections. */
export interface AdminSocket {
  readonly path: string
  /** The caller behind `peer` (what `call.getPeer()` gives); undefined for any other connection. */
  callerOf(peer: string): AdminCaller | undefined
  /** Stops accepting connections; those open are closed by the gRPC server's shutdown. */
  close(): Promise<void>
}

/** Options of {@link listenAdminSocket}. */
export interface AdminSocketOptions {
  readonly path: string
  /** The gRPC server whose services answer on the socket; it needs no port of its own. */
  readonly server: grpc.Server
  readonly access: AdminAccess
  readonly log: Logger
  /** The native addon; defaults to the one `npm install` built. */
  readonly addon?: PeercredAddon
}

const TOKEN_PREFIX = 'steeple-admin-'

/**
 * Serves `server` on the admin socket. The socket never exists at its path with a mode other than
 * its final one (0600, or 0666 when `access` names other callers): it is bound inside a fresh
 * private directory (0700) next to the path, given its mode, and only then renamed into place,
 * whatever the umask. Every connection is authorized from the kernel's record of the connecting
 * process (SO_PEERCRED, SO_PEERGROUPS): root, the server's own uid, and `access` may call; any other
 * connection is logged and closed before gRPC reads from it.
 * @throws FailedPreconditionError when the path cannot be used; bind errors.
 */
export async function listenAdminSocket(opts: AdminSocketOptions): Promise<AdminSocket> {
  const addon = opts.addon ?? loadPeercredAddon()
  const { path, log } = opts
  await prepareSocketPath(path)
  await warnIfShared(dirname(path), log)
  const allowedUids = new Set([0, process.getuid?.() ?? 0, ...opts.access.uids])
  const allowedGids = new Set(opts.access.gids)
  const callers = new Map<string, AdminCaller>()
  const injector = opts.server.createConnectionInjector(grpc.ServerCredentials.createInsecure())
  const netServer = createServer()

  netServer.on('connection', (socket: Socket) => {
    const caller = identify(socket, addon, log)
    if (caller === undefined) {
      socket.destroy()
      return
    }
    const allowed =
      allowedUids.has(caller.uid) || allowedGids.has(caller.gid) || caller.supplementaryGids.some((gid) => allowedGids.has(gid))
    if (!allowed) {
      log.warn('Admin connection refused', { reason: 'caller not allowed (admin.allowed_uids, admin.allowed_gids)', callerPid: caller.pid, callerUid: caller.uid, callerGid: caller.gid })
      socket.destroy()
      return
    }
    const token = TOKEN_PREFIX + randomBytes(12).toString('hex')
    // grpc-js reports this as the peer of every call on the connection (call.getPeer()).
    Object.defineProperty(socket, 'remoteAddress', { value: token, enumerable: true, configurable: true })
    callers.set(token, caller)
    socket.once('close', () => callers.delete(token))
    injector.injectConnection(socket)
  })
  netServer.on('error', (err) => log.error('Admin socket failed', { err: errorMessage(err), socketPath: path }))

  const privateDir = await mkdtemp(join(dirname(path), PRIVATE_DIR_PREFIX))
  try {
    const boundPath = join(privateDir, 's')
    await listen(netServer, boundPath)
    const shared = opts.access.uids.length > 0 || opts.access.gids.length > 0
    await chmod(boundPath, shared ? SHARED_MODE : OWNER_ONLY_MODE)
    await rename(boundPath, path)
  } catch (err) {
    netServer.close()
    injector.destroy()
    throw err
  } finally {
    await rm(privateDir, { recursive: true, force: true })
  }

  let closing: Promise<void> | undefined
  return {
    path,
    callerOf: (peer) => callers.get(peer),
    close: () =>
      (closing ??= new Promise<void>((resolve) => netServer.close(() => resolve())).then(() => removeSocket(path))),
  }
}

function identify(socket: Socket, addon: PeercredAddon, log: Logger): AdminCaller | undefined {
  const fd = socketFd(socket)
  if (fd === undefined) return undefined
  try {
    return { ...addon.peerCred(fd), supplementaryGids: Object.freeze(addon.peerGroups(fd)) }
  } catch (err) {
    log.info('Admin connection refused', { reason: errorMessage(err) })
    return undefined
  }
}

/** Another user who may replace entries of the directory could put their own socket in its place. */
async function warnIfShared(dir: string, log: Logger): Promise<void> {
  const st = await stat(dir)
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) {
    log.warn('Admin socket directory is writable by other users; they could replace the socket', { path: dir })
  }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    server.once('error', onError)
    server.listen(path, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

/** Removes the socket file if it is still a socket (never another file put there since). */
export async function removeSocket(socketPath: string): Promise<void> {
  const stats = await lstat(socketPath).catch(() => undefined)
  if (stats?.isSocket() === true) await unlink(socketPath).catch(() => undefined)
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath)
    const done = (alive: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(alive)
    }
    // A listener that accepts but never answers still holds the socket: count it as alive.
    const timer = setTimeout(() => done(true), PROBE_TIMEOUT_MS)
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}
