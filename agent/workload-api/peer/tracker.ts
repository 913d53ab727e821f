import { randomBytes } from 'node:crypto'
import { UnavailableError } from '../../../common/errors.js'
import type { PeerCredentials } from './addon.js'

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
  /** Throws an {@link UnavailableError} "workloadapi: caller exited" unless {@link CallerInfo.isAlive}. */
  verify(): void
}

/** What the tracker needs from the native addon (tests pass a fake). */
export interface PidfdOps {
  pidfdAlive(pidfd: number): boolean
  closeFd(fd: number): void
}

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
  #closed = false

  constructor(token: string, creds: PeerCredentials, supplementaryGids: readonly number[], pidfd: number, ops: PidfdOps) {
    this.token = token
    this.pid = creds.pid
    this.uid = creds.uid
    this.gid = creds.gid
    this.supplementaryGids = Object.freeze([...supplementaryGids])
    this.#pidfd = pidfd
    this.#ops = ops
  }

  isAlive(): boolean {
    // Once closed, the fd number may already belong to another open file: never poll it again.
    if (this.#closed) return false
    return this.#ops.pidfdAlive(this.#pidfd)
  }

  verify(): void {
    if (!this.isAlive()) throw new UnavailableError('workloadapi: caller exited')
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#ops.closeFd(this.#pidfd)
  }
}

/**
 * Maps the token on each live Workload API connection to the caller behind it, and owns the
 * callers' pidfds (closed on {@link PeerTracker.remove} or {@link PeerTracker.closeAll}).
 */
export class PeerTracker {
  readonly #callers = new Map<string, TrackedCaller>()
  readonly #ops: PidfdOps

  constructor(ops: PidfdOps) {
    this.#ops = ops
  }

  /** Records a new connection's caller under a fresh token; the tracker now owns `pidfd`. */
  add(creds: PeerCredentials, supplementaryGids: readonly number[], pidfd: number): CallerInfo {
    const token = TOKEN_PREFIX + randomBytes(TOKEN_RANDOM_BYTES).toString('hex')
    const caller = new TrackedCaller(token, creds, supplementaryGids, pidfd, this.#ops)
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
 * Runs `readProcessFacts` (which reads /proc/<pid>/… for attestation) and only then checks the
 * caller still runs: if the pidfd says it is alive after the read, the facts read belong to it and
 * not to a process that was given the same pid. Checks before as well, to skip the work for a
 * caller already gone. Throws the {@link UnavailableError} of {@link CallerInfo.verify}.
 */
export async function withLiveCaller<T>(caller: CallerInfo, readProcessFacts: () => Promise<T>): Promise<T> {
  caller.verify()
  const facts = await readProcessFacts()
  caller.verify()
  return facts
}
