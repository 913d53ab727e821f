import { UnavailableError } from '../../common/errors.js'

/**
 * Workload attestors: what the agent learns about the process behind a Workload API call, from
 * the kernel and local platforms, as selector values (SPIRE's agent `WorkloadAttestor` plugins).
 *
 * Contract of {@link WorkloadAttestor.attest}:
 * - Values come without the plugin-name prefix (`uid:1000`; the host makes it `unix:uid:1000`),
 *   each non-empty, sorted in code-unit order, without duplicates, and the same for the same
 *   process state (entries are matched against them).
 * - A process the attestor has nothing to say about (a non-container process for a container
 *   attestor) gives `[]`, not an error.
 * - A process the attestor should describe but cannot describe fully is an error: returning only
 *   some values would quietly hand out fewer identities than registered.
 * - A PID with no running process (it exited) is an error, never `[]`: an attestor cannot know
 *   that nothing applies to a process it cannot see (SPIRE's unix attestor fails the same way).
 * - Errors are `SteepleError`s; messages state the rule or fact without a plugin prefix (the host
 *   adds `workloadattestor(<name>): `). They reach the agent log only, never the caller.
 * - Once `signal` aborts, the call stops its work soon and rejects (see {@link throwIfAborted}).
 */
export interface WorkloadAttestor {
  /** Selector values for the process `pid`, without the plugin-name prefix; `[]` if nothing applies. */
  attest(pid: number, signal: AbortSignal): Promise<string[]>
}

/** The error an attestor rejects with once its signal has aborted (UNAVAILABLE, so clients retry). */
export function abortedError(signal: AbortSignal): UnavailableError {
  return new UnavailableError('attestation aborted', { cause: signal.reason })
}

/** Throws {@link abortedError} when `signal` has aborted; for attestors to call between steps. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortedError(signal)
}
