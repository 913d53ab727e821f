import { chmod, lstat, mkdir, unlink } from 'node:fs/promises'
import { connect } from 'node:net'
import { dirname } from 'node:path'
import { FailedPreconditionError } from '../../../common/errors.js'

/** How long to wait for an answer on an existing socket before calling it stale. */
const PROBE_TIMEOUT_MS = 1_000
/** Longest Unix socket path that binds on both Linux (107) and macOS (103). */
const MAX_SOCKET_PATH_BYTES = 103

/**
 * Makes `socketPath` ready to bind: creates its directory (0700) when missing, and removes a
 * socket file left behind by a server that is gone. A socket something still answers on is left
 * alone: two servers on one socket would split the operators' commands between them.
 * @throws FailedPreconditionError when the path is too long for a socket, another process answers
 *   on it, or it is taken by something that is not a socket.
 */
export async function prepareSocketPath(socketPath: string): Promise<void> {
  const length = Buffer.byteLength(socketPath)
  if (length > MAX_SOCKET_PATH_BYTES) {
    throw new FailedPreconditionError(`admin socket: ${socketPath} is ${length} bytes long; Unix socket paths must be at most ${MAX_SOCKET_PATH_BYTES}: set a shorter socket_path`)
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

/** Restricts the bound socket to its owner (0600): the admin API has no other authentication. */
export async function restrictSocket(socketPath: string): Promise<void> {
  await chmod(socketPath, 0o600)
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
