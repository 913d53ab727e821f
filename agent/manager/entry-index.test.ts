import { describe, expect, it } from 'vitest'
import { SelectorSet, parseSelector, parseSpiffeId } from '../../spiffe/index.js'
import { EntryIndex } from './entry-index.js'
import type { AgentEntry } from './types.js'

const T0 = Date.parse('2030-01-01T00:00:00Z')

function entry(id: string, selectors: readonly string[], createdAtMs = T0, revisionNumber = 1): AgentEntry {
  return {
    id,
    spiffeId: parseSpiffeId(`spiffe://example.org/workload/${encodeURIComponent(id)}`),
    selectors: selectors.map(parseSelector),
    federatesWith: [],
    hint: '',
    x509SvidTtlSeconds: 3600,
    jwtSvidTtlSeconds: 300,
    revisionNumber,
    createdAt: new Date(createdAtMs),
  }
}

function workload(...selectors: string[]): SelectorSet {
  return new SelectorSet(selectors.map(parseSelector))
}

function ids(entries: readonly AgentEntry[]): string[] {
  return entries.map((e) => e.id)
}

describe('EntryIndex', () => {
  it.each([
    { name: 'same selectors', entry: ['unix:uid:1000'], workload: ['unix:uid:1000'], matches: true },
    { name: 'entry selectors a subset', entry: ['unix:uid:1000'], workload: ['unix:uid:1000', 'unix:gid:50'], matches: true },
    {
      name: 'several entry selectors, all present',
      entry: ['unix:uid:1000', 'docker:label:app:web'],
      workload: ['docker:label:app:web', 'unix:gid:50', 'unix:uid:1000'],
      matches: true,
    },
    { name: 'one entry selector missing', entry: ['unix:uid:1000', 'unix:gid:50'], workload: ['unix:uid:1000'], matches: false },
    { name: 'disjoint', entry: ['unix:uid:1000'], workload: ['unix:uid:1001'], matches: false },
    { name: 'same value, other type', entry: ['k8s:uid:1000'], workload: ['unix:uid:1000'], matches: false },
    { name: 'value prefix only', entry: ['unix:uid:100'], workload: ['unix:uid:1000'], matches: false },
    { name: 'entry without selectors', entry: [], workload: ['unix:uid:1000'], matches: false },
    { name: 'entry without selectors, workload without selectors', entry: [], workload: [], matches: false },
    { name: 'workload without selectors', entry: ['unix:uid:1000'], workload: [], matches: false },
  ])('$name: matches is $matches', ({ entry: entrySelectors, workload: workloadSelectors, matches }) => {
    const index = new EntryIndex()
    index.set(entry('e1', entrySelectors))
    expect(ids(index.matching(workload(...workloadSelectors)))).toEqual(matches ? ['e1'] : [])
  })

  it('returns every matching entry once, and none that does not match', () => {
    const index = new EntryIndex()
    index.set(entry('both', ['unix:uid:1000', 'unix:gid:50'], T0 + 1))
    index.set(entry('uid', ['unix:uid:1000'], T0 + 2))
    index.set(entry('gid', ['unix:gid:50'], T0 + 3))
    index.set(entry('more', ['unix:uid:1000', 'unix:gid:50', 'unix:user:web'], T0 + 4))
    index.set(entry('other', ['unix:uid:0'], T0 + 5))
    index.set(entry('none', [], T0 + 6))
    expect(ids(index.matching(workload('unix:gid:50', 'unix:uid:1000')))).toEqual(['both', 'uid', 'gid'])
  })

  it('orders matches by creation time, then by id (code unit order), whatever the insertion order', () => {
    const index = new EntryIndex()
    const s = ['unix:uid:1000']
    for (const e of [
      entry('c', s, T0 + 2000),
      entry('b', s, T0 + 1000),
      entry('a', s, T0 + 3000),
      entry('z', s, T0),
      entry('B', s, T0 + 1000),
      entry('b2', s, T0 + 1000),
    ]) {
      index.set(e)
    }
    expect(ids(index.matching(workload('unix:uid:1000')))).toEqual(['z', 'B', 'b', 'b2', 'c', 'a'])
  })

  it('set() replacing an entry re-indexes its selectors: the old ones no longer match', () => {
    const index = new EntryIndex()
    const before = entry('e1', ['unix:uid:1000', 'unix:gid:50'])
    expect(index.set(before)).toBeUndefined()
    const after = entry('e1', ['unix:uid:2000'], T0, 2)
    expect(index.set(after)).toBe(before)
    expect(index.size).toBe(1)
    expect(index.get('e1')).toBe(after)
    expect(index.matching(workload('unix:uid:1000', 'unix:gid:50'))).toEqual([])
    expect(index.matching(workload('unix:gid:50'))).toEqual([])
    expect(index.matching(workload('unix:uid:2000'))).toEqual([after])
  })

  it('set() replacing an entry with one without selectors makes it match nothing', () => {
    const index = new EntryIndex()
    index.set(entry('e1', ['unix:uid:1000']))
    index.set(entry('e1', [], T0, 2))
    expect(index.matching(workload('unix:uid:1000'))).toEqual([])
    expect(index.size).toBe(1)
  })

  it('set() replacing an entry leaves other entries with the same selectors alone', () => {
    const index = new EntryIndex()
    index.set(entry('e1', ['unix:uid:1000']))
    index.set(entry('e2', ['unix:uid:1000'], T0 + 1))
    index.set(entry('e1', ['unix:uid:2000'], T0, 2))
    expect(ids(index.matching(workload('unix:uid:1000')))).toEqual(['e2'])
    expect(ids(index.matching(workload('unix:uid:1000', 'unix:uid:2000')))).toEqual(['e1', 'e2'])
  })

  it('delete() removes the entry from lookups and matches, and only that entry', () => {
    const index = new EntryIndex()
    const e1 = entry('e1', ['unix:uid:1000'])
    const e2 = entry('e2', ['unix:uid:1000', 'unix:gid:50'], T0 + 1)
    index.set(e1)
    index.set(e2)
    expect(index.delete('e1')).toBe(e1)
    expect(index.delete('e1')).toBeUndefined()
    expect(index.delete('never-there')).toBeUndefined()
    expect(index.get('e1')).toBeUndefined()
    expect(index.size).toBe(1)
    expect([...index.ids()]).toEqual(['e2'])
    expect([...index.values()]).toEqual([e2])
    expect(index.matching(workload('unix:uid:1000'))).toEqual([])
    expect(index.matching(workload('unix:uid:1000', 'unix:gid:50'))).toEqual([e2])
    // Set again after deletion: indexed afresh.
    index.set(e1)
    expect(ids(index.matching(workload('unix:uid:1000')))).toEqual(['e1'])
  })

  it('indexes an entry that repeats a selector, and forgets it fully on delete', () => {
    const index = new EntryIndex()
    index.set(entry('e1', ['unix:uid:1000', 'unix:uid:1000']))
    expect(ids(index.matching(workload('unix:uid:1000')))).toEqual(['e1'])
    index.delete('e1')
    expect(index.matching(workload('unix:uid:1000'))).toEqual([])
    expect(index.size).toBe(0)
  })

  it('holds thousands of entries and answers with just the matching ones', () => {
    const index = new EntryIndex()
    for (let i = 0; i < 5000; i++) index.set(entry(`e${String(i).padStart(4, '0')}`, [`unix:uid:${i}`, 'unix:gid:0'], T0 + i))
    expect(index.size).toBe(5000)
    expect(ids(index.matching(workload('unix:uid:4321', 'unix:gid:0')))).toEqual(['e4321'])
    expect(ids(index.matching(workload('unix:uid:7', 'unix:uid:3', 'unix:gid:0')))).toEqual(['e0003', 'e0007'])
    expect(index.matching(workload('unix:gid:0'))).toEqual([])
  })
})
