import { status } from '@grpc/grpc-js'
import { userInfo } from 'node:os'
import { describe, expect, it } from 'vitest'
import { NotFoundError, PermissionDeniedError, SteepleError, UnavailableError } from '../../common/errors.js'
import { createLogger, type Logger } from '../../common/logger.js'
import { PluginCatalog, type PluginHost } from '../../plugins/registry.js'
import { abortedError, type WorkloadAttestor } from '../../plugins/workload-attestor/types.js'
import { UnixAttestor, unixWorkloadAttestor } from '../../plugins/workload-attestor/unix/index.js'
import { parseTrustDomain } from '../../spiffe/index.js'
import { FakeWorkloadAttestor } from '../../test/fakes/fake-workload-attestor.js'
import { exitedPid } from '../../test/conformance/workload-attestor-suite.js'
import { WorkloadAttestorHost } from './workload.js'
import { grpcStatusOf } from '../../common/grpc-status.js'

type LogLine = Record<string, unknown>

function capturingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  return { log: createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as LogLine) }), lines }
}

const unix = (): WorkloadAttestor =>
  new UnixAttestor({ discover_workload_path: false, workload_size_limit: 0 })

async function failure(promise: Promise<unknown>): Promise<SteepleError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(SteepleError)
  return err as SteepleError
}

