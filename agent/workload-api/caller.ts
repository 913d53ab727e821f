import { status, type Metadata, type StatusObject } from '@grpc/grpc-js'
import { SteepleError, errorMessage, toStatus, type ErrorCode } from '../../common/errors.js'
import type { Logger, LogLevel } from '../../common/logger.js'
import type { SelectorSet } from '../../spiffe/index.js'
import { withLiveCaller, type CallerInfo } from './peer/tracker.js'

/**
 * Who is calling the Workload API: the security header, the caller behind the connection and its
 * selectors. The caller learns only the generic messages below (STYLE.md §4, as SPIRE's workload
 * handler); the reasons go to the agent log with the caller's pid and uid.
 */

/** The metadata key every Workload API request carries (SPIFFE_Workload_Endpoint.md §3). */
export const SECURITY_HEADER = 'workload.spiffe.io'

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

  constructor(code: ErrorCode, grpcStatus: status, message: string, logLevel: LogLevel = 'info') {
    super(code, grpcStatus, message)
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
    throw new WorkloadApiRefusal('INVALID_ARGUMENT', status.INVALID_ARGUMENT, 'security header missing from request')
  }
}

/** PERMISSION_DENIED "no identity issued": the caller matches no entry, or not the one asked for (WEP-13). */
export function noIdentity(): WorkloadApiRefusal {
  return new WorkloadApiRefusal('PERMISSION_DENIED', status.PERMISSION_DENIED, 'no identity issued')
}

/** UNAVAILABLE "workload attestation failed"; the reason is in the log, never in the answer. */
export function attestationFailed(): WorkloadApiRefusal {
  return new WorkloadApiRefusal('UNAVAILABLE', status.UNAVAILABLE, 'workload attestation failed')
}

/** UNAVAILABLE while the agent has no SVID or bundle of its own yet (WEP-12); clients retry. */
export function notReady(): WorkloadApiRefusal {
  return new WorkloadApiRefusal('UNAVAILABLE', status.UNAVAILABLE, 'agent is not ready', 'debug')
}

/**
 * The status a Workload API call ends with: refusals as they are (logged at their level), anything
 * else through the one mapping of `toStatus`, which hides unexpected errors behind "internal error".
 */
export function workloadApiStatus(err: unknown, log: Logger): Partial<StatusObject> {
  if (err instanceof WorkloadApiRefusal) {
    log[err.logLevel]('Request refused', { code: err.code, err: err.message })
    return { code: err.grpcStatus, details: err.message }
  }
  return toStatus(err, log)
}

/**
 * Attests the caller behind `peer`: looks it up, runs the attestors on its pid, then checks with
 * its pidfd that the process is still the one that connected (a caller that exited, or whose pid
 * was reused while /proc was read, gets nothing).
 * @throws UnavailableError "workload attestation failed" for an unknown peer, a caller that
 *   exited, or a failing attestor (reason logged at warn with pid and uid).
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
    // Every later line of the call says which selectors led to its outcome.
    return { caller, selectors, log: callerLog.child({ selectors: selectors.toStrings() }) }
  } catch (err) {
    // A caller that hung up mid-attestation is routine; anything else may need an operator.
    const level = signal.aborted ? 'debug' : 'warn'
    callerLog[level]('Workload attestation failed', { reason: errorMessage(err) })
    throw attestationFailed()
  }
}
