import { X509Certificate } from 'node:crypto'
import { WorkloadApiClient, type X509Context } from '../../workloadapi/index.js'
import { SpireDeployment } from './spire.js'
import { benchDir, steepleNodeArgs, uidSelector, type BenchEntry, type BenchOptions, type EquivalentConfig } from './setup.js'
import { SteepleDeployment } from './steeple.js'

/** One side of a comparison, as the Workload API scenarios use it. */
export interface Side {
  readonly name: 'steeple' | 'spire'
  /** `unix://…` address of the agent's Workload API. */
  readonly address: string
  /** Creates entries under this side's agent. */
  createEntries(entries: readonly BenchEntry[]): Promise<string[]>
  /** The agent's resident memory, MiB. */
  agentRssMb(): number
}

/** Both servers and agents, started side by side in one temporary directory. */
export interface Pair {
  readonly steeple: Side
  readonly spire: Side
  readonly steepleDeployment: SteepleDeployment
  readonly spireDeployment: SpireDeployment
  stop(): Promise<void>
}

/**
 * Starts steeple-server + steeple-agent and spire-server + spire-agent with `config`, registers
 * one entry per side for this process's uid (`spiffe://<td>/bench/workload`), and waits until
 * each agent serves it to us (the cache is warm).
 */
export async function startPair(config: EquivalentConfig, options: BenchOptions): Promise<Pair> {
  const { dir, remove } = await benchDir()
  let steeple: SteepleDeployment | undefined
  let spire: SpireDeployment | undefined
  try {
    ;[steeple, spire] = await Promise.all([
      SteepleDeployment.startServer(dir, config, { nodeArgs: steepleNodeArgs(options, 'steeple-server') }),
      SpireDeployment.startServer(dir, config),
    ])
    await Promise.all([steeple.startAgent({ nodeArgs: steepleNodeArgs(options, 'steeple-agent') }), spire.startAgent()])
    const s = steeple
    const p = spire
    const pair: Pair = {
      steepleDeployment: s,
      spireDeployment: p,
      steeple: {
        name: 'steeple',
        address: `unix://${s.workloadSocketPath}`,
        createEntries: (entries) => s.createEntries(entries),
        agentRssMb: () => s.agent!.rssMb(),
      },
      spire: {
        name: 'spire',
        address: `unix://${p.workloadSocketPath}`,
        createEntries: (entries) => p.createEntries(entries),
        agentRssMb: () => p.agent!.rssMb(),
      },
      stop: async () => {
        await Promise.allSettled([s.stop(), p.stop()])
        await remove()
      },
    }
    const workload = { spiffeId: `spiffe://${config.trustDomain}/bench/workload`, selectors: [uidSelector()] }
    await Promise.all([pair.steeple.createEntries([workload]), pair.spire.createEntries([workload])])
    await Promise.all([waitForSvid(pair.steeple, workload.spiffeId, 60_000), waitForSvid(pair.spire, workload.spiffeId, 60_000)])
    return pair
  } catch (err) {
    await Promise.allSettled([steeple?.stop(), spire?.stop()])
    await remove()
    throw err
  }
}

/** Resolves once the side's Workload API gives this process an SVID for `spiffeId`. */
export async function waitForSvid(side: Side, spiffeId: string, timeoutMs: number): Promise<void> {
  const client = WorkloadApiClient.connect({ address: side.address, backoff: { initialMs: 100, maxMs: 500 } })
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), timeoutMs)
  let found = false
  try {
    await client.watchX509Context(
      (context) => {
        if (hasSvid(context, spiffeId)) {
          found = true
          abort.abort()
        }
      },
      () => undefined,
      abort.signal,
    )
  } finally {
    clearTimeout(timer)
    client.close()
  }
  if (!found) throw new Error(`${side.name}: no SVID for ${spiffeId} within ${timeoutMs} ms`)
}

/** Whether the context holds an SVID for `spiffeId`. */
export function hasSvid(context: X509Context, spiffeId: string): boolean {
  return context.svids.some((s) => s.id.toString() === spiffeId)
}

/** The earliest leaf expiry among the context's SVIDs, epoch ms (Infinity without SVIDs). */
export function earliestExpiryMs(context: X509Context): number {
  let min = Infinity
  for (const svid of context.svids) {
    const leaf = new X509Certificate(Buffer.from(svid.certificatesDer[0]!))
    min = Math.min(min, Date.parse(leaf.validTo))
  }
  return min
}

let shared: Promise<Pair> | undefined

/**
 * One {@link Pair} for the scenarios that can share it (fetch, propagation, cli), started on first
 * use; {@link stopSharedPair} ends it.
 */
export function sharedPair(config: EquivalentConfig, options: BenchOptions): Promise<Pair> {
  shared ??= startPair(config, options)
  return shared
}

/** Stops the shared pair if one was started. */
export async function stopSharedPair(): Promise<void> {
  const pending = shared
  shared = undefined
  if (pending !== undefined) await (await pending.catch(() => undefined))?.stop()
}
