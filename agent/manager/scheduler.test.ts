import { X509Certificate, createPrivateKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { PermissionDeniedError, UnavailableError, type SteepleError } from '../../common/errors.js'
import { createLogger, silentLogger } from '../../common/logger.js'
import type { RegistrationEntry } from '../../plugins/data-store/types.js'
import { SelectorSet, parseSelector, parseTrustDomain, verifyX509Svid } from '../../spiffe/index.js'
import { FakeAgentServer, type FakeServerEntryInit } from '../../test/fakes/fake-agent-server.js'
import { FakeClock } from '../../test/fakes/fake-clock.js'
import type { X509SvidSigner } from '../client/server-api.js'
import { AgentCache } from './cache.js'
import { ServerReachability } from './reachability.js'
import { MintScheduler, type MintTarget } from './scheduler.js'
import { DEFAULT_MANAGER_TIMING, type ManagerTiming } from './timing.js'

const TD = parseTrustDomain('example.org')
const WORKLOAD = new SelectorSet([parseSelector('unix:uid:1000')])

interface Setup {
  readonly clock: FakeClock
  readonly server: FakeAgentServer
  readonly cache: AgentCache
  readonly scheduler: MintScheduler
  readonly rejected: SteepleError[]
  readonly warnings: string[]
  readonly reachability: ServerReachability
  /** Creates or changes an entry on the server and hands it to the cache and scheduler, as the sync does. */
  put(init: FakeServerEntryInit): RegistrationEntry
  remove(id: string): void
  /** Fires the timers due in `ms` and waits for the pass they started. */
  tick(ms?: number): Promise<void>
}

function setup(
  options: { timing?: Partial<ManagerTiming>; random?: () => number; signer?: (server: FakeAgentServer) => X509SvidSigner; target?: (cache: AgentCache) => MintTarget } = {},
): Setup {
  const clock = new FakeClock()
  const server = new FakeAgentServer(TD, clock)
  const warnings: string[] = []
  const log = createLogger({ level: 'warn', write: (line) => warnings.push(JSON.parse(line).msg) })
  const cache = new AgentCache({ trustDomain: TD, jwtSigner: server, clock, log: silentLogger() })
  cache.setOwnBundle(server.authority.bundle)
  const rejected: SteepleError[] = []
  const reachability = new ServerReachability()
  const scheduler = new MintScheduler({
    signer: options.signer?.(server) ?? server,
    cache: options.target?.(cache) ?? cache,
    clock,
    random: options.random ?? (() => 0.5),
    timing: { ...DEFAULT_MANAGER_TIMING, ...options.timing },
    log,
    reachability,
    onRejected: (err) => rejected.push(err),
  })
  const apply = (upserted: RegistrationEntry[], deletedIds: string[]): void => {
    scheduler.entriesChanged(cache.apply({ full: false, upserted, deletedIds, bundles: undefined }).changedEntryIds)
  }
  return {
    clock,
    server,
    cache,
    scheduler,
    rejected,
    warnings,
    reachability,
    put(init) {
      const entry = server.putEntry(init)
      apply([entry], [])
      return entry
    },
    remove(id) {
      server.deleteEntry(id)
      apply([], [id])
    },
    async tick(ms = 0) {
      clock.advance(ms)
      await scheduler.idle()
    },
  }
}

function serialOf(chainDer: readonly Uint8Array[]): string {
  return new X509Certificate(chainDer[0]!).serialNumber
}

describe('MintScheduler', () => {
  it('mints a new entry an SVID with a fresh key in one call, chaining to the bundle, and tells subscribers once', async () => {
    const s = setup()
    const entry = s.put({ spiffeId: 'spiffe://example.org/web', hint: 'front' })
    await Promise.resolve()
    let notified = 0
    s.cache.subscribe(() => notified++)
    await s.tick()
    expect(s.server.calls.batchNewX509Svid).toBe(1)
    const held = s.cache.heldSvid(entry.id)!
    expect(held.revision).toBe(1)
    expect(verifyX509Svid(held.svid.chainDer, s.server.authority.bundle, { now: s.clock.now() }).id.toString()).toBe('spiffe://example.org/web')
    const key = createPrivateKey({ key: Buffer.from(held.svid.privateKeyDer), format: 'der', type: 'pkcs8' })
    expect(new X509Certificate(held.svid.chainDer[0]!).checkPrivateKey(key)).toBe(true)
    expect(held.svid.hint).toBe('front')
    await Promise.resolve()
    expect(notified).toBe(1)
    expect(s.cache.identitiesFor(WORKLOAD).svids.map((v) => v.entryId)).toEqual([entry.id])
  })

  it.each([
    { random: 0, fraction: 0.45 },
    { random: 0.5, fraction: 0.5 },
    { random: 1, fraction: 0.55 },
  ])('rotates at $fraction of the lifetime when the jitter draws $random (1/2 ±10 %)', async ({ random, fraction }) => {
    const s = setup({ random: () => random })
    const t0 = s.clock.now().getTime()
    const entry = s.put({ spiffeId: 'spiffe://example.org/web', x509SvidTtlSeconds: 1000 })
    await s.tick()
    const first = s.cache.heldSvid(entry.id)!
    expect(first.svid.notAfter.getTime()).toBe(t0 + 1_000_000)
    expect(Math.abs(first.rotateAtMs - (t0 + 1_000_000 * fraction))).toBeLessThanOrEqual(1)
    // The one timer is the rotation: nothing happens before it, the new SVID right at it.
    expect(s.clock.nextTimerAt()?.getTime()).toBe(first.rotateAtMs)
    await s.tick(first.rotateAtMs - 1 - t0)
    expect(s.server.calls.batchNewX509Svid).toBe(1)
    await s.tick(1)
    expect(s.server.calls.batchNewX509Svid).toBe(2)
    const second = s.cache.heldSvid(entry.id)!
    expect(serialOf(second.svid.chainDer)).not.toBe(serialOf(first.svid.chainDer))
    expect(second.svid.notAfter.getTime()).toBe(first.rotateAtMs - (first.rotateAtMs % 1000) + 1_000_000)
  })

  it('sends at most batchSize CSRs per call', async () => {
    const s = setup({ timing: { batchSize: 5 } })
    const ids = Array.from({ length: 12 }, (_, i) => s.put({ spiffeId: `spiffe://example.org/w/${i}` }).id)
    await s.tick()
    expect(s.server.batchSizes).toEqual([5, 5, 2])
    for (const id of ids) expect(s.cache.heldSvid(id)).toBeDefined()
  })

  it('after a failed call keeps serving the SVID it has and retries after a backoff, not before', async () => {
    const s = setup({ random: () => 0.5 })
    const entry = s.put({ spiffeId: 'spiffe://example.org/web', x509SvidTtlSeconds: 1000 })
    await s.tick()
    const first = s.cache.heldSvid(entry.id)!
    s.server.failWith(new UnavailableError('connect ECONNREFUSED'), ['batchNewX509Svid'])
    await s.tick(first.rotateAtMs - s.clock.now().getTime())
    expect(s.server.calls.batchNewX509Svid).toBe(2)
    expect(s.warnings).toContain('Signing SVIDs failed; serving the SVIDs the agent has and retrying')
    expect(s.cache.heldSvid(entry.id)).toBe(first)
    expect(s.cache.identitiesFor(WORKLOAD).svids).toHaveLength(1)
    expect(s.reachability.unreachableSince).toEqual(new Date(first.rotateAtMs))
    const retryAt = s.scheduler.retryAtMs(entry.id)!
    // First failure: half to all of retryInitialMs (250 ms), here 3/4 of it.
    expect(retryAt - s.clock.now().getTime()).toBe(188)
    expect(s.clock.nextTimerAt()?.getTime()).toBe(retryAt)
    s.server.failWith(undefined)
    await s.tick(187)
    expect(s.server.calls.batchNewX509Svid).toBe(2)
    await s.tick(1)
    expect(s.server.calls.batchNewX509Svid).toBe(3)
    expect(s.cache.heldSvid(entry.id)).not.toBe(first)
    expect(s.scheduler.retryAtMs(entry.id)).toBeUndefined()
    expect(s.reachability.unreachableSince).toBeUndefined()
  })

  it('an item the server refuses waits retryMaxMs; the others of the batch are minted', async () => {
    const s = setup()
    const refused = s.put({ spiffeId: 'spiffe://example.org/refused' })
    const fine = s.put({ spiffeId: 'spiffe://example.org/fine' })
    s.server.failItem(refused.id, new PermissionDeniedError('entry not authorized'))
    await s.tick()
    expect(s.cache.heldSvid(fine.id)).toBeDefined()
    expect(s.cache.heldSvid(refused.id)).toBeUndefined()
    expect(s.warnings).toContain('The server did not sign an SVID')
    // A refused item is not the agent being refused.
    expect(s.rejected).toEqual([])
    expect(s.scheduler.retryAtMs(refused.id)).toBe(s.clock.now().getTime() + DEFAULT_MANAGER_TIMING.retryMaxMs)
    s.server.failItem(refused.id, undefined)
    await s.tick(DEFAULT_MANAGER_TIMING.retryMaxMs - 1)
    expect(s.cache.heldSvid(refused.id)).toBeUndefined()
    await s.tick(1)
    expect(s.cache.heldSvid(refused.id)).toBeDefined()
  })

  it('drops an SVID at its expiry when no replacement came, and tells subscribers', async () => {
    const s = setup()
    const entry = s.put({ spiffeId: 'spiffe://example.org/web', x509SvidTtlSeconds: 100 })
    await s.tick()
    const held = s.cache.heldSvid(entry.id)!
    s.server.failWith(new UnavailableError('connect ECONNREFUSED'))
    let notified = 0
    s.cache.subscribe(() => notified++)
    // Retries fail from the rotation point on; the queue wakes for each retry and for the expiry.
    while (s.clock.now().getTime() < held.svid.notAfter.getTime()) await s.tick(s.clock.nextTimerAt()!.getTime() - s.clock.now().getTime())
    expect(s.clock.now().getTime()).toBe(held.svid.notAfter.getTime())
    expect(s.cache.heldSvid(entry.id)).toBeUndefined()
    expect(s.cache.expiredAt(entry.id)).toEqual(held.svid.notAfter)
    await Promise.resolve()
    expect(notified).toBeGreaterThanOrEqual(1)
    expect(s.cache.identitiesFor(WORKLOAD).svids).toEqual([])
    expect(s.cache.identitiesFor(WORKLOAD).entries.map((e) => e.id)).toEqual([entry.id])
  })

  it('retryNow (the server is back) signs what failed at once', async () => {
    const s = setup()
    s.server.failWith(new UnavailableError('connect ECONNREFUSED'))
    const entry = s.put({ spiffeId: 'spiffe://example.org/web' })
    await s.tick()
    for (let i = 0; i < 5; i++) await s.tick(s.clock.nextTimerAt()!.getTime() - s.clock.now().getTime())
    expect(s.server.calls.batchNewX509Svid).toBe(6)
    expect(s.scheduler.retryAtMs(entry.id)! - s.clock.now().getTime()).toBeGreaterThan(1000)
    s.server.failWith(undefined)
    s.scheduler.retryNow()
    await s.tick()
    expect(s.cache.heldSvid(entry.id)).toBeDefined()
  })

  it('an entry changed while its call is out gets the new revision minted; one deleted meanwhile gets nothing', async () => {
    let release!: () => void
    let gate = new Promise<void>((resolve) => (release = resolve))
    const s = setup({
      signer: (server) => ({
        batchNewX509Svid: async (params) => {
          await gate
          return server.batchNewX509Svid(params)
        },
      }),
    })
    const changed = s.put({ id: 'changed', spiffeId: 'spiffe://example.org/old' })
    const deleted = s.put({ id: 'deleted', spiffeId: 'spiffe://example.org/deleted' })
    s.clock.advance(0)
    s.put({ id: 'changed', spiffeId: 'spiffe://example.org/new' })
    s.remove(deleted.id)
    release()
    await s.scheduler.idle()
    expect(s.cache.heldSvid(changed.id)).toBeUndefined()
    expect(s.cache.heldSvid(deleted.id)).toBeUndefined()
    expect(s.scheduler.queued).toBe(1)
    gate = Promise.resolve()
    await s.tick()
    expect(s.cache.heldSvid(changed.id)?.revision).toBe(2)
    expect(s.cache.heldSvid(changed.id)?.svid.spiffeId.toString()).toBe('spiffe://example.org/new')
    expect(s.cache.heldSvid(deleted.id)).toBeUndefined()
  })

  it('a removed entry leaves the queue, and its timer mints nothing', async () => {
    const s = setup()
    const entry = s.put({ spiffeId: 'spiffe://example.org/web', x509SvidTtlSeconds: 100 })
    await s.tick()
    expect(s.scheduler.queued).toBe(1)
    s.remove(entry.id)
    expect(s.scheduler.queued).toBe(0)
    await s.tick(200_000)
    expect(s.server.calls.batchNewX509Svid).toBe(1)
  })

  it('when the server refuses the agent SVID, says so once per call and retries later, not in a loop', async () => {
    const s = setup()
    const entry = s.put({ spiffeId: 'spiffe://example.org/web' })
    s.server.evict()
    await s.tick()
    expect(s.rejected.map((e) => e.code)).toEqual(['PERMISSION_DENIED'])
    // The server answered: a refusal is not the server being unreachable.
    expect(s.reachability.unreachableSince).toBeUndefined()
    expect(s.warnings).not.toContain('Signing SVIDs failed; serving the SVIDs the agent has and retrying')
    expect(s.scheduler.retryAtMs(entry.id)).toBeGreaterThan(s.clock.now().getTime())
    await s.tick()
    expect(s.server.calls.batchNewX509Svid).toBe(1)
  })

  it('with 10,000 entries, one wake-up looks only at the entries that are due', async () => {
    const lookups = { count: 0 }
    const s = setup({
      target: (cache) => ({
        entry: (id) => (lookups.count++, cache.entry(id)),
        heldSvid: (id) => (lookups.count++, cache.heldSvid(id)),
        storeSvid: (id, held) => cache.storeSvid(id, held),
        expireSvid: (id) => cache.expireSvid(id),
        pruneJwtSvids: (now) => cache.pruneJwtSvids(now),
        notify: () => cache.notify(),
        stats: () => cache.stats(),
      }),
    })
    const t0 = s.clock.now().getTime()
    const entries = Array.from({ length: 10_000 }, (_, i) => s.server.putEntry({ spiffeId: `spiffe://example.org/w/${i}` }))
    const applied = s.cache.apply({ full: true, upserted: entries, deletedIds: [], bundles: undefined })
    // SVIDs held already (as after a first pass), rotating ten at a time, one second apart.
    entries.forEach((entry, i) => {
      s.cache.storeSvid(entry.id, {
        svid: { entryId: entry.id, spiffeId: entry.spiffeId, hint: '', chainDer: [], privateKeyDer: new Uint8Array(), notAfter: new Date(t0 + 86_400_000) },
        revision: entry.revisionNumber,
        rotateAtMs: t0 + 3_600_000 + Math.floor(i / 10) * 1000,
      })
    })
    s.scheduler.entriesChanged(applied.changedEntryIds)
    expect(s.scheduler.queued).toBe(10_000)
    expect(s.clock.pendingTimers).toBe(1)
    lookups.count = 0
    await s.tick(3_600_000)
    // Entries 0..9 were due: ten CSRs in one call, and a handful of cache lookups for each of them.
    expect(s.server.calls.batchNewX509Svid).toBe(1)
    expect(s.server.batchSizes).toEqual([10])
    expect(lookups.count).toBeGreaterThanOrEqual(10)
    expect(lookups.count).toBeLessThanOrEqual(10 * 8)
    expect(s.scheduler.queued).toBe(10_000)
    expect(s.clock.pendingTimers).toBe(1)
    expect(s.clock.nextTimerAt()?.getTime()).toBe(t0 + 3_600_000 + 1000)
  })
})
