import { readFileSync, statSync } from 'node:fs'
import { parseProcStatus } from '../../../plugins/workload-attestor/unix/index.js'

/**
 * What /proc says about a Workload API caller at one moment: the ids the kernel checks permissions
 * with and the executable it runs. The peer tracker takes one when a connection is accepted and
 * again around every attestation, and refuses a caller whose view changed (see tracker.ts).
 */
export interface ProcessView {
  /** Effective uid (the second field of `Uid:` in /proc/<pid>/status). */
  readonly uid: number
  /** Effective gid. */
  readonly gid: number
  /** Supplementary group ids, sorted ascending. */
  readonly supplementaryGids: readonly number[]
  /**
   * Which file the process executes: `dev:ino` of /proc/<pid>/exe, `unreadable` when this agent may
   * not look (another uid's process and the agent is not root), `none` when it has no executable
   * (a kernel thread, or a zombie).
   */
  readonly executable: string
}

/** Reads a {@link ProcessView}; throws Node's error (`ENOENT`, `ESRCH`) when the process is gone. */
export interface ProcessInspector {
  inspect(pid: number): ProcessView
}

/**
 * The real /proc, read synchronously: a status file and one stat take microseconds, and running
 * them on libuv's thread pool would queue them behind every other caller's reads.
 */
export function procInspector(procRoot = '/proc'): ProcessInspector {
  return {
    inspect(pid: number): ProcessView {
      const ids = parseProcStatus(readFileSync(`${procRoot}/${pid}/status`, 'utf8'), pid)
      return {
        uid: ids.uid,
        gid: ids.gid,
        supplementaryGids: sortedIds(ids.supplementaryGids),
        executable: executableOf(`${procRoot}/${pid}/exe`),
      }
    },
  }
}

function executableOf(exeLink: string): string {
  try {
    const st = statSync(exeLink, { bigint: true })
    return `${st.dev}:${st.ino}`
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // The kernel allows /proc/<pid>/exe only to those who may ptrace-read the process.
    if (code === 'EACCES' || code === 'EPERM') return 'unreadable'
    if (code === 'ENOENT') return 'none'
    throw err
  }
}

/** Group ids in ascending order, without duplicates: how two group lists are compared. */
export function sortedIds(ids: readonly number[]): readonly number[] {
  return Object.freeze([...new Set(ids)].sort((a, b) => a - b))
}
