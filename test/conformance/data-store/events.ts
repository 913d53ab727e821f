import { describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../../plugins/data-store/types.js'
import { Bundle } from '../../../spiffe/index.js'
import { caCertificate, ecKey, expectError, id, newEntry, newNode, TD, type SuiteContext } from './fixtures.js'

/** kind:key of each event. */
const keys = (events: readonly ChangeEvent[]): string[] => events.map((e) => `${e.kind}:${e.key}`)

function expectIncreasing(events: readonly ChangeEvent[], after = 0): void {
  let last = after
  for (const e of events) {
    expect(e.eventId).toBeGreaterThan(last)
    last = e.eventId
  }
}

export function eventTests(ctx: () => SuiteContext): void {
  describe('change events', () => {
    it('an empty store has no events and latestEventId 0', async () => {
      const { store } = ctx()
      expect(await store.events.listSince(0)).toEqual([])
      expect(await store.events.latestEventId()).toBe(0)
    })

    it('entry create, update and delete each append one event keyed by entry ID, stamped by the clock', async () => {
      const { store, clock } = ctx()
      const t1 = clock.advance(1000)
      const created = await store.entries.create(newEntry({ id: 'e1' }))
      const t2 = clock.advance(1000)
      await store.entries.update({ ...created, hint: 'x' })
      const t3 = clock.advance(1000)
      await store.entries.delete('e1')
      const events = await store.events.listSince(0)
      expect(keys(events)).toEqual(['entry:e1', 'entry:e1', 'entry:e1'])
      expect(events.map((e) => e.at.toISOString())).toEqual([t1, t2, t3].map((t) => t.toISOString()))
      expectIncreasing(events)
      expect(await store.events.latestEventId()).toBe(events[2]!.eventId)
    })

    it('pruneExpired appends one event per removed entry', async () => {
      const { store, clock } = ctx()
      const past = new Date(clock.now().getTime() - 1)
      await store.entries.create(newEntry({ id: 'x1', spiffeId: id('/1'), expiresAt: past }))
      await store.entries.create(newEntry({ id: 'x2', spiffeId: id('/2'), expiresAt: past }))
      await store.entries.create(newEntry({ id: 'keep', spiffeId: id('/3') }))
      const before = await store.events.latestEventId()
      await store.entries.pruneExpired(clock.now())
      expect(keys(await store.events.listSince(before)).sort()).toEqual(['entry:x1', 'entry:x2'])
    })

    it('node create, update and delete append events keyed by the agent SPIFFE ID', async () => {
      const { store } = ctx()
      const node = newNode()
      await store.nodes.create(node)
      await store.nodes.update({ ...node, banned: true })
      await store.nodes.delete(node.spiffeId)
      expect(keys(await store.events.listSince(0))).toEqual(Array(3).fill(`node:${node.spiffeId.toString()}`))
    })

    it('bundle writes that change something append events keyed by trust domain name; no-op writes do not', async () => {
      const { store, clock } = ctx()
      const expired = caCertificate(new Date(clock.now().getTime() - 7_200_000), 3600)
      await store.bundles.set(new Bundle(TD, { x509Authorities: [expired], sequenceNumber: 1n }))
      await store.bundles.append(new Bundle(TD, { jwtAuthorities: [{ kid: 'k', publicKey: ecKey().publicKey }] }))
      const afterWrites = await store.events.latestEventId()
      await store.bundles.append(new Bundle(TD, { x509Authorities: [expired] }))
      // Before the expired CA's notAfter: nothing to remove.
      await store.bundles.pruneAuthorities(TD, new Date(clock.now().getTime() - 10_800_000), ['unknown'])
      expect(await store.events.latestEventId()).toBe(afterWrites)
      await store.bundles.pruneAuthorities(TD, clock.now(), [])
      await store.bundles.delete(TD)
      expect(keys(await store.events.listSince(0))).toEqual(Array(4).fill('bundle:example.org'))
    })

    it('writes of different kinds interleave in commit order', async () => {
      const { store } = ctx()
      await store.entries.create(newEntry({ id: 'e1' }))
      await store.nodes.create(newNode())
      await store.bundles.set(new Bundle(TD))
      await store.entries.delete('e1')
      expect(keys(await store.events.listSince(0))).toEqual([
        'entry:e1',
        `node:${newNode().spiffeId.toString()}`,
        'bundle:example.org',
        'entry:e1',
      ])
    })

    it('failed writes append no event', async () => {
      const { store } = ctx()
      const created = await store.entries.create(newEntry({ id: 'e1' }))
      await store.entries.create(newEntry({ id: 'e2', spiffeId: id('/other') }))
      await store.nodes.create(newNode())
      const latest = await store.events.latestEventId()
      await expectError(store.entries.create(newEntry({ id: 'e3' })), 'ALREADY_EXISTS')
      await expectError(store.entries.create(newEntry({ id: 'e1', spiffeId: id('/new') })), 'ALREADY_EXISTS')
      await expectError(store.entries.update({ ...created, spiffeId: id('/other') }), 'ALREADY_EXISTS')
      await expectError(store.entries.update({ ...created, id: 'missing' }), 'NOT_FOUND')
      await expectError(store.entries.delete('missing'), 'NOT_FOUND')
      await expectError(store.nodes.create(newNode()), 'ALREADY_EXISTS')
      await expectError(store.nodes.update(newNode({ spiffeId: id('/agent/missing') })), 'NOT_FOUND')
      await expectError(store.nodes.delete(id('/agent/missing')), 'NOT_FOUND')
      await expectError(store.bundles.delete(TD), 'NOT_FOUND')
      expect(await store.events.latestEventId()).toBe(latest)
      expect(await store.events.listSince(latest)).toEqual([])
    })

    it('join tokens and audit events are not change events', async () => {
      const { store, clock } = ctx()
      await store.joinTokens.create({ tokenHash: 'ab'.repeat(32), expiresAt: clock.advance(60_000), aliasId: undefined })
      await store.joinTokens.consume('ab'.repeat(32), clock.now())
      await store.audit.append([{ at: clock.now(), action: 'entry.create', actor: 'server', subject: 'x', entryId: '', details: {} }])
      expect(await store.events.latestEventId()).toBe(0)
    })

    it('listSince returns events after the given ID, at most limit (0 = all)', async () => {
      const { store } = ctx()
      for (let i = 0; i < 5; i++) await store.entries.create(newEntry({ id: `e${i}`, spiffeId: id(`/${i}`) }))
      const all = await store.events.listSince(0)
      expect(keys(all)).toEqual(['entry:e0', 'entry:e1', 'entry:e2', 'entry:e3', 'entry:e4'])
      expect(keys(await store.events.listSince(all[1]!.eventId))).toEqual(['entry:e2', 'entry:e3', 'entry:e4'])
      expect(keys(await store.events.listSince(all[1]!.eventId, 2))).toEqual(['entry:e2', 'entry:e3'])
      expect(keys(await store.events.listSince(0, 0))).toHaveLength(5)
      expect(await store.events.listSince(all[4]!.eventId)).toEqual([])
    })

    it('prune removes events older than the instant; IDs never go back', async () => {
      const { store, clock } = ctx()
      await store.entries.create(newEntry({ id: 'old' }))
      const cut = clock.advance(1000)
      await store.entries.create(newEntry({ id: 'at-cut', spiffeId: id('/2') }))
      expect(await store.events.prune(cut)).toBe(1)
      expect(keys(await store.events.listSince(0))).toEqual(['entry:at-cut'])
      const latest = await store.events.latestEventId()
      expect(await store.events.prune(clock.advance(1000))).toBe(1)
      expect(await store.events.listSince(0)).toEqual([])
      expect(await store.events.latestEventId()).toBe(latest)
      await store.entries.delete('old')
      const [next] = await store.events.listSince(0)
      expect(next!.eventId).toBeGreaterThan(latest)
    })
  })
}
