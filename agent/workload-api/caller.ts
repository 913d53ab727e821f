import type { Metadata, StatusObject } from '@grpc/grpc-js'
import { SteepleError, errorMessage, type ErrorCode } from '../../common/errors.js'
import { toStatus } from '../../common/grpc-status.js'
import type { Logger, LogLevel } from '../../common/logger.js'
import type { SelectorSet } from '../../spiffe/index.js'
import { UNIX_PLUGIN_NAME } from '../../plugins/workload-attestor/unix/index.js'
import { CallerChangedError, withLiveCaller, type CallerChange, type CallerInfo } from './peer/tracker.js'
import { grpcStatusOf } from '../../common/grpc-status.js'
import { SECURITY_HEADER } from '../../workloadapi/index.js'

/**
 * Who is calling the Workload API: the security header, the caller behind the connection and its
 * selectors. The caller learns only the generic messages below (as from SPIRE's workload handler);
 * the reasons go to the agent log with the caller's pid and uid.
 */

/** The metadata key every Workload API request carries (SPIFFE_Workload_Endpoint.md §3); one constant with the client's. */
export { SECURITY_HEADER }

/** Finds the caller of a connection from `call.getPeer()` (the peer listener's tracker). */
export interface CallerLookup {
  lookup(peer: string): CallerInfo | undefined
}

/** Runs the workload attestors on a pid (the agent's `WorkloadAttestorHost`). */
export interface WorkloadAttestation {
  attest(pid: number, signal?: AbortSignal): Promise<SelectorSet>
}

/** A caller whose selectors are known, and a logger that names it (pid, uid, selectors). */
export interface AttestedCaller {
  readonly caller: CallerInfo
  readonly selectors: SelectorSet
  readonly log: Logger
}

/**
 * A Workload API refusal with a fixed, generic message. Whatever led to it was logged where it
 * happened; {@link workloadApiStatus} logs the refusal itself at `logLevel`.
 */
export class WorkloadApiRefusal extends SteepleError {
  readonly logLevel: LogLevel

  constructor(code: ErrorCode, message: string, logLevel: LogLevel = 'info') {
    super(code, message)
    this.logLevel = logLevel
  }
}

/**
 * Requires exactly one `workload.spiffe.io` value, `true` (WEP-04, INTEROP-12).
 * @throws WorkloadApiRefusal INVALID_ARGUMENT "security header missing from request" (WEP-05).
 */
export function checkSecurityHeader(metadata: Metadata): void {
  const values = metadata.get(SECURITY_HEADER)
  if (values.length !== 1 || values[0] !== 'true') {
    throw new WorkloadApiRefusal('INVALID_ARGUMENT', 'security header missing from request')
  }
}

/** PERMISSION_DENIED "no identity issued": the caller matches no entry, or not the one asked for (WEP-13). */
export function noIdentity(): WorkloadApiRefusal {
  return new WorkloadApiRefusal('PERMISSION_DENIED', 'no identity issued')
}

/**
 * UNAVAILABLE "no identity available right now": the caller is entitled to identities (its selectors
 * match entries) but the agent holds no valid SVID for any of them now, and cannot get one soon (the
 * server unreachable past their expiry, signing failing) or did not within the wait for a first
 * message. UNAVAILABLE, the spec's answer for "running but unable to serve" (WEP-12), makes clients
 * retry with backoff and get the SVID once it exists; PERMISSION_DENIED would tell them they have no
 * identity at all (WEP-13, WX-10), and INVALID_ARGUMENT would stop go-spiffe watchers for good
 * (INTEROP-13). Logged at debug only: the reason is logged at warn, rate-limited, where it is known.
 */
export function identityUnavailable(): WorkloadApiRefusal {
  return new WorkloadApiRefusal('UNAVAILABLE', 'no identity available right now', 'debug')
}

/** UNAVAILABLE "workload attestation failed"; the reason is in the log, never in the answer. */
export function attestationFailed(): WorkloadApiRefusal {
  return new WorkloadApiRefusal('UNAVAILABLE', 'workload attestation failed')
}

