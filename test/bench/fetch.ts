import * as grpc from '@grpc/grpc-js'
import { loadWorkloadApi } from '../../proto/index.js'
import { SECURITY_HEADER } from '../../workloadapi/index.js'
import type { BenchOptions, BenchResult } from './main.js'
import { sharedPair, type Side } from './pair.js'
import { DEFAULT_CONFIG, percentile } from './setup.js'

/**
 * Latency of the first FetchX509SVID message with a warm agent cache, 100 concurrent callers:
 * 100 grpc-js clients of the Workload API (one connection each) in this one Node process, each
 * opening a FetchX509SVID stream, timing until the first message arrives (protobuf-decoded, with
 * at least one SVID), cancelling, and starting again. Steeple's and SPIRE's agents are measured in
 * alternating rounds with the same client. Every call includes the agent's workload attestation
 * (unix: /proc reads). The client does not parse the certificates: with 100 callers in one
 * process, doing so (as workloadapi/client.ts does) made the client's own CPU the bottleneck
 * for both sides alike and hid the agents' difference.
 * `fetch.ratio_spire_p99` = Steeple p99 ÷ SPIRE p99 (goal ≤ 1).
 */
export async function runFetch(options: BenchOptions): Promise<BenchResult> {
  const callers = 100
  const perCallerPerRound = options.quick ? 5 : 20
  const rounds = options.quick ? 2 : 4
  const pair = await sharedPair(DEFAULT_CONFIG, options)
  const samples: Record<Side['name'], number[]> = { steeple: [], spire: [] }
  const errors: Record<Side['name'], number> = { steeple: 0, spire: 0 }
  const Ctor = loadWorkloadApi()
  const clients = new Map<Side['name'], grpc.Client[]>()
  for (const side of [pair.steeple, pair.spire]) {
    const target = `unix:${side.address.slice('unix://'.length)}`
    clients.set(side.name, Array.from({ length: callers }, () => new Ctor(target, grpc.credentials.createInsecure())))
  }
  try {
    // Warm-up: connections made, code paths compiled on both sides; not counted.
    for (const side of [pair.steeple, pair.spire]) await round(side.name, clients.get(side.name)!, 2, errors)
    for (let r = 0; r < rounds; r++) {
      for (const side of [pair.steeple, pair.spire]) samples[side.name].push(...(await round(side.name, clients.get(side.name)!, perCallerPerRound, errors)))
    }
  } finally {
    for (const list of clients.values()) for (const c of list) c.close()
  }
  const result: BenchResult = {
    'fetch.callers': callers,
    'fetch.steeple_p50_ms': percentile(samples.steeple, 50),
    'fetch.steeple_p99_ms': percentile(samples.steeple, 99),
    'fetch.spire_p50_ms': percentile(samples.spire, 50),
    'fetch.spire_p99_ms': percentile(samples.spire, 99),
    'fetch.steeple_errors': errors.steeple,
    'fetch.spire_errors': errors.spire,
  }
  result['fetch.ratio_spire_p99'] = result['fetch.steeple_p99_ms']! / result['fetch.spire_p99_ms']!
  console.log(
    `fetch: ${callers} concurrent callers, ${samples.steeple.length} calls each side: ` +
      `steeple p50 ${result['fetch.steeple_p50_ms']!.toFixed(2)} ms p99 ${result['fetch.steeple_p99_ms']!.toFixed(2)} ms, ` +
      `spire p50 ${result['fetch.spire_p50_ms']!.toFixed(2)} ms p99 ${result['fetch.spire_p99_ms']!.toFixed(2)} ms, ` +
      `p99 ratio ${result['fetch.ratio_spire_p99']!.toFixed(2)}; failed calls: steeple ${errors.steeple}, spire ${errors.spire}`,
  )
  return result
}

/**
 * Every client fetches `count` times in sequence, all clients at once; returns the latencies (ms)
 * of the calls that succeeded and adds the failed ones to `errors`.
 */
async function round(side: Side['name'], clients: readonly grpc.Client[], count: number, errors: Record<Side['name'], number>): Promise<number[]> {
  const latencies: number[] = []
  await Promise.all(
    clients.map(async (client) => {
      for (let i = 0; i < count; i++) {
        const t0 = performance.now()
        try {
          await firstMessage(client)
          latencies.push(performance.now() - t0)
        } catch (err) {
          if (errors[side]++ === 0) console.error(`fetch: ${side}: ${(err as Error).message}`)
        }
      }
    }),
  )
  return latencies
}

/** Opens FetchX509SVID, waits for the first message (it must carry an SVID) and cancels. */
function firstMessage(client: grpc.Client): Promise<void> {
  const metadata = new grpc.Metadata()
  metadata.set(SECURITY_HEADER, 'true')
  const method = (client as unknown as Record<string, (request: unknown, metadata: grpc.Metadata) => grpc.ClientReadableStream<{ svids: unknown[] }>>)['FetchX509SVID']!
  return new Promise((resolve, reject) => {
    const call = method.call(client, {}, metadata)
    let done = false
    call.on('data', (message: { svids: unknown[] }) => {
      if (done) return
      done = true
      call.cancel()
      if (message.svids.length === 0) reject(new Error('a response without SVIDs'))
      else resolve()
    })
    call.on('error', (err: grpc.ServiceError) => {
      if (done) return
      done = true
      reject(new Error(`FetchX509SVID failed: ${grpc.status[err.code]}: ${err.details}`))
    })
  })
}
