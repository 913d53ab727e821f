import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'
import { sourcePath } from './source-path.js'

/** What the kernel recorded about the process that called connect() on a Unix socket. */
export interface PeerCredentials {
  readonly pid: number
  readonly uid: number
  readonly gid: number
}

/**
 * The native peer-credential addon (native/peercred/peercred.c). Every function is synchronous
 * and throws an `Error` whose `code` is the errno name (`ENOTSOCK`, `ESRCH`, …) on failure.
 */
export interface PeercredAddon {
  /** getsockopt(SO_PEERCRED): pid, uid and gid of the peer at connect() time. */
  peerCred(fd: number): PeerCredentials
  /** getsockopt(SO_PEERGROUPS): the peer's supplementary group ids at connect() time. */
  peerGroups(fd: number): number[]
  /**
   * A pidfd for the peer: SO_PEERPIDFD where the kernel has it (no PID-reuse window), else
   * {@link PeercredAddon.peerPidfdFallback}. The caller owns the fd and must close it.
   */
  peerPidfd(fd: number): number
  /**
   * pidfd_open() of the SO_PEERCRED pid. It names the wrong process if the caller exited and its
   * pid was recycled between connect() and this call, so call it right after accepting.
   */
  peerPidfdFallback(fd: number): number
  /** Whether the process behind the pidfd is still running (false once it exited, even as a zombie). */
  pidfdAlive(pidfd: number): boolean
  closeFd(fd: number): void
  /** Whether this kernel answers SO_PEERPIDFD (Linux ≥ 6.5); probed once when the addon loads. */
  readonly hasSoPeerPidfd: boolean
}

/** Where `npm install` (node-gyp, binding.gyp target `steeple_peercred`) puts the addon. */
export const PEERCRED_ADDON_PATH = sourcePath(import.meta.url, '../build/Release/steeple_peercred.node')

const loaded = new Map<string, PeercredAddon>()

/**
 * Loads the native addon once per path. Throws an `Error` that says how to build it when the file
 * is missing or cannot be loaded (wrong Node ABI, not Linux).
 */
export function loadPeercredAddon(path: string = PEERCRED_ADDON_PATH): PeercredAddon {
  const cached = loaded.get(path)
  if (cached !== undefined) return cached
  if (!existsSync(path)) {
    throw new Error(
      `peercred: native addon ${path} is missing; build it with \`npm ci\` (or \`npm rebuild\`), ` +
        'which needs a C compiler, make, python3 and Node headers (npm_config_nodedir=/usr)',
    )
  }
  let addon: PeercredAddon
  try {
    addon = createRequire(import.meta.url)(path) as PeercredAddon
  } catch (err) {
    throw new Error(`peercred: native addon ${path} cannot be loaded; rebuild it with \`npm rebuild\``, { cause: err })
  }
  loaded.set(path, addon)
  return addon
}

/**
 * The file descriptor of an accepted Unix-socket connection, for the addon's calls; undefined when
 * the socket has none (already closed). Pipe handles keep their fd for their whole life.
 */
export function socketFd(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd
  return typeof fd === 'number' && fd >= 0 ? fd : undefined
}