/** UNAVAILABLE while the agent has no SVID or bundle of its own yet (WEP-12); clients retry. */
export function notReady(): WorkloadApiRefusal {
  return new WorkloadApiRefusal('UNAVAILABLE', 'agent is not ready', 'debug')
}

/**
 * The status a Workload API call ends with: refusals as they are (logged at their level), anything
 * else through the one mapping of `toStatus`, which hides unexpected errors behind "internal error".
 */
export function workloadApiStatus(err: unknown, log: Logger): Partial<StatusObject> {
  if (err instanceof WorkloadApiRefusal) {
    log[err.logLevel]('Request refused', { code: err.code, err: err.message })
    return { code: grpcStatusOf(err), details: err.message }
  }
  return toStatus(err, log)
}

/**
 * Attests the caller behind `peer`: looks it up, runs the attestors on its pid, then checks that
 * the process is still the one that connected: alive (its pidfd), with the effective ids the
 * kernel recorded at connect() and the executable it ran when the connection was accepted. A
 * caller that exited, whose pid was reused, or that changed ids or executed another program (a
 * setuid binary, or one an entry binds by `unix:path`/`unix:sha256`) since it connected gets
 * nothing: the attestors describe the process as it is now, the kernel's record says who
 * connected, and the two must agree.
 * @throws WorkloadApiRefusal PERMISSION_DENIED "no identity issued" for a caller that changed
 *   (logged at warn with both values of each change); UNAVAILABLE "workload attestation failed"
 *   for an unknown peer, a caller that exited, or a failing attestor (reason logged at warn).
 */
export async function attestCaller(
  peer: string,
  callers: CallerLookup,
  attestation: WorkloadAttestation,
  log: Logger,
  signal: AbortSignal,
): Promise<AttestedCaller> {
  const caller = callers.lookup(peer)
  if (caller === undefined) {
    log.warn('Workload attestation failed', { reason: 'connection has no known caller' })
    throw attestationFailed()
  }
  const callerLog = log.child({ callerPid: caller.pid, callerUid: caller.uid })
  try {
    const selectors = await withLiveCaller(caller, () => attestation.attest(caller.pid, signal))
    checkAttestedIds(caller, selectors)
    // Every later line of the call says which selectors led to its outcome.
    return { caller, selectors, log: callerLog.child({ selectors: selectors.toStrings() }) }
  } catch (err) {
    if (err instanceof CallerChangedError) {
      callerLog.warn('Workload API caller changed since it connected', { changes: err.changes })
      throw noIdentity()
    }
    // A caller that hung up mid-attestation is routine; anything else may need an operator.
    const level = signal.aborted ? 'debug' : 'warn'
    callerLog[level]('Workload attestation failed', { reason: errorMessage(err) })
    throw attestationFailed()
  }
}

/**
 * The uid and gid the `unix` attestor read from /proc must be the ones the kernel recorded at
 * connect(). The checks around attestation see the process before and after; this one sees what
 * the attestor itself read in between, so a caller that switched ids and back during the read
 * is refused too.
 */
function checkAttestedIds(caller: CallerInfo, selectors: SelectorSet): void {
  const changes: CallerChange[] = []
  for (const selector of selectors) {
    if (selector.type !== UNIX_PLUGIN_NAME) continue
    const [field, value] = splitOnce(selector.value)
    if (field === 'uid' && value !== String(caller.uid)) changes.push({ field, atConnect: String(caller.uid), now: value })
    if (field === 'gid' && value !== String(caller.gid)) changes.push({ field, atConnect: String(caller.gid), now: value })
  }
  if (changes.length > 0) throw new CallerChangedError(caller.pid, changes)
}

function splitOnce(value: string): [string, string] {
  const colon = value.indexOf(':')
  return colon < 0 ? [value, ''] : [value.slice(0, colon), value.slice(colon + 1)]
}
