import { createHash } from 'node:crypto'
import { open, type FileHandle } from 'node:fs/promises'
import { readFileSync, readlinkSync, statSync, type BigIntStats } from 'node:fs'
import { throwIfAborted } from '../types.js'

/**
 * What identifies one version of a file: the inode it lives in and when it last changed. The
 * ctime is part of it because, unlike the mtime, no user can set it back after a write.
 */
export interface FileIdentity {
  readonly dev: bigint
  readonly ino: bigint
  readonly size: bigint
  readonly mtimeNs: bigint
  readonly ctimeNs: bigint
}

/** A file opened for hashing: identity and content come from the same open inode. */
export interface OpenFile {
  identify(): Promise<FileIdentity>
  /** SHA-256 of the whole content, lower-case hex; rejects once `signal` aborts. */
  sha256(signal: AbortSignal): Promise<string>
  close(): Promise<void>
}

/** The file operations the unix attestor uses; errors are Node's (with `code`, e.g. `ENOENT`). */
export interface UnixFs {
  readText(path: string): Promise<string>
  readlink(path: string): Promise<string>
  /** Identity of the file at `path`, following symbolic links (and /proc magic links). */
  identify(path: string): Promise<FileIdentity>
  openFile(path: string): Promise<OpenFile>
}

/** OS access of the unix attestor, so tests can point it at a fake /proc and fake user databases. */
export interface UnixAttestorHooks {
  /** Where the proc filesystem is mounted. */
  readonly procRoot: string
  /** The user database (`name:password:uid:…` lines). */
  readonly passwdPath: string
  /** The group database (`name:password:gid:members` lines). */
  readonly groupPath: string
  readonly fs: UnixFs
}

const HASH_CHUNK_BYTES = 1 << 20

function identityOf(st: BigIntStats): FileIdentity {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs }
}

class NodeOpenFile implements OpenFile {
  readonly #handle: FileHandle

  constructor(handle: FileHandle) {
    this.#handle = handle
  }

  async identify(): Promise<FileIdentity> {
    return identityOf(await this.#handle.stat({ bigint: true }))
  }

  async sha256(signal: AbortSignal): Promise<string> {
    const hash = createHash('sha256')
    const buffer = Buffer.allocUnsafe(HASH_CHUNK_BYTES)
    for (;;) {
      throwIfAborted(signal)
      const { bytesRead } = await this.#handle.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) return hash.digest('hex')
      hash.update(buffer.subarray(0, bytesRead))
    }
  }

  close(): Promise<void> {
    return this.#handle.close()
  }
}

/**
 * {@link UnixFs} on the real file system. The small reads (a /proc status file, a link, the stat of
 * /etc/passwd) are synchronous: each takes microseconds, while their async forms each wait for a
 * slot in libuv's 4-thread pool, which 100 callers arriving at once fill (the fetch benchmark's p99
 * went to that queue). Executables are hashed asynchronously, in chunks, as they can be large.
 */
export const nodeUnixFs: UnixFs = Object.freeze({
  readText: async (path: string) => readFileSync(path, 'utf8'),
  readlink: async (path: string) => readlinkSync(path),
  identify: async (path: string) => identityOf(statSync(path, { bigint: true })),
  openFile: async (path: string): Promise<OpenFile> => new NodeOpenFile(await open(path, 'r')),
})

/** The real system: `/proc`, `/etc/passwd`, `/etc/group`. */
export const DEFAULT_UNIX_HOOKS: UnixAttestorHooks = Object.freeze({
  procRoot: '/proc',
  passwdPath: '/etc/passwd',
  groupPath: '/etc/group',
  fs: nodeUnixFs,
})

/** A string naming one file version, for cache keys. */
export function identityKey(id: FileIdentity): string {
  return `${id.dev}:${id.ino}:${id.size}:${id.mtimeNs}:${id.ctimeNs}`
}

/** The `code` of a Node system error (`ENOENT`), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
