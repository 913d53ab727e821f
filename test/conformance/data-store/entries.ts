import { describe, expect, it } from 'vitest'
import type { EntryFilter, NewRegistrationEntry } from '../../../plugins/data-store/types.js'
import { sortSelectors } from '../../../spiffe/index.js'
import {
  allPages,
  entryView,
  expectedView,
  expectError,
  FEDERATED_TD,
  fullEntry,
  id,
  newEntry,
  OTHER_TD,
  sels,
  TD,
  type SuiteContext,
} from './fixtures.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Entries labelled A–F for the filter table; each label is also the entry's id. */
const DATASET: Record<string, Partial<NewRegistrationEntry>> = {
  A: {
    spiffeId: id('/a'),
    parentId: id('/agent/1'),
    selectors: sels('unix:uid:1', 'unix:gid:1'),
    hint: 'web',
    owner: 'team-a',
    federatesWith: [FEDERATED_TD],
  },
  B: { spiffeId: id('/b'), parentId: id('/agent/1'), selectors: sels('unix:uid:1'), owner: 'team-b', downstream: true },
  C: {
    spiffeId: id('/c'),
    parentId: id('/agent/2'),
    selectors: sels('unix:uid:2', 'k8s:ns:prod'),
    hint: 'web',
    owner: 'team-a',
    federatesWith: [FEDERATED_TD, OTHER_TD],
  },
  D: { spiffeId: id('/a'), parentId: id('/agent/2'), selectors: sels('unix:uid:1', 'unix:gid:1', 'k8s:ns:prod') },
  E: { spiffeId: id('/e'), parentId: id('/agent/3'), selectors: [] },
  // Same value as A's first selector under another type: matching must compare type and value.
  F: { spiffeId: id('/f'), parentId: id('/agent/3'), selectors: sels('docker:uid:1') },
}

const ALL = Object.keys(DATASET)
const bySelectors = (match: 'exact' | 'subset' | 'superset' | 'any', ...texts: string[]): EntryFilter => ({
  selectors: { match, selectors: sels(...texts) },
})

const FILTER_CASES: [string, EntryFilter, string[]][] = [
  ['no filter', {}, ALL],
  ['spiffeId', { spiffeId: id('/a') }, ['A', 'D']],
  ['parentId', { parentId: id('/agent/1') }, ['A', 'B']],
  ['hint', { hint: 'web' }, ['A', 'C']],
  ['hint empty', { hint: '' }, ['B', 'D', 'E', 'F']],
  ['owner', { owner: 'team-a' }, ['A', 'C']],
  ['federatesWith one of two', { federatesWith: FEDERATED_TD }, ['A', 'C']],
  ['federatesWith the other', { federatesWith: OTHER_TD }, ['C']],
  ['federatesWith nobody', { federatesWith: TD }, []],
  ['downstream true', { downstream: true }, ['B']],
  ['downstream false', { downstream: false }, ['A', 'C', 'D', 'E', 'F']],
  ['exact', bySelectors('exact', 'unix:uid:1', 'unix:gid:1'), ['A']],
  ['exact in another order', bySelectors('exact', 'unix:gid:1', 'unix:uid:1'), ['A']],
  ['exact single', bySelectors('exact', 'unix:uid:1'), ['B']],
  ['exact empty set', bySelectors('exact'), ['E']],
  ['exact other type', bySelectors('exact', 'docker:uid:1'), ['F']],
  ['subset', bySelectors('subset', 'unix:uid:1', 'unix:gid:1'), ['A', 'B', 'E']],
  ['subset larger', bySelectors('subset', 'unix:uid:1', 'unix:gid:1', 'k8s:ns:prod'), ['A', 'B', 'D', 'E']],
  ['subset without a full match', bySelectors('subset', 'unix:uid:2'), ['E']],
  ['subset of the empty set', bySelectors('subset'), ['E']],
  ['superset', bySelectors('superset', 'unix:uid:1'), ['A', 'B', 'D']],
  ['superset of two', bySelectors('superset', 'unix:uid:1', 'unix:gid:1'), ['A', 'D']],
  ['superset across parents', bySelectors('superset', 'k8s:ns:prod'), ['C', 'D']],
  ['superset of the empty set', bySelectors('superset'), ALL],
  ['superset other type', bySelectors('superset', 'docker:uid:1'), ['F']],
  ['any', bySelectors('any', 'unix:uid:2', 'unix:gid:1'), ['A', 'C', 'D']],
  ['any without a match', bySelectors('any', 'unix:uid:9'), []],
  ['any of the empty set', bySelectors('any'), []],
  ['parentId and superset', { parentId: id('/agent/2'), ...bySelectors('superset', 'k8s:ns:prod') }, ['C', 'D']],
  ['spiffeId and parentId', { spiffeId: id('/a'), parentId: id('/agent/1') }, ['A']],
  ['hint and downstream (none)', { hint: 'web', downstream: true }, []],
  ['owner and federatesWith and any', { owner: 'team-a', federatesWith: OTHER_TD, ...bySelectors('any', 'k8s:ns:prod') }, ['C']],
]

