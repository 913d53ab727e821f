import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, UnavailableError, type SteepleError } from '../../common/errors.js'
import { silentLogger } from '../../common/logger.js'
import { Bundle, SelectorSet, encodeSpiffeBundle, parseSelector, parseTrustDomain } from '../../spiffe/index.js'
import { FakeAgentServer, fakeNodeAttestor } from '../../test/fakes/fake-agent-server.js'
import { FakeClock, until } from '../../test/fakes/fake-clock.js'
import { FakeAuthority } from '../../test/fakes/fake-identity-cache.js'
import { AgentManager } from './manager.js'
import { AGENT_FILES } from './storage.js'

const TD = parseTrustDomain('example.org')
const WORKLOAD = new SelectorSet([parseSelector('unix:uid:1000')])

let dir: string
const managers: AgentManager[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steeple-manager-'))
})

afterEach(async () => {
  for (const manager of managers.splice(0)) {
    manager.close()
    await manager.closed()
  }
  await rm(dir, { recursive: true, force: true })
})

async function start(options: { insecureBootstrap?: boolean } = {}) {
  const clock = new FakeClock()
  const server = new FakeAgentServer(TD, clock)
  const fatal: SteepleError[] = []
  const manager = await AgentManager.start({
    config: { trustDomain: TD, serverAddress: '127.0.0.1', serverPort: 8081, dataDir: dir, trustBundlePath: undefined, insecureBootstrap: options.insecureBootstrap ?? true },
    nodeAttestor: fakeNodeAttestor(),
    log: silentLogger(),
    onFatal: (err) => fatal.push(err),
    clock,
    random: () => 0.5,
    client: server,
  })
  managers.push(manager)
  return { clock, server, manager, fatal }
}

/** Fires the timers due now until the manager holds `count` SVIDs (minting runs on timers). */
async function minted(clock: FakeClock, manager: AgentManager, count: number): Promise<void> {
  await until(`${count} SVIDs`, () => {
    clock.advance(0)
    return manager.stats().svids === count
  })
}

