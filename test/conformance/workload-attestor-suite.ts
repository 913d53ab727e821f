import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { SteepleError } from '../../common/errors.js'
import type { WorkloadAttestor } from '../../plugins/workload-attestor/types.js'
import { parseSelector } from '../../spiffe/index.js'

/** A process for the attestor to describe, and how to get rid of it. */
export interface LiveProcess {
  readonly pid: number
  cleanup(): Promise<void>
}

export interface WorkloadAttestorSuiteOptions {
  /** The plugin name, which the host puts in front of every value as the selector type. */
  readonly name: string
  /** Distinguishes several runs for one plugin in test titles (e.g. a config variant). */
  readonly variant?: string
  /** A fresh attestor; one per test. */
  readonly make: () => Promise<WorkloadAttestor>
  /** A running process the attestor can describe; defaults to this test process. */
  readonly liveProcess?: () => Promise<LiveProcess>
  /**
   * Whether the attestor must find something to say about the live process; false for attestors
   * that give `[]` for a plain process (a container attestor and a process outside containers).
   */
  readonly expectSelectors: boolean
}

const thisProcess = async (): Promise<LiveProcess> => ({ pid: process.pid, cleanup: async () => {} })

/** The PID of a process that has exited and been reaped (no process runs under it for now). */
export async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  const pid = child.pid
  if (pid === undefined) throw new Error('could not start a short-lived child process')
  // Node reaps the child before emitting 'exit', so /proc/<pid> is gone by then.
  await once(child, 'exit')
  return pid
}

async function rejection(attempt: Promise<unknown>): Promise<unknown> {
  return attempt.then(
    (value) => ({ resolvedWith: value }),
    (err: unknown) => err,
  )
}

function expectSteepleError(err: unknown): SteepleError {
  expect(err, 'the attestor must reject with a SteepleError').toBeInstanceOf(SteepleError)
  const steeple = err as SteepleError
  expect(steeple.message).not.toBe('')
  // The host adds the plugin prefix; a plugin adding its own would print it twice.
  expect(steeple.message).not.toMatch(/^workloadattestor\(/)
  return steeple
}

function codeUnitSorted(values: readonly string[]): string[] {
  return [...values].sort()
}

/**
 * The contract of plugins/workload-attestor/types.ts that every WorkloadAttestor keeps:
 * values that become valid selectors under the plugin's name, sorted and without duplicates,
 * the same on every call; an error (never `[]`) for a PID with no process; a refusal for a PID
 * that is not one; and a SteepleError once the abort signal has fired.
 */
export function runWorkloadAttestorSuite(opts: WorkloadAttestorSuiteOptions): void {
  const liveProcess = opts.liveProcess ?? thisProcess
  const title = `WorkloadAttestor conformance: ${opts.name}${opts.variant === undefined ? '' : ` (${opts.variant})`}`

  async function withLive<T>(fn: (pid: number) => Promise<T>): Promise<T> {
    const live = await liveProcess()
    try {
      return await fn(live.pid)
    } finally {
      await live.cleanup()
    }
  }

  describe(title, () => {
    it('gives values that parse as selectors once prefixed with the plugin name', async () => {
      const attestor = await opts.make()
      const values = await withLive((pid) => attestor.attest(pid, new AbortController().signal))
      expect(Array.isArray(values)).toBe(true)
      if (opts.expectSelectors) expect(values.length).toBeGreaterThan(0)
      for (const value of values) {
        expect(typeof value).toBe('string')
        const selector = parseSelector(`${opts.name}:${value}`)
        expect(selector.type).toBe(opts.name)
        expect(selector.value).toBe(value)
      }
    })

    it('gives sorted values without duplicates, the same on every call', async () => {
      const attestor = await opts.make()
      const [first, second, concurrent] = await withLive(async (pid) => {
        const signal = new AbortController().signal
        const a = await attestor.attest(pid, signal)
        const b = await attestor.attest(pid, signal)
        const c = await Promise.all([1, 2, 3, 4].map(() => attestor.attest(pid, signal)))
        return [a, b, c] as const
      })
      expect(first).toEqual(codeUnitSorted(first))
      expect(new Set(first).size).toBe(first.length)
      expect(second).toEqual(first)
      for (const values of concurrent) expect(values).toEqual(first)
    })

    it('fails for the PID of a process that has exited (never [] for a process it cannot see)', async () => {
      const attestor = await opts.make()
      const pid = await exitedPid()
      expectSteepleError(await rejection(attestor.attest(pid, new AbortController().signal)))
    })

    it.each([0, -1, 1.5, Number.NaN])('refuses %s, which is not a PID', async (pid) => {
      const attestor = await opts.make()
      expectSteepleError(await rejection(attestor.attest(pid, new AbortController().signal)))
    })

    it('rejects with a SteepleError when the signal has already aborted', async () => {
      const attestor = await opts.make()
      const err = await withLive((pid) => rejection(attestor.attest(pid, AbortSignal.abort(new Error('caller left')))))
      expectSteepleError(err)
    })

    it('an abort during the call either rejects with a SteepleError or leaves a complete answer', async () => {
      const attestor = await opts.make()
      const [complete, outcome] = await withLive(async (pid) => {
        const complete = await attestor.attest(pid, new AbortController().signal)
        const controller = new AbortController()
        const attempt = rejection(attestor.attest(pid, controller.signal))
        queueMicrotask(() => controller.abort(new Error('caller left')))
        return [complete, await attempt] as const
      })
      if (outcome instanceof Error) expectSteepleError(outcome)
      else expect(outcome).toEqual({ resolvedWith: complete })
    })
  })
}