export function entryTests(ctx: () => SuiteContext): void {
  async function createDataset(): Promise<void> {
    for (const [label, fields] of Object.entries(DATASET)) await ctx().store.entries.create(newEntry({ id: label, ...fields }))
  }

  describe('entries: create and get', () => {
    it('stores every field; get returns what create returned', async () => {
      const { store, clock } = ctx()
      const input = fullEntry(clock)
      const created = await store.entries.create(input)
      expect(entryView(created)).toEqual(expectedView(input, { id: 'entry-full', revisionNumber: 0, createdAt: clock.now() }))
      expect(entryView((await store.entries.get('entry-full'))!)).toEqual(entryView(created))
    })

    it('stamps createdAt with the store clock', async () => {
      const { store, clock } = ctx()
      const at = clock.advance(12_345)
      const created = await store.entries.create(newEntry())
      expect(created.createdAt.toISOString()).toBe(at.toISOString())
      expect((await store.entries.get(created.id))!.createdAt.toISOString()).toBe(at.toISOString())
    })

    it('picks a new UUID when no id or an empty id is given', async () => {
      const { store } = ctx()
      const a = await store.entries.create(newEntry({ spiffeId: id('/one') }))
      const b = await store.entries.create(newEntry({ spiffeId: id('/two'), id: '' }))
      expect(a.id).toMatch(UUID)
      expect(b.id).toMatch(UUID)
      expect(a.id).not.toBe(b.id)
      expect((await store.entries.get(a.id))?.spiffeId.toString()).toBe('spiffe://example.org/one')
    })

    it('stores selectors sorted by type then value, without duplicates', async () => {
      const { store } = ctx()
      const created = await store.entries.create(
        newEntry({ selectors: sels('unix:uid:2', 'docker:label:b', 'unix:gid:9', 'unix:uid:2', 'docker:label:a') }),
      )
      const want = ['docker:label:a', 'docker:label:b', 'unix:gid:9', 'unix:uid:2']
      expect(created.selectors.map(String)).toEqual(want)
      expect((await store.entries.get(created.id))!.selectors.map(String)).toEqual(want)
    })

    it('keeps selector values with colons, spaces and unicode intact', async () => {
      const { store } = ctx()
      const selectors = sels('docker:label:com.example/app:web server', 'k8s:pod-name:ünïcødé', 'unix:path:/usr/bin/a"b')
      const created = await store.entries.create(newEntry({ selectors }))
      expect((await store.entries.get(created.id))!.selectors.map(String)).toEqual(sortSelectors(selectors).map(String))
    })

    it('returns undefined for an unknown id', async () => {
      expect(await ctx().store.entries.get('no-such-entry')).toBeUndefined()
    })

    it('rejects a taken id with AlreadyExistsError naming it', async () => {
      const { store } = ctx()
      await store.entries.create(newEntry({ id: 'taken' }))
      await expectError(store.entries.create(newEntry({ id: 'taken', spiffeId: id('/other') })), 'ALREADY_EXISTS', /"taken"/)
    })

    it('rejects a second entry with the same spiffeId, parentId and selectors (in any order), naming the first', async () => {
      const { store } = ctx()
      const first = await store.entries.create(newEntry({ selectors: sels('unix:uid:1', 'unix:gid:2') }))
      const err = await expectError(
        store.entries.create(newEntry({ selectors: sels('unix:gid:2', 'unix:uid:1'), hint: 'different', x509SvidTtlSeconds: 60 })),
        'ALREADY_EXISTS',
        /same spiffe_id, parent_id and selectors/,
      )
      expect(err.message).toContain(first.id)
      expect(err.message).not.toMatch(/SQL|INSERT|UNIQUE|constraint/i)
      expect(await store.entries.count()).toBe(1)
    })

    it.each<[string, Partial<NewRegistrationEntry>]>([
      ['another spiffeId', { spiffeId: id('/workload/b') }],
      ['another parentId', { parentId: id('/agent/b') }],
      ['one selector more', { selectors: sels('unix:uid:1000', 'unix:gid:1') }],
      ['one selector less', { selectors: [] }],
      ['another selector value', { selectors: sels('unix:uid:1001') }],
      ['another selector type', { selectors: sels('docker:uid:1000') }],
    ])('accepts an entry that differs by %s', async (_, fields) => {
      const { store } = ctx()
      await store.entries.create(newEntry())
      await store.entries.create(newEntry(fields))
      expect(await store.entries.count()).toBe(2)
    })

    it('returns fresh values: mutating what was passed in or returned changes nothing stored', async () => {
      const { store, clock } = ctx()
      const expiresAt = new Date(clock.now().getTime() + 60_000)
      const dnsNames = ['a.example']
      const created = await store.entries.create(newEntry({ expiresAt, dnsNames }))
      const want = entryView(created)
      expiresAt.setTime(0)
      dnsNames.push('b.example')
      created.createdAt.setTime(0)
      created.expiresAt!.setTime(0)
      const got = (await store.entries.get(created.id))!
      expect(entryView(got)).toEqual(want)
      got.expiresAt!.setTime(1)
      expect((await store.entries.get(created.id))!.expiresAt!.toISOString()).toBe(want.expiresAt)
    })
  })

  describe('entries: update', () => {
    it('replaces every mutable field, increments the revision, keeps id and createdAt', async () => {
      const { store, clock } = ctx()
      const created = await store.entries.create(newEntry({ id: 'e1' }))
      clock.advance(60_000)
      const changed = fullEntry(clock)
      const updated = await store.entries.update({ ...changed, id: 'e1' })
      const want = expectedView(changed, { id: 'e1', revisionNumber: 1, createdAt: created.createdAt })
      expect(entryView(updated)).toEqual(want)
      expect(entryView((await store.entries.get('e1'))!)).toEqual(want)
    })

    it('increments the revision on every update, even one that changes nothing', async () => {
      const { store } = ctx()
      const created = await store.entries.create(newEntry())
      const first = await store.entries.update(created)
      const second = await store.entries.update(first)
      expect([created.revisionNumber, first.revisionNumber, second.revisionNumber]).toEqual([0, 1, 2])
      expect((await store.entries.get(created.id))!.revisionNumber).toBe(2)
    })

    it('clears optional fields when the update leaves them empty', async () => {
      const { store, clock } = ctx()
      const created = await store.entries.create(fullEntry(clock))
      const cleared = await store.entries.update({ ...newEntry({ spiffeId: created.spiffeId, parentId: created.parentId }), id: created.id })
      const got = (await store.entries.get(created.id))!
      expect(entryView(got)).toEqual(entryView(cleared))
      expect(got.expiresAt).toBeUndefined()
      expect([got.dnsNames, got.federatesWith, got.hint, got.owner]).toEqual([[], [], '', ''])
    })

    it('throws NotFoundError for an unknown id', async () => {
      await expectError(ctx().store.entries.update({ ...newEntry(), id: 'missing' }), 'NOT_FOUND', /"missing"/)
    })

    it('throws AlreadyExistsError when the change would duplicate another entry, and changes nothing', async () => {
      const { store } = ctx()
      const a = await store.entries.create(newEntry({ spiffeId: id('/a') }))
      const b = await store.entries.create(newEntry({ spiffeId: id('/b') }))
      const err = await expectError(store.entries.update({ ...b, spiffeId: id('/a') }), 'ALREADY_EXISTS', /same spiffe_id, parent_id and selectors/)
      expect(err.message).toContain(a.id)
      expect(entryView((await store.entries.get(b.id))!)).toEqual(entryView(b))
    })

    it('moves the entry to its new selectors for filters', async () => {
      const { store } = ctx()
      const created = await store.entries.create(newEntry({ selectors: sels('unix:uid:1') }))
      await store.entries.update({ ...created, selectors: sels('unix:uid:2', 'unix:gid:3') })
      const old = await store.entries.list(bySelectors('superset', 'unix:uid:1'))
      const now = await store.entries.list(bySelectors('exact', 'unix:gid:3', 'unix:uid:2'))
      expect(old.items).toEqual([])
      expect(now.items.map((e) => e.id)).toEqual([created.id])
    })

    it('frees the old identity: another entry may take it afterwards', async () => {
      const { store } = ctx()
      const created = await store.entries.create(newEntry())
      await store.entries.update({ ...created, spiffeId: id('/moved') })
      await store.entries.create(newEntry())
      expect(await store.entries.count()).toBe(2)
    })
  })

  describe('entries: delete and prune', () => {
    it('delete returns the entry and removes it; a second delete throws NotFoundError', async () => {
      const { store, clock } = ctx()
      const created = await store.entries.create(fullEntry(clock))
      expect(entryView(await store.entries.delete(created.id))).toEqual(entryView(created))
      expect(await store.entries.get(created.id)).toBeUndefined()
      expect(await store.entries.count()).toBe(0)
      await expectError(store.entries.delete(created.id), 'NOT_FOUND', /entry-full/)
    })

    it('delete frees the identity and the id for a new entry', async () => {
      const { store } = ctx()
      const created = await store.entries.create(newEntry({ id: 'reused' }))
      await store.entries.delete(created.id)
      const again = await store.entries.create(newEntry({ id: 'reused' }))
      expect(again.revisionNumber).toBe(0)
      expect((await store.entries.list(bySelectors('exact', 'unix:uid:1000'))).items.map((e) => e.id)).toEqual(['reused'])
    })

    it('pruneExpired removes entries whose expiresAt is before the instant and keeps the rest', async () => {
      const { store, clock } = ctx()
      const t = clock.now().getTime()
      await store.entries.create(newEntry({ id: 'expired', spiffeId: id('/1'), expiresAt: new Date(t - 1) }))
      await store.entries.create(newEntry({ id: 'at-instant', spiffeId: id('/2'), expiresAt: new Date(t) }))
      await store.entries.create(newEntry({ id: 'later', spiffeId: id('/3'), expiresAt: new Date(t + 1) }))
      await store.entries.create(newEntry({ id: 'never', spiffeId: id('/4') }))
      expect(await store.entries.pruneExpired(new Date(t))).toBe(1)
      expect((await store.entries.list()).items.map((e) => e.id)).toEqual(['at-instant', 'later', 'never'])
      expect(await store.entries.pruneExpired(new Date(t))).toBe(0)
      expect(await store.entries.pruneExpired(new Date(t + 10))).toBe(2)
      expect((await store.entries.list()).items.map((e) => e.id)).toEqual(['never'])
    })
  })

  describe('entries: list and count', () => {
    it.each(FILTER_CASES)('filter %s', async (_, filter, want) => {
      await createDataset()
      const { store } = ctx()
      expect((await store.entries.list(filter)).items.map((e) => e.id)).toEqual(want)
      expect(await store.entries.count(filter)).toBe(want.length)
    })

    it('lists in creation order with full records', async () => {
      const { store, clock } = ctx()
      const full = await store.entries.create(fullEntry(clock))
      const plain = await store.entries.create(newEntry({ id: '0-sorts-first' }))
      const listed = (await store.entries.list()).items
      expect(listed.map(entryView)).toEqual([entryView(full), entryView(plain)])
    })

    it('returns an empty last page for an empty store', async () => {
      const { store } = ctx()
      expect(await store.entries.list()).toEqual({ items: [] })
      expect(await store.entries.list(undefined, { pageSize: 10 })).toEqual({ items: [] })
      expect(await store.entries.count()).toBe(0)
    })

    it.each([1, 2, 3, 6, 7, 50])('pages of %i visit every entry once, in order, the last without a token', async (pageSize) => {
      const { store } = ctx()
      const ids: string[] = []
      for (let i = 0; i < 7; i++) ids.push((await store.entries.create(newEntry({ spiffeId: id(`/w/${i}`) }))).id)
      const pages = await allPages((page) => store.entries.list(undefined, page), pageSize)
      expect(pages.flat().map((e) => e.id)).toEqual(ids)
      for (const page of pages.slice(0, -1)) expect(page).toHaveLength(pageSize)
      expect(pages).toHaveLength(Math.ceil(7 / pageSize))
    })

    it('pages through a filtered listing', async () => {
      await createDataset()
      const { store } = ctx()
      const filter = bySelectors('superset', 'unix:uid:1')
      const pages = await allPages((page) => store.entries.list(filter, page), 2)
      expect(pages.map((p) => p.map((e) => e.id))).toEqual([['A', 'B'], ['D']])
    })

    it('pageSize 0 lists everything without a token', async () => {
      await createDataset()
      const page = await ctx().store.entries.list(undefined, { pageSize: 0 })
      expect(page.items.map((e) => e.id)).toEqual(ALL)
      expect(page.nextPageToken).toBeUndefined()
    })

    it('a page token stays valid when its entry is deleted, and later entries appear on later pages', async () => {
      const { store } = ctx()
      for (const n of ['1', '2', '3']) await store.entries.create(newEntry({ id: n, spiffeId: id(`/${n}`) }))
      const first = await store.entries.list(undefined, { pageSize: 2 })
      expect(first.items.map((e) => e.id)).toEqual(['1', '2'])
      await store.entries.delete('2')
      await store.entries.create(newEntry({ id: '0', spiffeId: id('/0') }))
      const second = await store.entries.list(undefined, { pageSize: 2, pageToken: first.nextPageToken })
      expect(second.items.map((e) => e.id)).toEqual(['3', '0'])
      expect(second.nextPageToken).toBeUndefined()
    })

    it('rejects a page token it did not make with InvalidArgumentError', async () => {
      await expectError(ctx().store.entries.list(undefined, { pageToken: 'not-a-token', pageSize: 2 }), 'INVALID_ARGUMENT')
    })
  })
}