describe('WorkloadAttestorHost', () => {
  it('prefixes each attestor\'s values with its name and joins them, sorted and deduplicated', async () => {
    const { log } = capturingLogger()
    const host = new WorkloadAttestorHost(
      [
        { name: 'unix', instance: unix() },
        { name: 'fake', instance: new FakeWorkloadAttestor({ kind: 'answer', values: ['tier:web', 'env:prod'], delayMs: 10 }) },
      ],
      { log },
    )
    const selectors = (await host.attest(process.pid)).toStrings()
    expect(selectors).toContain(`unix:uid:${process.geteuid!()}`)
    expect(selectors).toContain(`unix:user:${userInfo().username}`)
    expect(selectors).toContain('fake:env:prod')
    expect(selectors).toContain('fake:tier:web')
    expect(selectors).toEqual([...new Set(selectors)].sort())
    expect(selectors.filter((s) => s.startsWith('fake:'))).toEqual(['fake:env:prod', 'fake:tier:web'])
  })

  it('loads the unix attestor through the plugin catalog', async () => {
    const catalog = new PluginCatalog([unixWorkloadAttestor], new Map([['WorkloadAttestor', { min: 1, max: undefined }]]))
    const { log } = capturingLogger()
    const hostFor = (): PluginHost => ({ log, trustDomain: parseTrustDomain('example.org'), dataDir: '/nonexistent', clock: () => new Date() })
    const loaded = await catalog.load('WorkloadAttestor', { unix: {} }, hostFor)
    const selectors = await new WorkloadAttestorHost(loaded, { log }).attest(process.pid)
    expect(selectors.toStrings()).toContain(`unix:gid:${process.getegid!()}`)
  })

  it('one failing attestor fails the attestation, is logged by name, and the others are aborted', async () => {
    const { log, lines } = capturingLogger()
    const slow = new FakeWorkloadAttestor({ kind: 'hang', honorAbort: true })
    const host = new WorkloadAttestorHost(
      [
        { name: 'slow', instance: slow },
        { name: 'broken', instance: new FakeWorkloadAttestor({ kind: 'fail', error: new PermissionDeniedError('engine refused the call') }) },
      ],
      { log, timeoutMs: 10_000 },
    )
    const err = await failure(host.attest(process.pid))
    expect(err.message).toBe('workloadattestor(broken): engine refused the call')
    expect(err.code).toBe('PERMISSION_DENIED')
    expect(grpcStatusOf(err)).toBe(status.PERMISSION_DENIED)
    expect(err.cause).toBeInstanceOf(PermissionDeniedError)
    expect(slow.signals[0]?.aborted).toBe(true)
    const failed = lines.filter((l) => l['msg'] === 'Workload attestor failed')
    expect(failed).toEqual([
      expect.objectContaining({ level: 'error', pluginName: 'broken', callerPid: process.pid, err: 'workloadattestor(broken): engine refused the call' }),
    ])
  })

  it('the unix attestor failing for an exited process fails the attestation with its name', async () => {
    const { log, lines } = capturingLogger()
    // Waits for its abort without looking at the PID, so the unix attestor is the one to fail.
    const waitsForAbort: WorkloadAttestor = {
      attest: (_pid, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(abortedError(signal)))),
    }
    const host = new WorkloadAttestorHost(
      [
        { name: 'unix', instance: unix() },
        { name: 'waiting', instance: waitsForAbort },
      ],
      { log },
    )
    const pid = await exitedPid()
    const err = await failure(host.attest(pid))
    expect(err.code).toBe('NOT_FOUND')
    expect(err.cause).toBeInstanceOf(NotFoundError)
    expect(err.message).toBe(`workloadattestor(unix): process ${pid} is not running`)
    // The aborted one is not reported as a failure of its own.
    expect(lines.filter((l) => l['msg'] === 'Workload attestor failed')).toEqual([expect.objectContaining({ pluginName: 'unix' })])
  })

  it('an attestor that hangs past the timeout, ignoring its signal, fails the attestation on time', async () => {
    const { log, lines } = capturingLogger()
    const hung = new FakeWorkloadAttestor({ kind: 'hang', honorAbort: false })
    const host = new WorkloadAttestorHost(
      [
        { name: 'unix', instance: unix() },
        { name: 'stuck', instance: hung },
      ],
      { log, timeoutMs: 100 },
    )
    const started = performance.now()
    const err = await failure(host.attest(process.pid))
    const elapsedMs = performance.now() - started
    expect(err).toBeInstanceOf(UnavailableError)
    expect(err.message).toBe('workloadattestor(stuck): did not finish within 100 ms')
    expect(elapsedMs).toBeGreaterThanOrEqual(90)
    expect(elapsedMs).toBeLessThan(2_000)
    expect(hung.signals[0]?.aborted).toBe(true)
    expect(lines.find((l) => l['msg'] === 'Workload attestation timed out')).toMatchObject({
      level: 'error',
      callerPid: process.pid,
      timeoutMs: 100,
      pluginNames: ['stuck'],
    })
  })

  it('the caller going away cancels the attestation and aborts the attestors', async () => {
    const { log } = capturingLogger()
    const waiting = new FakeWorkloadAttestor({ kind: 'hang', honorAbort: true })
    const host = new WorkloadAttestorHost([{ name: 'waiting', instance: waiting }], { log })
    const caller = new AbortController()
    const attempt = failure(host.attest(process.pid, caller.signal))
    setTimeout(() => caller.abort(new Error('stream closed')), 10)
    const err = await attempt
    expect(err).toBeInstanceOf(UnavailableError)
    expect(err.message).toBe('workloadattestor: attestation cancelled')
    expect(waiting.signals[0]?.aborted).toBe(true)
  })

  it('an already-aborted caller signal fails at once', async () => {
    const { log } = capturingLogger()
    const host = new WorkloadAttestorHost([{ name: 'unix', instance: unix() }], { log })
    const err = await failure(host.attest(process.pid, AbortSignal.abort()))
    expect(err.message).toBe('workloadattestor: attestation cancelled')
  })

  it.each([
    ['an empty value', async () => [''], 'returned an invalid selector value (selector: value must not be empty)'],
    ['a value over 1024 bytes', async () => ['x'.repeat(1100)], 'returned an invalid selector value (selector: must not be longer than 1024 bytes)'],
    ['a non-string value', async () => [42] as unknown as string[], 'returned a selector value that is not a string'],
    ['something other than a list', async () => 'uid:1' as unknown as string[], 'returned something other than a list of selector values'],
  ])('an attestor that returns %s breaks its contract: INTERNAL', async (_title, attest, message) => {
    const { log } = capturingLogger()
    const host = new WorkloadAttestorHost([{ name: 'bad', instance: { attest } }], { log })
    const err = await failure(host.attest(process.pid))
    expect(grpcStatusOf(err)).toBe(status.INTERNAL)
    expect(err.message).toBe(`workloadattestor(bad): ${message}`)
  })

  it('a plain Error from an attestor becomes an INTERNAL SteepleError with the plugin prefix', async () => {
    const { log } = capturingLogger()
    const attest = async (): Promise<string[]> => {
      throw new Error('socket hang up')
    }
    const host = new WorkloadAttestorHost([{ name: 'raw', instance: { attest } }], { log })
    const err = await failure(host.attest(process.pid))
    expect(err.code).toBe('INTERNAL')
    expect(err.message).toBe('workloadattestor(raw): socket hang up')
  })

  it('keeps the code of a plugin\'s SteepleError', async () => {
    const { log } = capturingLogger()
    const host = new WorkloadAttestorHost(
      [{ name: 'gone', instance: new FakeWorkloadAttestor({ kind: 'fail', error: new NotFoundError('process 1 is not running') }) }],
      { log },
    )
    const err = await failure(host.attest(process.pid))
    expect(grpcStatusOf(err)).toBe(status.NOT_FOUND)
    expect(err.message).toBe('workloadattestor(gone): process 1 is not running')
  })

  it('logs the selectors at debug for other processes, not for the agent itself', async () => {
    const { log, lines } = capturingLogger()
    const host = new WorkloadAttestorHost([{ name: 'fake', instance: new FakeWorkloadAttestor({ kind: 'answer', values: ['a:1'] }) }], { log })
    await host.attest(process.pid)
    expect(lines.filter((l) => l['msg'] === 'Workload attested')).toHaveLength(0)
    await host.attest(process.ppid)
    expect(lines.filter((l) => l['msg'] === 'Workload attested')).toEqual([
      expect.objectContaining({ level: 'debug', callerPid: process.ppid, selectors: ['fake:a:1'] }),
    ])
  })

  it('needs at least one attestor and a positive timeout', () => {
    const { log } = capturingLogger()
    expect(() => new WorkloadAttestorHost([], { log })).toThrow(TypeError)
    expect(() => new WorkloadAttestorHost([{ name: 'unix', instance: unix() }], { log, timeoutMs: 0 })).toThrow(TypeError)
  })
})