describe('AgentManager', () => {
  it('is ready once it has its SVID, the bundle and the first full entry set, and mints the entries SVIDs', async () => {
    const { clock, server, manager } = await start()
    expect(manager.agentId?.equals(server.agentId)).toBe(true)
    expect(manager.agentSvidExpiresAt?.getTime()).toBe(clock.now().getTime() + 3_600_000)
    const entry = server.putEntry({ spiffeId: 'spiffe://example.org/web' })
    await until('the first full set', () => manager.isReady())
    await minted(clock, manager, 1)
    const identities = manager.identitiesFor(WORKLOAD)
    expect(identities.svids.map((s) => s.entryId)).toEqual([entry.id])
    expect(identities.bundle.x509Authorities).toEqual(server.authority.bundle.x509Authorities)
    expect(manager.stats()).toEqual({ entries: 1, svids: 1, bundles: 1 })
    const jwt = await manager.fetchJwtSvid(identities.entries[0]!, ['aud'])
    expect(jwt.token.split('.')).toHaveLength(3)
  })

  it('trusts new X.509 roots of its own bundle at once, and stores the bundle for the next start', async () => {
    const { server, manager } = await start()
    await until('the first full set', () => manager.isReady())
    const extra = new FakeAuthority(TD)
    const own = server.authority.bundle
    const next = new Bundle(TD, { x509Authorities: [...own.x509Authorities, extra.ca.certificateDer], jwtAuthorities: [...own.jwtAuthorities.values()] })
    server.publishBundles([next])
    expect(server.trusted).toBe(next)
    expect(manager.allBundles()).toEqual([next])
    await until('the stored bundle', () => readFileSync(join(dir, AGENT_FILES.bundle), 'utf8') === encodeSpiffeBundle(next))
  })

  it('evicted: attests again, reopens the entry stream with the new SVID, and goes on minting', async () => {
    const { clock, server, manager, fatal } = await start()
    server.putEntry({ spiffeId: 'spiffe://example.org/web' })
    await until('the first full set', () => manager.isReady())
    await minted(clock, manager, 1)
    const before = server.presented
    server.evict()
    await until('the reopened stream', () => server.calls.attest === 2 && server.openStreams === 1)
    expect(server.presented).not.toBe(before)
    server.putEntry({ spiffeId: 'spiffe://example.org/api' })
    await minted(clock, manager, 2)
    expect(fatal).toEqual([])
    expect(manager.failed).toBe(false)
  })

  it('evicted with evidence that works once: reports failure once, stops, and closes', async () => {
    const { server, manager, fatal } = await start()
    server.reattestable = false
    await until('the first full set', () => manager.isReady())
    server.evict()
    await until('the failure', () => fatal.length === 1)
    expect(fatal[0]!.code).toBe('FAILED_PRECONDITION')
    expect(manager.failed).toBe(true)
    expect(manager.isReady()).toBe(false)
    expect(server.closed).toBe(true)
    await manager.closed()
  })

  it('after a renewal of its own SVID, reopens the entry stream with it', async () => {
    const { clock, server, manager } = await start()
    await until('the first full set', () => manager.isReady())
    // Half of the life from notBefore (10 s back) to notAfter (1 h on).
    clock.advance(1_795_000)
    await until('the reopened stream', () => server.calls.renew === 1 && server.calls.syncAuthorized === 2 && server.openStreams === 1)
    expect(manager.agentSvidExpiresAt?.getTime()).toBe(clock.now().getTime() + 3_600_000)
  })

  it('signs what failed at once when the stream comes back with a full set', async () => {
    const { clock, server, manager } = await start()
    server.failWith(new UnavailableError('connect ECONNREFUSED'), ['batchNewX509Svid'])
    server.putEntry({ spiffeId: 'spiffe://example.org/web' })
    await until('the first full set', () => manager.isReady())
    await until('a failed signing', () => {
      clock.advance(0)
      return server.calls.batchNewX509Svid === 1
    })
    server.failWith(undefined)
    server.endStreams()
    await minted(clock, manager, 1)
    expect(server.calls.syncAuthorized).toBe(2)
  })

  it('says why an entry has no valid SVID: since when the server is unreachable, when the SVID expired, when signing is retried', async () => {
    const { clock, server, manager } = await start()
    const entry = server.putEntry({ spiffeId: 'spiffe://example.org/web', x509SvidTtlSeconds: 100 })
    await until('the first full set', () => manager.isReady())
    await minted(clock, manager, 1)
    const notAfter = manager.identitiesFor(WORKLOAD).svids[0]!.notAfter
    const nothingMissing = { serverUnreachableSince: undefined, entries: [{ entryId: entry.id, expiredAt: undefined, signingRetryAt: undefined }] }
    expect(manager.svidShortage([entry.id])).toEqual(nothingMissing)

    const down = new UnavailableError('connect ECONNREFUSED')
    server.failWith(down)
    const downAt = clock.now()
    server.endStreams(down)
    await until('the failed stream', () => manager.svidShortage([]).serverUnreachableSince !== undefined)
    expect(manager.svidShortage([]).serverUnreachableSince).toEqual(downAt)
    clock.advanceTo(notAfter)
    await until('a signing retry after the expiry', () => {
      clock.advance(0)
      return manager.stats().svids === 0 && manager.svidShortage([entry.id]).entries[0]!.signingRetryAt !== undefined
    })
    const shortage = manager.svidShortage([entry.id])
    expect(shortage.serverUnreachableSince).toEqual(downAt)
    expect(shortage.entries[0]!.expiredAt).toEqual(notAfter)
    expect(shortage.entries[0]!.signingRetryAt!.getTime()).toBeGreaterThan(clock.now().getTime())
    expect(manager.identitiesFor(WORKLOAD).svids).toEqual([])

    server.failWith(undefined)
    await until('a new SVID', () => {
      clock.advance(1000)
      return manager.stats().svids === 1
    })
    expect(manager.svidShortage([entry.id])).toEqual(nothingMissing)
  })

  it('close() stops everything and closes the client; what is held stays readable', async () => {
    const { clock, server, manager } = await start()
    server.putEntry({ spiffeId: 'spiffe://example.org/web' })
    await until('the first full set', () => manager.isReady())
    await minted(clock, manager, 1)
    manager.close()
    manager.close()
    await manager.closed()
    expect(manager.isReady()).toBe(false)
    expect(server.closed).toBe(true)
    expect(manager.identitiesFor(WORKLOAD).svids).toHaveLength(1)
    clock.advance(86_400_000)
    expect(server.calls.renew).toBe(0)
  })

  it('a start that fails (no way to trust the server) closes the client and throws', async () => {
    const clock = new FakeClock()
    const server = new FakeAgentServer(TD, clock)
    const starting = AgentManager.start({
      config: { trustDomain: TD, serverAddress: '127.0.0.1', serverPort: 8081, dataDir: dir, trustBundlePath: undefined, insecureBootstrap: false },
      nodeAttestor: fakeNodeAttestor(),
      log: silentLogger(),
      onFatal: () => undefined,
      clock,
      client: server,
    })
    await expect(starting).rejects.toBeInstanceOf(ConfigError)
    expect(server.closed).toBe(true)
    expect(server.calls.attest).toBe(0)
  })
})
