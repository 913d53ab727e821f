import { identityKey, type OpenFile, type UnixFs } from './hooks.js'

/** How many executables' digests are remembered; the oldest is forgotten first. */
export const DIGEST_CACHE_ENTRIES = 512

/** A file was larger than the configured limit; nothing was read. */
export class SizeLimitExceeded {
  constructor(
    readonly sizeBytes: bigint,
    readonly limitBytes: number,
  ) {}
}

/**
 * SHA-256 digests of executables, remembered per file version (device, inode, size, mtime,
 * ctime), so a workload calling many times does not make the agent re-read its binary. A file
 * changed in place gets new times and is read again.
 */
export class ExecutableDigests {
  readonly #fs: UnixFs
  readonly #maxEntries: number
  readonly #digests = new Map<string, string>()

  constructor(fs: UnixFs, maxEntries = DIGEST_CACHE_ENTRIES) {
    this.#fs = fs
    this.#maxEntries = maxEntries
  }

  /**
   * The digest of the file at `path` (hex), or {@link SizeLimitExceeded} when `limitBytes` is
   * positive and the file is larger. Rejects with the file system's error, or once `signal` aborts.
   */
  async digest(path: string, limitBytes: number, signal: AbortSignal): Promise<string | SizeLimitExceeded> {
    const file = await this.#fs.openFile(path)
    try {
      return await this.#digestOpen(file, limitBytes, signal)
    } finally {
      await file.close()
    }
  }

  async #digestOpen(file: OpenFile, limitBytes: number, signal: AbortSignal): Promise<string | SizeLimitExceeded> {
    const before = await file.identify()
    if (limitBytes > 0 && before.size > BigInt(limitBytes)) return new SizeLimitExceeded(before.size, limitBytes)
    const key = identityKey(before)
    const known = this.#digests.get(key)
    if (known !== undefined) {
      // Refresh its place so often-used binaries stay cached.
      this.#digests.delete(key)
      this.#digests.set(key, known)
      return known
    }
    const digest = await file.sha256(signal)
    // A write during hashing leaves a digest of mixed content: use it once, never cache it.
    if (identityKey(await file.identify()) === key) {
      this.#digests.set(key, digest)
      if (this.#digests.size > this.#maxEntries) this.#digests.delete(this.#digests.keys().next().value!)
    }
    return digest
  }
}
