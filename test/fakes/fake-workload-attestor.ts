import { InvalidArgumentError, NotFoundError, type SteepleError } from '../../common/errors.js'
import { abortedError, throwIfAborted, type WorkloadAttestor } from '../../plugins/workload-attestor/types.js'

/** What a {@link FakeWorkloadAttestor} does for a running process. */
export type FakeWorkloadBehaviour =
  /** Answers with these values (sorted and deduplicated, as the contract asks). */
  | { readonly kind: 'answer'; readonly values: readonly string[]; readonly delayMs?: number }
  /** Rejects with this error. */
  | { readonly kind: 'fail'; readonly error: SteepleError }
  /** Never answers; with `honorAbort` it rejects once the signal aborts, without it it ignores the signal. */
  | { readonly kind: 'hang'; readonly honorAbort: boolean }

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as { code?: unknown }).code === 'EPERM'
  }
}

/** A WorkloadAttestor that says what it is told, for tests of the agent's attestation host. */
export class FakeWorkloadAttestor implements WorkloadAttestor {
  readonly #behaviour: FakeWorkloadBehaviour
  /** The signals of every call, in order. */
  readonly signals: AbortSignal[] = []

  constructor(behaviour: FakeWorkloadBehaviour = { kind: 'answer', values: [] }) {
    this.#behaviour = behaviour
  }

  async attest(pid: number, signal: AbortSignal): Promise<string[]> {
    this.signals.push(signal)
    throwIfAborted(signal)
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new InvalidArgumentError(`pid must be a positive integer, not ${pid}`)
    if (!isRunning(pid)) throw new NotFoundError(`process ${pid} is not running`)
    const behaviour = this.#behaviour
    switch (behaviour.kind) {
      case 'answer':
        if (behaviour.delayMs !== undefined) await abortableDelay(behaviour.delayMs, signal)
        return [...new Set(behaviour.values)].sort()
      case 'fail':
        throw behaviour.error
      case 'hang':
        return new Promise<string[]>((_, reject) => {
          if (behaviour.honorAbort) signal.addEventListener('abort', () => reject(abortedError(signal)), { once: true })
        })
    }
  }
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(abortedError(signal))
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
