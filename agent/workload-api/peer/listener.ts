import { chmod, lstat, mkdir, stat, unlink } from 'node:fs/promises'
import { RewritingConnection } from './authority.js'
import * as net from 'node:net'
import { dirname, resolve } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { FailedPreconditionError, errorMessage } from '../../../common/errors.js'
import type { Logger } from '../../../common/logger.js'
import { loadPeercredAddon, socketFd, type PeercredAddon } from '../../../common/peercred.js'
import { procInspector, type ProcessInspector } from './process.js'
import { PeerTracker, type CallerInfo } from './tracker.js'

/** Options of {@link startWorkloadSocket}. */
export interface WorkloadSocketOptions {
  /** Path of the Unix socket (relative paths are resolved against the working directory). */
  path: string
  /** The gRPC server whose services answer on the socket; it needs no port of its own. */
  server: grpc.Server
  log: Logger
  /** Called for each accepted connection, after its caller is tracked and before gRPC sees it. */
  onConnection?: (caller: CallerInfo) => void
  /** The native addon; defaults to the one `npm install` built. */
  addon?: PeercredAddon
  /** Reads callers' ids and executable; defaults to /proc. */
  inspector?: ProcessInspector
}

/** A Workload API endpoint on a Unix socket, whose callers are known from the kernel. */
export interface WorkloadSocket {
  /** Absolute path of the socket. */
  readonly path: string
  /** Finds the caller of a call from `call.getPeer()`. */
  readonly tracker: PeerTracker
  /** How callers' pidfds are obtained on this kernel (`pidfd_open` has a PID-reuse window at connect). */
  readonly pidfdSource: 'SO_PEERPIDFD' | 'pidfd_open'
  /**
   * Stops accepting, closes every connection and pidfd, and removes the socket file (libuv unlinks
   * the path as the listener closes). Later calls return the same promise.
   */
  close(): Promise<void>
}

/** The socket's own mode: any uid may connect, since callers are authorized by attestation. */
const SOCKET_MODE = 0o777
/** Mode of directories we create for the socket: anyone may reach the socket, only we may replace it. */
const DIRECTORY_MODE = 0o755

/**
 * Serves `server` on a Unix socket only (no TCP: WEP §2, §3) in plaintext HTTP/2 (WEP §3.1).
 * Each connection's caller is read from the kernel (SO_PEERCRED, SO_PEERGROUPS, a pidfd) when it is
 * accepted and tracked under a token that becomes the connection's `remoteAddress`; a connection
 * whose caller cannot be known is closed before gRPC sees it. Creates the socket's directory (0755)
 * when missing and replaces a socket file nobody listens on. Throws a `FailedPreconditionError`
 * when the path is not a socket or another process serves it, and the addon's loading error when it
 * was not built.
 */
export async function startWorkloadSocket(opts: WorkloadSocketOptions): Promise<WorkloadSocket> {
  const addon = opts.addon ?? loadPeercredAddon()
  const path = resolve(opts.path)
  const log = opts.log.child({ component: 'workload_socket' })
  await prepareDirectory(dirname(path), log)
  await removeStaleSocket(path)

  const tracker = new PeerTracker(addon, opts.inspector ?? procInspector())
  const injector = opts.server.createConnectionInjector(grpc.ServerCredentials.createInsecure())
  const sockets = new Set<net.Socket>()
  const netServer = net.createServer()

  netServer.on('connection', (socket) => {
    const caller = identify(socket, addon, tracker, log)
    if (caller === undefined) {
      socket.destroy()
      return
    }
    // grpc-js reports this as the peer of every call on the connection (call.getPeer()).
    Object.defineProperty(socket, 'remoteAddress', { value: caller.token, enumerable: true, configurable: true })
    sockets.add(socket)
    socket.once('close', () => {
      sockets.delete(socket)
      tracker.remove(caller.token)
    })
    if (opts.onConnection !== undefined) {
      try {
        opts.onConnection(caller)
      } catch (err) {
        log.error('Workload API connection hook failed', { err: errorMessage(err), callerPid: caller.pid })
        socket.destroy()
        return
      }
    }
    // Through the header rewriter (see authority.ts): grpc-java's Unix-socket :authority is refused
    // by Node's HTTP/2 layer otherwise.
    injector.injectConnection(
      new RewritingConnection(socket, (err) => log.info('Workload API connection dropped', { reason: err.message, callerPid: caller.pid })),
    )
  })

  try {
    await listen(netServer, path)
    await chmod(path, SOCKET_MODE)
  } catch (err) {
    injector.destroy()
    netServer.close()
    throw err
  }
  netServer.on('error', (err) => log.error('Workload API socket failed', { err: errorMessage(err), path }))
  const pidfdSource = addon.hasSoPeerPidfd ? 'SO_PEERPIDFD' : 'pidfd_open'
  log.info('Workload API listening', { path, pidfdSource })

  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    const closed = new Promise<void>((done) => netServer.close(() => done()))
    injector.destroy()
    for (const socket of sockets) socket.destroy()
    await closed
    tracker.closeAll()
    log.info('Workload API stopped', { path })
  }

  return {
    path,
    tracker,
    pidfdSource,
    close: () => (closing ??= close()),
  }
}

