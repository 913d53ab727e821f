import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { generateJoinToken, joinTokenAgentId } from '../../plugins/node-attestor/join-token/index.js'
import { openSqliteDataStore } from '../../plugins/data-store/sqlite/index.js'
import { parseSelector, parseSpiffeId, parseTrustDomain, type SpiffeId } from '../../spiffe/index.js'
import { buildEntry } from '../fixtures/entries.js'
import { jsonLine } from './process.js'
import { benchDir, DEFAULT_CONFIG, steepleNodeArgs, uidSelector, type BenchOptions, type BenchResult } from './setup.js'
import { SteepleDeployment } from './steeple.js'

/**
 * Server and agent with many entries: `scale.entries` in the database, a tenth of them (at most
 * 10,000) for the one agent that starts. Measured: `scale.server_start_s` (spawn of
 * `steeple-server run` to its "Server started" line, the entry cache loaded),
 * `scale.agent_sync_s` (spawn of `steeple-agent run`, which attests, to its "Entries synced" line:
 * its whole entry set received), `scale.agent_svids_s` (until its signing passes have covered
 * every entry), `scale.server_rss_mb` (server resident memory after the agent's
 * sync; `scale.server_peak_rss_mb` the high-water mark). Goals: start ≤ 5 s, sync ≤ 2 s,
 * RSS ≤ 1024 MB.
 *
 * The database is filled beforehand through the SQLite data store itself (the product's write
 * path, one transaction per entry) on tmpfs, then copied next to the server: the admin API would
 * take minutes for 100,000 entries on this disk and that is not what is measured here.
 * Steeple only: SPIRE has no equivalent figure in this table.
 */
export async function runScale(options: BenchOptions): Promise<BenchResult> {
  const total = options.quick ? 20_000 : 100_000
  const forAgent = Math.min(10_000, total / 10)
  const config = DEFAULT_CONFIG
  const { dir, remove } = await benchDir()
  let steeple: SteepleDeployment | undefined
  try {
    const tFill = performance.now()
    const join_ = await fillDatabase(join(dir, 'steeple-datastore.sqlite3'), config.trustDomain, total, forAgent)
    const fillS = (performance.now() - tFill) / 1000

    steeple = await SteepleDeployment.startServer(dir, config, { nodeArgs: steepleNodeArgs(options, 'steeple-server') })
    const serverStartS = steeple.startMs / 1000
    const rssAfterStart = steeple.server.rssMb()

    // Debug level for the agent only: the end of its first signing pass is a debug line.
    const agentStart = await steeple.startAgent({ join: join_, logLevel: 'debug', waitFor: 'Entries synced', nodeArgs: steepleNodeArgs(options, 'steeple-agent') })
    const agentSyncS = agentStart.ms / 1000
    // A signing pass covers the entries due when it starts; the first may see only part of the set.
    let mintedSoFar = 0
    const minted = await steeple.agent!.waitForLine((line, at) => {
      const r = jsonLine(line)
      if (r?.['msg'] !== 'SVIDs minted') return undefined
      mintedSoFar += Number(r['count'])
      return mintedSoFar >= forAgent ? at : undefined
    }, 300_000)
    const agentSvidsS = (minted - agentStart.t0) / 1000
    const rss = steeple.server.rssMb()
    const peak = steeple.server.peakRssMb()
    console.log(
      `scale: ${total} entries (${forAgent} for the agent; filled in ${fillS.toFixed(1)} s): server start ${serverStartS.toFixed(2)} s ` +
        `(RSS ${rssAfterStart.toFixed(0)} MB), agent sync ${agentSyncS.toFixed(2)} s, all agent SVIDs ${agentSvidsS.toFixed(2)} s, ` +
        `server RSS ${rss.toFixed(0)} MB (peak ${peak.toFixed(0)} MB)`,
    )
    return {
      'scale.entries': total,
      'scale.agent_entries': forAgent,
      'scale.server_start_s': serverStartS,
      'scale.agent_sync_s': agentSyncS,
      'scale.agent_svids_s': agentSvidsS,
      'scale.server_rss_mb': rss,
      'scale.server_peak_rss_mb': peak,
    }
  } finally {
    await steeple?.stop()
    await remove()
  }
}

/**
 * Writes `total` entries and one join token into a new database at `path` (built on tmpfs and
 * copied); `forAgent` of them are children of the token's agent and select the current uid, the
 * rest belong to nine other agents. Returns the token and its agent ID.
 */
async function fillDatabase(path: string, trustDomainName: string, total: number, forAgent: number): Promise<{ token: string; agentId: string }> {
  const shm = await mkdtemp('/dev/shm/steeple-bench-')
  try {
    const temp = join(shm, 'db.sqlite3')
    const store = openSqliteDataStore({ path: temp })
    const trustDomain = parseTrustDomain(trustDomainName)
    const generated = generateJoinToken()
    await store.joinTokens.create({ tokenHash: generated.tokenHash, expiresAt: new Date(Date.now() + 3_600_000), aliasId: undefined })
    const agentId = joinTokenAgentId(trustDomain, generated.tokenId)
    const others = Array.from({ length: 9 }, (_, i) => parseSpiffeId(`spiffe://${trustDomainName}/steeple/agent/bench/${i}`))
    const uid = parseSelector(uidSelector())
    for (let i = 0; i < total; i++) {
      const mine = i < forAgent
      const parentId: SpiffeId = mine ? agentId : others[i % others.length]!
      const entry = buildEntry({
        spiffeId: parseSpiffeId(`spiffe://${trustDomainName}/workload/${i}`),
        parentId,
        // Distinct per entry, as real workloads' selectors are.
        selectors: [mine ? uid : parseSelector('unix:uid:4242'), parseSelector(`unix:path:/opt/app/${i}`)],
      })
      await store.entries.create(entry)
    }
    await store.close()
    await copyFile(temp, path)
    return { token: generated.token, agentId: agentId.toString() }
  } finally {
    await rm(shm, { recursive: true, force: true })
  }
}
