import { WorkloadApiClient } from '../../workloadapi/index.js'
import type { BenchOptions, BenchResult } from './setup.js'
import { hasSvid, sharedPair, type Side } from './pair.js'
import { DEFAULT_CONFIG, percentile, uidSelector } from './setup.js'

/**
 * Entry created → a watching workload has the SVID. A FetchX509SVID stream stays open on each
 * agent (workloadapi/client.ts `watchX509Context`); entries for this process's uid are created
 * through each server's admin API one after another, `intervalMs` apart, on both sides at once.
 * A sample is the time from just before the create RPC to the stream update that carries an SVID
 * for the new ID. Spacing the creates spreads them over SPIRE's polling cycles (its agent syncs
 * every 5 s by default, its server refreshes its entry cache every 5 s); Steeple's server pushes
 * entry changes to the agent. Goal: p99 ≤ 1000 ms.
 */
export async function runPropagation(options: BenchOptions): Promise<BenchResult> {
  const samples = options.quick ? 6 : 20
  const intervalMs = options.quick ? 700 : 1300
  const timeoutMs = 30_000
  const pair = await sharedPair(DEFAULT_CONFIG, options)
  const [steeple, spire] = await Promise.all([measure(pair.steeple, samples, intervalMs, timeoutMs), measure(pair.spire, samples, intervalMs, timeoutMs)])
  const result: BenchResult = {
    'propagation.samples': samples,
    'propagation.steeple_p50_ms': percentile(steeple.latencies, 50),
    'propagation.steeple_p99_ms': percentile(steeple.latencies, 99),
    'propagation.spire_p50_ms': percentile(spire.latencies, 50),
    'propagation.spire_p99_ms': percentile(spire.latencies, 99),
    'propagation.steeple_missed': steeple.missed,
    'propagation.spire_missed': spire.missed,
  }
  console.log(
    `propagation: ${samples} entries each side, ${intervalMs} ms apart: ` +
      `steeple p50 ${result['propagation.steeple_p50_ms']!.toFixed(0)} ms p99 ${result['propagation.steeple_p99_ms']!.toFixed(0)} ms, ` +
      `spire p50 ${result['propagation.spire_p50_ms']!.toFixed(0)} ms p99 ${result['propagation.spire_p99_ms']!.toFixed(0)} ms` +
      (steeple.missed + spire.missed > 0 ? `; not seen within ${timeoutMs} ms: steeple ${steeple.missed}, spire ${spire.missed}` : ''),
  )
  return result
}

async function measure(side: Side, count: number, intervalMs: number, timeoutMs: number): Promise<{ latencies: number[]; missed: number }> {
  const client = WorkloadApiClient.connect({ address: side.address, backoff: { initialMs: 100, maxMs: 500 } })
  const abort = new AbortController()
  const createdAt = new Map<string, number>()
  const seenAt = new Map<string, number>()
  let wake: (() => void) | undefined
  const watching = client.watchX509Context(
    (context) => {
      const now = performance.now()
      for (const id of createdAt.keys()) {
        if (!seenAt.has(id) && hasSvid(context, id)) seenAt.set(id, now)
      }
      wake?.()
    },
    () => undefined,
    abort.signal,
  )
  try {
    const run = `${Date.now().toString(36)}`
    for (let i = 0; i < count; i++) {
      const id = `spiffe://${DEFAULT_CONFIG.trustDomain}/bench/propagation/${run}/${i}`
      createdAt.set(id, performance.now())
      await side.createEntries([{ spiffeId: id, selectors: [uidSelector()] }])
      if (i < count - 1) await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
    const deadline = performance.now() + timeoutMs
    while (seenAt.size < createdAt.size && performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 200)
      })
    }
  } finally {
    abort.abort()
    await watching.catch(() => undefined)
    client.close()
  }
  const latencies: number[] = []
  for (const [id, t0] of createdAt) {
    const t1 = seenAt.get(id)
    if (t1 !== undefined) latencies.push(t1 - t0)
  }
  return { latencies, missed: createdAt.size - latencies.length }
}
