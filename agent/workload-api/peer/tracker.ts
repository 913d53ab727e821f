import { randomBytes } from 'node:crypto'
import { PermissionDeniedError, UnavailableError } from '../../../common/errors.js'
import type { PeerCredentials } from '../../../common/peercred.js'
import { sortedIds, type ProcessInspector, type ProcessView } from './process.js'

/**
 * The process on the other end of one Workload API connection, as the kernel recorded it at
 * connect(). One connection carries many calls, so check it per call with {@link withLiveCaller}.
 */
export interface CallerInfo {
  /** The token the connection carries as its `remoteAddress` (what `call.getPeer()` returns). */
  readonly token: string
  readonly pid: number
  readonly uid: number
  readonly gid: number
  /** Supplementary group ids at connect() time (SO_PEERGROUPS). */
  readonly supplementaryGids: readonly number[]
  /** Whether the process that connected still runs; false once it exited or the connection closed. */
  isAlive(): boolean
  /**
   * Checks that the process is still the one that connected: alive, with the effective uid, gid
   * and groups the kernel recorded at connect(), and the executable it ran when the connection was
   * accepted.
   * @throws UnavailableError "workloadapi: caller exited" once it exited;
   *   {@link CallerChangedError} when it changed ids or executed another program.
   */
  verify(): void
}

/** One fact about a caller that differs from what was recorded when it connected. */
export interface CallerChange {
  readonly field: 'uid' | 'gid' | 'supplementary_gids' | 'executable'
  readonly atConnect: string
  readonly now: string
}

/**
 * The process behind a connection is no longer the one that connected: it ran a setuid or setgid
 * program, changed its ids, or executed another file. The caller gets PERMISSION_DENIED; the
 * agent log gets {@link CallerChangedError.changes} with both values.
 */
export class CallerChangedError extends PermissionDeniedError {
  readonly changes: readonly CallerChange[]

  constructor(pid: number, changes: readonly CallerChange[]) {
    const list = changes.map((c) => `${c.field} ${c.atConnect} -> ${c.now}`).join(', ')
    super(`workloadapi: process ${pid} changed since it connected (${list})`)
    this.changes = Object.freeze([...changes])
  }
}

/** What the tracker needs from the native addon (tests pass a fake). */
export interface PidfdOps {
  pidfdAlive(pidfd: number): boolean
  closeFd(fd: number): void
}

/** The caller as it connected: ids from the kernel's connect() record, executable from accept. */
type ConnectedView = ProcessView

const TOKEN_PREFIX = 'steeple-peer-'
const TOKEN_RANDOM_BYTES = 12

class TrackedCaller implements CallerInfo {
  readonly token: string
  readonly pid: number
  readonly uid: number
  readonly gid: number
  readonly supplementaryGids: readonly number[]
  readonly #pidfd: number
  readonly #ops: PidfdOps
  readonly #inspector: ProcessInspector
  readonly #connected: ConnectedView
  #closed = false

  constructor(
    token: string,
    creds: PeerCredentials,
    supplementaryGids: readonly number[],
    pidfd: number,
    ops: PidfdOps,
    inspector: ProcessInspector,
    executable: string,
  ) {
    this.token = token
    this.pid = creds.pid
    this.uid = creds.uid
    this.gid = creds.gid
    this.supplementaryGids = Object.freeze([...supplementaryGids])
    this.#pidfd = pidfd
    this.#ops = ops
    this.#inspector = inspector
    this.#connected = { uid: creds.uid, gid: creds.gid, supplementaryGids: sortedIds(supplementaryGids), executable }
  }

