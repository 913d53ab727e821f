import { join } from 'node:path'
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, SteepleError, InternalError } from '../../../common/errors.js'
import * as s from '../../../common/schema.js'
import { throwIfAborted, type WorkloadAttestor } from '../types.js'
import { ExecutableDigests, SizeLimitExceeded } from './digest.js'
import { DEFAULT_UNIX_HOOKS, errnoCode, type UnixAttestorHooks } from './hooks.js'
import { IdNameFile } from './names.js'

/** Config of the `unix` workload attestor; keys and defaults as SPIRE's. */
export const unixConfigSchema = s.object({
  /** Add `path:` and `sha256:` of the workload's executable (needs access to /proc/<pid>/exe). */
  discover_workload_path: s.bool({ default: false }),
  /** Largest executable to hash, in bytes: 0 = no limit, negative = never hash. */
  workload_size_limit: s.int({ default: 0 }),
})

export type UnixAttestorConfig = s.Infer<typeof unixConfigSchema>

/** The ids in /proc/<pid>/status that the selectors name. */
export interface ProcStatusIds {
  /** Effective user id. */
  readonly uid: number
  /** Effective group id. */
  readonly gid: number
  /** The `Groups:` line in its order; empty when the line is empty or absent. */
  readonly supplementaryGids: readonly number[]
}

function internal(message: string, cause?: unknown): SteepleError {
  return new InternalError(message, cause === undefined ? undefined : { cause })
}

function parseIds(value: string): number[] | undefined {
  const fields = value.trim().split(/\s+/).filter((f) => f !== '')
  if (!fields.every((f) => /^\d+$/.test(f))) return undefined
  const ids = fields.map(Number)
  return ids.every(Number.isSafeInteger) ? ids : undefined
}

/**
 * Reads the effective uid and gid and the supplementary groups from the text of
 * /proc/<pid>/status. `Uid:` and `Gid:` list real, effective, saved and file-system ids; like
 * SPIRE we take the effective one (the second), or the only one when a line has just one.
 * @throws InternalError when the `Uid:` or `Gid:` line is missing or malformed.
 */
export function parseProcStatus(text: string, pid: number): ProcStatusIds {
  const lines = new Map<string, string>()
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) lines.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1))
  }
  const effective = (key: 'uid' | 'gid'): number => {
    const value = lines.get(key)
    const ids = value === undefined ? undefined : parseIds(value)
    if (ids === undefined || ids.length === 0) {
      throw internal(`status of process ${pid} has no valid ${key === 'uid' ? 'Uid' : 'Gid'} line`)
    }
    return ids.length === 1 ? ids[0]! : ids[1]!
  }
  const uid = effective('uid')
  const gid = effective('gid')
  const groupsLine = lines.get('groups')
  const supplementaryGids = groupsLine === undefined ? [] : parseIds(groupsLine)
  if (supplementaryGids === undefined) throw internal(`status of process ${pid} has a malformed Groups line`)
  return { uid, gid, supplementaryGids }
}

/**
 * The `unix` workload attestor: the process's effective uid and gid, supplementary groups and
 * their names, and optionally its executable's path and SHA-256. Selector values match SPIRE's
 * unix attestor (`uid:1000`, `user:nginx`, `gid:1000`, `group:www-data`, `supplementary_gid:27`,
 * `supplementary_group:sudo`, `path:/usr/bin/nginx`, `sha256:<hex>`).
 */
export class UnixAttestor implements WorkloadAttestor {
  readonly #config: UnixAttestorConfig
  readonly #hooks: UnixAttestorHooks
  readonly #users: IdNameFile
  readonly #groups: IdNameFile
  readonly #digests: ExecutableDigests

  constructor(config: UnixAttestorConfig, hooks: Partial<UnixAttestorHooks> = {}) {
    this.#config = config
    this.#hooks = { ...DEFAULT_UNIX_HOOKS, ...hooks }
    this.#users = new IdNameFile(this.#hooks.passwdPath, this.#hooks.fs, 'user database')
    this.#groups = new IdNameFile(this.#hooks.groupPath, this.#hooks.fs, 'group database')
    this.#digests = new ExecutableDigests(this.#hooks.fs)
  }

  /**
   * Selector values for `pid`, sorted, without duplicates.
   * @throws NotFoundError when no process `pid` runs; FailedPreconditionError when the executable
   *   is over `workload_size_limit`; InternalError when /proc or a user database cannot
   *   be read; UnavailableError once `signal` aborts.
   */
  async attest(pid: number, signal: AbortSignal): Promise<string[]> {
    throwIfAborted(signal)
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new InvalidArgumentError(`pid must be a positive integer, not ${pid}`)
    const dir = join(this.#hooks.procRoot, String(pid))
    const text = await this.#procRead(pid, 'status', () => this.#hooks.fs.readText(join(dir, 'status')))
    const ids = parseProcStatus(text, pid)
    throwIfAborted(signal)

    const values = new Set<string>()
    const [user, group, supplementaryGroups] = await Promise.all([
      this.#users.lookup(ids.uid),
      this.#groups.lookup(ids.gid),
      Promise.all(ids.supplementaryGids.map((gid) => this.#groups.lookup(gid))),
    ])
    values.add(`uid:${ids.uid}`)
    // A uid without a line in the user database has no name (SPIRE emits nothing either).
    if (user !== undefined) values.add(`user:${user}`)
    values.add(`gid:${ids.gid}`)
    if (group !== undefined) values.add(`group:${group}`)
    ids.supplementaryGids.forEach((gid, i) => {
      values.add(`supplementary_gid:${gid}`)
      const name = supplementaryGroups[i]
      if (name !== undefined) values.add(`supplementary_group:${name}`)
    })

    if (this.#config.discover_workload_path) {
      throwIfAborted(signal)
      const exe = join(dir, 'exe')
      // The link text is the path as the process saw it, with " (deleted)" appended by the
      // kernel when the file was removed; SPIRE keeps it verbatim, and so do we, so an entry for
      // /usr/bin/app does not match a process still running a replaced binary.
      const path = await this.#procRead(pid, 'executable path', () => this.#hooks.fs.readlink(exe))
      values.add(`path:${path}`)
      if (this.#config.workload_size_limit >= 0) {
        // Hash through /proc/<pid>/exe, not the path: it reaches the very inode the process runs,
        // even when deleted or inside another mount namespace (a container).
        const digest = await this.#procRead(pid, 'executable', () =>
          this.#digests.digest(exe, this.#config.workload_size_limit, signal),
        )
        if (digest instanceof SizeLimitExceeded) {
          throw new FailedPreconditionError(
            `executable of process ${pid} is ${digest.sizeBytes} bytes, over workload_size_limit (${digest.limitBytes})`,
          )
        }
        values.add(`sha256:${digest}`)
      }
    }
    throwIfAborted(signal)
    return [...values].sort()
  }

  async #procRead<T>(pid: number, what: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read()
    } catch (err) {
      if (err instanceof SteepleError) throw err
      const code = errnoCode(err)
      if (code === 'ENOENT' || code === 'ESRCH') throw new NotFoundError(`process ${pid} is not running`, { cause: err })
      if (code === 'EACCES' || code === 'EPERM') {
        throw internal(`no permission to read the ${what} of process ${pid} (run the agent as root or as the workload's user)`, err)
      }
      throw internal(`cannot read the ${what} of process ${pid}`, err)
    }
  }
}