/** Reads the caller of a new connection from the kernel; undefined (and logged) if it cannot be known. */
function identify(socket: net.Socket, addon: PeercredAddon, tracker: PeerTracker, log: Logger): CallerInfo | undefined {
  const fd = socketFd(socket)
  if (fd === undefined) {
    log.error('Workload API connection has no file descriptor')
    return undefined
  }
  try {
    const supplementaryGids = addon.peerGroups(fd)
    const creds = addon.peerCred(fd)
    // pid 0: the caller lives in a pid namespace this agent cannot see into.
    if (creds.pid <= 0) {
      log.info('Workload API connection refused', { reason: 'caller pid not visible', callerUid: creds.uid })
      return undefined
    }
    const pidfd = addon.peerPidfd(fd)
    const caller = tracker.add(creds, supplementaryGids, pidfd)
    log.debug('Workload API connection accepted', { callerPid: caller.pid, callerUid: caller.uid, callerGid: caller.gid })
    return caller
  } catch (err) {
    // Typically ESRCH: the caller exited before we could pin it with a pidfd.
    log.info('Workload API connection refused', { reason: errorMessage(err) })
    return undefined
  }
}

async function prepareDirectory(dir: string, log: Logger): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: DIRECTORY_MODE })
  if (first !== undefined) {
    // The umask may have narrowed the mode; set it on each directory we made, never on older ones.
    for (let made = dir; ; made = dirname(made)) {
      await chmod(made, DIRECTORY_MODE)
      if (made === first || made === dirname(made)) break
    }
    return
  }
  const st = await stat(dir)
  if ((st.mode & 0o002) !== 0 && (st.mode & 0o1000) === 0) {
    log.warn('Workload API socket directory is writable by every user', { path: dir })
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  })
  if (st === undefined) return
  if (!st.isSocket()) throw new FailedPreconditionError(`workloadapi: socket path ${path} exists and is not a socket`)
  if (await isListening(path)) throw new FailedPreconditionError(`workloadapi: another process serves ${path}`)
  await unlink(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  })
}

/** Whether something accepts connections on the socket; a refused or vanished socket is stale. */
function isListening(path: string): Promise<boolean> {
  return new Promise((done, fail) => {
    const probe = net.connect(path)
    probe.once('connect', () => {
      probe.destroy()
      done(true)
    })
    probe.once('error', (err: NodeJS.ErrnoException) => {
      probe.destroy()
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') done(false)
      // EAGAIN: a full accept queue, so someone is listening.
      else if (err.code === 'EAGAIN') done(true)
      else fail(err)
    })
  })
}

function listen(server: net.Server, path: string): Promise<void> {
  return new Promise((done, fail) => {
    const onError = (err: Error): void => fail(err)
    server.once('error', onError)
    server.listen(path, () => {
      server.off('error', onError)
      done()
    })
  })
}
