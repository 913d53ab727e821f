import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { DataStore } from '../../../plugins/data-store/types.js'
import { Bundle } from '../../../spiffe/index.js'
import { caCertificate, entryView, expectError, id, newEntry, newNode, TD, type SuiteContext } from './fixtures.js'

/** Tests for stores that several servers share: a second store opened on the same database. */
export function sharedDatabaseTests(ctx: () => SuiteContext): void {
  async function second(): Promise<DataStore> {
    const open = ctx().harness.another
    if (open === undefined) throw new TypeError('the harness must provide another() when sharedDatabase is set')
    return open()
  }

  describe('two stores on one database', () => {
    it('each sees what the other committed', async () => {
      const { store, clock } = ctx()
      const other = await second()
      const created = await store.entries.create(newEntry({ id: 'e1' }))
      expect(entryView((await other.entries.get('e1'))!)).toEqual(entryView(created))
      await other.nodes.create(newNode())
      expect(await store.nodes.count()).toBe(1)
      await other.bundles.set(new Bundle(TD, { x509Authorities: [caCertificate(clock.now(), 60)], sequenceNumber: 2n }))
      expect((await store.bundles.get(TD))?.sequenceNumber).toBe(2n)
    })

    it('event IDs increase across both, and each lists every event in commit order', async () => {
      const { store } = ctx()
      const other = await second()
      await store.entries.create(newEntry({ id: 'a', spiffeId: id('/a') }))
      await other.entries.create(newEntry({ id: 'b', spiffeId: id('/b') }))
      await store.entries.create(newEntry({ id: 'c', spiffeId: id('/c') }))
      const mine = await store.events.listSince(0)
      const theirs = await other.events.listSince(0)
      expect(mine.map((e) => e.key)).toEqual(['a', 'b', 'c'])
      expect(theirs.map((e) => [e.eventId, e.key])).toEqual(mine.map((e) => [e.eventId, e.key]))
      expect(mine[0]!.eventId < mine[1]!.eventId && mine[1]!.eventId < mine[2]!.eventId).toBe(true)
      expect(await other.events.latestEventId()).toBe(mine[2]!.eventId)
    })

    it('the uniqueness rule holds across both', async () => {
      const { store } = ctx()
      const other = await second()
      await store.entries.create(newEntry())
      await expectError(other.entries.create(newEntry()), 'ALREADY_EXISTS', /same spiffe_id, parent_id and selectors/)
    })

    it('a join token consumed through both at once is handed out once', async () => {
      const { store, clock } = ctx()
      const other = await second()
      const tokenHash = createHash('sha256').update('shared').digest('hex')
      await store.joinTokens.create({ tokenHash, expiresAt: clock.advance(60_000), aliasId: undefined })
      const results = await Promise.all([store, other, store, other].map((s) => s.joinTokens.consume(tokenHash, new Date(0))))
      expect(results.filter((r) => r !== undefined)).toHaveLength(1)
    })

    it('BUN-09: each server appending its own CA keeps both and bumps the sequence twice', async () => {
      const { store, clock } = ctx()
      const other = await second()
      const mineCa = caCertificate(clock.now(), 60)
      const theirCa = caCertificate(clock.now(), 60)
      await Promise.all([
        store.bundles.append(new Bundle(TD, { x509Authorities: [mineCa] })),
        other.bundles.append(new Bundle(TD, { x509Authorities: [theirCa] })),
      ])
      const got = (await store.bundles.get(TD))!
      expect(got.x509Authorities.map((d) => Buffer.from(d).toString('hex')).sort()).toEqual(
        [mineCa, theirCa].map((d) => d.toString('hex')).sort(),
      )
      expect(got.sequenceNumber).toBe(2n)
    })
  })
}
