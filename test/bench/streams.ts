import { WorkloadApiClient, type X509Context } from '../../workloadapi/index.js'
import { earliestExpiryMs } from './pair.js'
import { benchDir, DEFAULT_CONFIG, steepleNodeArgs, uidSelector, type BenchOptions, type BenchResult } from './setup.js'
import { SteepleDeployment } from './steeple.js'

/**
 * 1,000 FetchX509SVID streams held open on one steeple-agent while SVIDs with a 30 s TTL rotate
 * underneath them: 100 Workload API clients (one connection each) with 10 streams each, in this
 * Node process. Measured: `streams.count` (streams that got their first message),
 * `streams.rss_growth_pct` (agent RSS at the end against its RSS once all streams were open and
 * had settled for 5 s), `streams.expired_served` (messages carrying an SVID already expired when
 * it arrived, plus once-a-second checks that found a stream's latest SVID expired, i.e. not
 * replaced in time), `streams.updates` (messages after the first). Runs 5 minutes; `--quick` runs
 * 35 s, enough for every stream to see its first SVID reach the end of its lifetime.
 * Goals: growth ≤ 10 %, expired 0. Steeple only.
 */
export async function runStreams(options: BenchOptions): Promise<BenchResult> {
  const clientsCount = 100
  const perClient = 10
  const durationMs = options.quick ? 35_000 : 300_000
  const ttlSeconds = 30
  const config = DEFAULT_CONFIG
  const { dir, remove } = await benchDir()
  let steeple: SteepleDeployment | undefined
  const abort = new AbortController()
  const clients: WorkloadApiClient[] = []
  try {
    steeple = await SteepleDeployment.startServer(dir, config, { nodeArgs: steepleNodeArgs(options, 'steeple-server') })
    await steeple.startAgent({ nodeArgs: steepleNodeArgs(options, 'steeple-agent') })
    const spiffeId = `spiffe://${config.trustDomain}/bench/streams`
    await steeple.createEntries([{ spiffeId, selectors: [uidSelector()], x509SvidTtlSeconds: ttlSeconds }])

    const latest: (X509Context | undefined)[] = []
    let expiredServed = 0
    let updates = 0
    let errors = 0
    let firstSeen = 0
    const watches: Promise<void>[] = []
    for (let c = 0; c < clientsCount; c++) {
      const client = WorkloadApiClient.connect({ address: `unix://${steeple.workloadSocketPath}`, backoff: { initialMs: 200, maxMs: 1000 } })
      clients.push(client)
      for (let k = 0; k < perClient; k++) {
        const slot = latest.length
        latest.push(undefined)
        watches.push(
          client.watchX509Context(
            (context) => {
              if (earliestExpiryMs(context) <= Date.now()) expiredServed++
              if (latest[slot] === undefined) firstSeen++
              else updates++
              latest[slot] = context
            },
            () => {
              errors++
            },
            abort.signal,
          ),
        )
      }
    }
    const count = latest.length
    const openDeadline = Date.now() + 60_000
    while (firstSeen < count && Date.now() < openDeadline) await sleep(100)
    await sleep(5_000)
    const rssStart = steeple.agent!.rssMb()
    const end = Date.now() + durationMs
    while (Date.now() < end) {
      await sleep(1_000)
      const now = Date.now()
      for (const context of latest) if (context !== undefined && earliestExpiryMs(context) <= now) expiredServed++
    }
    const rssEnd = steeple.agent!.rssMb()
    const growth = ((rssEnd - rssStart) / rssStart) * 100
    console.log(
      `streams: ${firstSeen} of ${count} streams open for ${durationMs / 1000} s, SVID TTL ${ttlSeconds} s: ${updates} updates, ` +
        `expired served ${expiredServed}, stream errors ${errors}, agent RSS ${rssStart.toFixed(0)} → ${rssEnd.toFixed(0)} MB (${growth.toFixed(1)} %)`,
    )
    return {
      'streams.count': firstSeen,
      'streams.duration_s': durationMs / 1000,
      'streams.updates': updates,
      'streams.errors': errors,
      'streams.agent_rss_start_mb': rssStart,
      'streams.agent_rss_end_mb': rssEnd,
      'streams.rss_growth_pct': growth,
      'streams.expired_served': expiredServed,
    }
  } finally {
    abort.abort()
    for (const c of clients) c.close()
    await steeple?.stop()
    await remove()
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
