import type * as grpc from '@grpc/grpc-js'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Options every scenario gets. */
export interface BenchOptions {
  /** Shorter warm-up and rounds, for smoke runs; numbers are noisier. */
  readonly quick: boolean
  /**
   * With `--cpu-prof DIR`: the steeple-server and steeple-agent processes run with node's
   * `--cpu-prof` and write their profiles (`*.cpuprofile`, one per thread; open in Chrome DevTools or
   * summarize with profile-summary.ts) to `DIR/<process>/`.
   */
  readonly cpuProfDir?: string
}

/** Node flags for a Steeple process under `options` (profiling on with `--cpu-prof`). */
export function steepleNodeArgs(options: BenchOptions, name: string): string[] {
  return options.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfDir, name)}`]
}

/** Metric name → value. */
export type BenchResult = Record<string, number>

/**
 * What both deployments share, so that Steeple and SPIRE are measured on the same terms: the CA
 * and workload key type, CA and SVID lifetimes, log level. Both use SQLite, in-memory server
 * keys, a join token and the unix workload attestor.
 */
export interface EquivalentConfig {
  readonly trustDomain: string
  readonly keyType: 'ec-p256'
  readonly caTtlSeconds: number
  readonly x509SvidTtlSeconds: number
  readonly logLevel: 'info' | 'warn'
}

/** The configuration every scenario starts from. */
export const DEFAULT_CONFIG: EquivalentConfig = Object.freeze({
  trustDomain: 'bench.example',
  keyType: 'ec-p256',
  caTtlSeconds: 24 * 3600,
  x509SvidTtlSeconds: 3600,
  logLevel: 'info',
})

/** A registration entry as the scenarios describe it (selectors as `type:value`). */
export interface BenchEntry {
  readonly spiffeId: string
  /** The agent's ID when absent. */
  readonly parentId?: string
  readonly selectors: readonly string[]
  readonly x509SvidTtlSeconds?: number
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Calls one unary method of a grpc-js client by name. */
export function unary<T>(client: grpc.Client, method: string, request: unknown, timeoutMs: number): Promise<T> {
  const fn = (client as unknown as Record<string, (...args: unknown[]) => unknown>)[method]
  if (fn === undefined) throw new TypeError(`no method ${method}`)
  return new Promise<T>((resolve, reject) => {
    fn.call(client, request, { deadline: Date.now() + timeoutMs }, (err: Error | null, response: T) => (err === null ? resolve(response) : reject(err)))
  })
}

/**
 * A short temporary directory (Unix socket paths must stay under ~100 bytes), removed by the
 * returned function unless `BENCH_KEEP=1` (then its path is printed, with the processes' logs).
 */
export async function benchDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sb-'))
  const keep = process.env['BENCH_KEEP'] === '1'
  return {
    dir,
    remove: async () => {
      if (keep) console.error(`bench: kept ${dir}`)
      else await rm(dir, { recursive: true, force: true })
    },
  }
}

/** The current process's uid as a unix attestor selector. */
export function uidSelector(): string {
  return `unix:uid:${process.getuid!()}`
}

/** Percentile (0–100) of unsorted samples, nearest-rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

/** Runs `task` for each index with at most `limit` at a time. */
export async function inParallel(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker))
}