  isAlive(): boolean {
    // Once closed, the fd number may already belong to another open file: never poll it again.
    if (this.#closed) return false
    return this.#ops.pidfdAlive(this.#pidfd)
  }

  verify(): void {
    if (!this.isAlive()) throw callerExited()
    let now: ProcessView
    try {
      now = this.#inspector.inspect(this.pid)
    } catch (err) {
      throw callerExited(err)
    }
    // Alive after the read: what was read describes this process, not one given its pid since.
    if (!this.isAlive()) throw callerExited()
    const changes = compareViews(this.#connected, now)
    if (changes.length > 0) throw new CallerChangedError(this.pid, changes)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#ops.closeFd(this.#pidfd)
  }
}

function callerExited(cause?: unknown): UnavailableError {
  return new UnavailableError('workloadapi: caller exited', cause === undefined ? undefined : { cause })
}

function compareViews(connected: ConnectedView, now: ProcessView): CallerChange[] {
  const changes: CallerChange[] = []
  const differs = (field: CallerChange['field'], atConnect: string, current: string): void => {
    if (atConnect !== current) changes.push({ field, atConnect, now: current })
  }
  differs('uid', String(connected.uid), String(now.uid))
  differs('gid', String(connected.gid), String(now.gid))
  differs('supplementary_gids', connected.supplementaryGids.join(','), now.supplementaryGids.join(','))
  differs('executable', connected.executable, now.executable)
  return changes
}

/**
 * Maps the token on each live Workload API connection to the caller behind it, and owns the
 * callers' pidfds (closed on {@link PeerTracker.remove} or {@link PeerTracker.closeAll}).
 */
export class PeerTracker {
  readonly #callers = new Map<string, TrackedCaller>()
  readonly #ops: PidfdOps
  readonly #inspector: ProcessInspector

  constructor(ops: PidfdOps, inspector: ProcessInspector) {
    this.#ops = ops
    this.#inspector = inspector
  }

  /**
   * Records a new connection's caller under a fresh token; the tracker now owns `pidfd` (also
   * when this throws). Reads which executable the caller runs now, the reference every later
   * {@link CallerInfo.verify} compares with.
   * @throws UnavailableError "workloadapi: caller exited" when the process is already gone.
   */
  add(creds: PeerCredentials, supplementaryGids: readonly number[], pidfd: number): CallerInfo {
    let executable: string
    try {
      executable = this.#inspector.inspect(creds.pid).executable
      if (!this.#ops.pidfdAlive(pidfd)) throw callerExited()
    } catch (err) {
      this.#ops.closeFd(pidfd)
      throw err instanceof UnavailableError ? err : callerExited(err)
    }
    const token = TOKEN_PREFIX + randomBytes(TOKEN_RANDOM_BYTES).toString('hex')
    const caller = new TrackedCaller(token, creds, supplementaryGids, pidfd, this.#ops, this.#inspector, executable)
    this.#callers.set(token, caller)
    return caller
  }

  /**
   * The caller behind `peer`, the string `call.getPeer()` (or an interceptor's
   * `getConnectionInfo().remoteAddress`) gives for a connection the listener accepted; undefined for
   * any other connection or once it closed. grpc-js returns the token as is for Unix sockets; a
   * `:port` suffix or `unix:` prefix, as grpc-js adds for other transports, is tolerated.
   */
  lookup(peer: string): CallerInfo | undefined {
    const start = peer.indexOf(TOKEN_PREFIX)
    if (start < 0) return undefined
    const token = peer.slice(start, start + TOKEN_PREFIX.length + 2 * TOKEN_RANDOM_BYTES)
    return this.#callers.get(token)
  }

  /** Forgets a connection's caller and closes its pidfd; nothing happens for an unknown token. */
  remove(token: string): void {
    const caller = this.#callers.get(token)
    if (caller === undefined) return
    this.#callers.delete(token)
    caller.close()
  }

  /** Forgets every caller and closes every pidfd. */
  closeAll(): void {
    for (const token of [...this.#callers.keys()]) this.remove(token)
  }

  /** How many connections are tracked. */
  get size(): number {
    return this.#callers.size
  }
}

/**
 * Runs `readProcessFacts` (which reads /proc/<pid>/… for attestation) between two
 * {@link CallerInfo.verify} checks: if the caller is alive and unchanged after the read, the facts
 * belong to the process that connected, not to one given its pid since, nor to a program it
 * executed after connecting. The first check skips the work for a caller already gone or changed.
 * Throws what {@link CallerInfo.verify} throws.
 */
export async function withLiveCaller<T>(caller: CallerInfo, readProcessFacts: () => Promise<T>): Promise<T> {
  caller.verify()
  const facts = await readProcessFacts()
  caller.verify()
  return facts
}
