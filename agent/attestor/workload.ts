import { SteepleError, UnavailableError, errorMessage, InternalError } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { WorkloadAttestor } from '../../plugins/workload-attestor/types.js'
import type { LoadedPlugin } from '../../plugins/registry.js'
import { SelectorSet, SpiffeError, selectorFromParts, type Selector } from '../../spiffe/index.js'

/**
 * How long one workload attestation may take, all attestors together. Attestors that retry
 * (a pod not yet visible to the kubelet) must give up well before this.
 */
export const DEFAULT_WORKLOAD_ATTESTATION_TIMEOUT_MS = 30_000

export interface WorkloadAttestorHostOptions {
  readonly log: Logger
  /** Defaults to {@link DEFAULT_WORKLOAD_ATTESTATION_TIMEOUT_MS}. */
  readonly timeoutMs?: number
}

/**
 * Runs every configured workload attestor on a PID and joins their selectors, each prefixed with
 * its plugin name (`uid:1000` from `unix` becomes `unix:uid:1000`).
 *
 * Failure policy: if any attestor fails, returns invalid values or does not finish within the
 * timeout, the whole attestation fails, and the remaining attestors are aborted. SPIRE logs a
 * failing attestor and carries on with the others' selectors, failing only when every attestor
 * fails (since spire#7045; before it, not even then). We do not: an attestor that errors was unable to describe a workload it
 * should describe (one that has nothing to say returns `[]`), and going on with the rest hands the
 * workload a smaller set of identities than registered, with nothing but a log line to tell
 * (spire#2036 describes the problem). Failing makes the caller get UNAVAILABLE and retry instead.
 * The failure is logged with the plugin's name; the caller sees only the generic error.
 */
export class WorkloadAttestorHost {
  readonly #attestors: readonly LoadedPlugin<WorkloadAttestor>[]
  readonly #log: Logger
  readonly #timeoutMs: number

  /** @throws TypeError without attestors (the catalog requires at least one) or with a bad timeout. */
  constructor(attestors: readonly LoadedPlugin<WorkloadAttestor>[], opts: WorkloadAttestorHostOptions) {
    if (attestors.length === 0) throw new TypeError('workload attestation needs at least one attestor')
    const timeoutMs = opts.timeoutMs ?? DEFAULT_WORKLOAD_ATTESTATION_TIMEOUT_MS
    if (!(timeoutMs > 0)) throw new TypeError(`workload attestation timeout must be positive, not ${timeoutMs}`)
    this.#attestors = [...attestors]
    this.#log = opts.log
    this.#timeoutMs = timeoutMs
  }

  /**
   * The selectors of process `pid`, from all attestors run in parallel.
   * @throws SteepleError prefixed `workloadattestor(<name>): ` when an attestor fails (its code
   *   and status kept; invalid selector values give INTERNAL); UnavailableError when an attestor
   *   does not finish within the timeout or `signal` aborts.
   */
  async attest(pid: number, signal?: AbortSignal): Promise<SelectorSet> {
    // Aborted with the error that ends the attestation: a failure, the timeout or the caller leaving.
    const controller = new AbortController()
    let rejectStopped!: (err: SteepleError) => void
    const stopped = new Promise<never>((_, reject) => {
      rejectStopped = reject
    })
    const stop = (err: SteepleError): void => {
      if (controller.signal.aborted) return
      controller.abort(err)
      rejectStopped(err)
    }
    const pending = new Set(this.#attestors.map((a) => a.name))

    const timer = setTimeout(() => {
      const names = [...pending]
      this.#log.error('Workload attestation timed out', { callerPid: pid, timeoutMs: this.#timeoutMs, pluginNames: names })
      stop(new UnavailableError(`workloadattestor(${names.join(', ')}): did not finish within ${this.#timeoutMs} ms`))
    }, this.#timeoutMs)
    const onCallerAbort = (): void => {
      this.#log.debug('Workload attestation cancelled', { callerPid: pid })
      stop(new UnavailableError('workloadattestor: attestation cancelled', { cause: signal?.reason }))
    }
    if (signal?.aborted) onCallerAbort()
    else signal?.addEventListener('abort', onCallerAbort, { once: true })

    try {
      const runs = this.#attestors.map(async ({ name, instance }) => {
        try {
          return await this.#runOne(name, instance, pid, controller.signal)
        } catch (err) {
          // An attestor stopped because another failed, the timeout or the caller is not a failure of its own.
          if (!controller.signal.aborted) {
            const wrapped = prefixed(name, err)
            this.#log.error('Workload attestor failed', { pluginName: name, callerPid: pid, err: wrapped.message })
            stop(wrapped)
          }
          throw controller.signal.reason
        } finally {
          pending.delete(name)
        }
      })
      // `stopped` wins on a failure, the timeout or a cancel, without waiting for hung attestors.
      const results = await Promise.race([Promise.all(runs), stopped])
      const selectors = new SelectorSet(results.flat())
      // The agent's own health checks attest itself often: keep them out of the log.
      if (pid !== process.pid) this.#log.debug('Workload attested', { callerPid: pid, selectors: selectors.toStrings() })
      return selectors
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onCallerAbort)
    }
  }

  async #runOne(name: string, attestor: WorkloadAttestor, pid: number, signal: AbortSignal): Promise<Selector[]> {
    const values: unknown = await attestor.attest(pid, signal)
    if (!Array.isArray(values)) throw new InvalidSelectorsError('returned something other than a list of selector values')
    return values.map((value) => {
      if (typeof value !== 'string') throw new InvalidSelectorsError('returned a selector value that is not a string')
      try {
        return selectorFromParts(name, value)
      } catch (err) {
        if (err instanceof SpiffeError) throw new InvalidSelectorsError(`returned an invalid selector value (${err.message})`)
        throw err
      }
    })
  }
}

/** An attestor broke its contract (a bug in the plugin, not in the workload). */
class InvalidSelectorsError extends InternalError {}

/** `err` as a SteepleError whose message names the plugin: `workloadattestor(unix): …`. */
function prefixed(name: string, err: unknown): SteepleError {
  const message = `workloadattestor(${name}): ${errorMessage(err)}`
  if (err instanceof SteepleError) return new SteepleError(err.code, message, { cause: err })
  return new InternalError(message, { cause: err })
}
