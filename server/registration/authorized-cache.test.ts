import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../common/logger.js'
import { IN_MEMORY, openSqliteDataStore } from '../../plugins/data-store/sqlite/index.js'
import type { AttestedNode, ChangeEvent, DataStore, NewRegistrationEntry, RegistrationEntry } from '../../plugins/data-store/types.js'
import { Bundle, parseSelector, parseSpiffeId, parseTrustDomain, type SpiffeId } from '../../spiffe/index.js'
import { MemoryDataStore } from '../../test/fakes/memory-data-store.js'
import { buildEntry } from '../../test/fixtures/entries.js'
import { AuthorizedEntryCache, type AuthorizedEntryCacheOptions, type CacheChange } from './authorized-cache.js'

const td = parseTrustDomain('example.org')
const SERVER = 'spiffe://example.org/steeple/server'
const AGENT_1 = parseSpiffeId('spiffe://example.org/steeple/agent/x509pop/one')
const AGENT_2 = parseSpiffeId('spiffe://example.org/steeple/agent/x509pop/two')

function newEntry(spiffeId: string, parentId: string, selectors: string[] = ['unix:uid:1000'], expiresAt?: Date): NewRegistrationEntry {
  return buildEntry({
    spiffeId: parseSpiffeId(spiffeId.startsWith('spiffe://') ? spiffeId : `spiffe://example.org/${spiffeId}`),
    parentId: parseSpiffeId(parentId.startsWith('spiffe://') ? parentId : `spiffe://example.org/${parentId}`),
    selectors: selectors.map(parseSelector),
    expiresAt,
  })
}

function newNode(id: SpiffeId, selectors: string[], banned = false): Omit<AttestedNode, 'createdAt'> {
  return {
    spiffeId: id,
    attestationType: 'x509pop',
    selectors: selectors.map(parseSelector),
    certSerial: '01',
    certNotAfter: new Date('2031-01-01T00:00:00Z'),
    newCertSerial: '',
    newCertNotAfter: undefined,
    banned,
    canReattest: true,
    lastSeenAt: undefined,
  }
}

function paths(entries: readonly RegistrationEntry[]): string[] {
  return entries.map((e) => e.spiffeId.path).sort()
}

function agentNames(change: CacheChange): string[] {
  return change.agentIds.map((id) => id.path.split('/').pop()!).sort()
}

/** The cache reads through the DataStore interface only: every implementation belongs here. */
const STORES: [string, (clock: () => Date) => DataStore][] = [
  ['memory fake', (clock) => new MemoryDataStore({ clock })],
  ['sqlite :memory:', (clock) => openSqliteDataStore({ path: IN_MEMORY, clock })],
]

describe.each(STORES)('AuthorizedEntryCache on %s', (_name, makeStore) => {
  let now: Date
  let store: DataStore
  const clock = () => now

  function load(extra: Partial<AuthorizedEntryCacheOptions> = {}): Promise<AuthorizedEntryCache> {
    return AuthorizedEntryCache.load({ store, trustDomain: td, clock, log: silentLogger(), ...extra })
  }

  async function create(spiffeId: string, parentId: string, selectors?: string[], expiresAt?: Date): Promise<RegistrationEntry> {
    return store.entries.create(newEntry(spiffeId, parentId, selectors, expiresAt))
  }

  beforeEach(async () => {
    now = new Date('2030-01-01T00:00:00Z')
    store = makeStore(clock)
    await store.nodes.create(newNode(AGENT_1, ['x509pop:ca:fingerprint:aa', 'x509pop:subject:cn:one']))
    await store.nodes.create(newNode(AGENT_2, ['x509pop:ca:fingerprint:aa', 'x509pop:subject:cn:two']))
  })

  afterEach(async () => {
    await store.close()
  })

  it('gives an agent the entries whose parent is its own ID, and no other agent', async () => {
    const web = await create('web', AGENT_1.toString())
    const db = await create('db', AGENT_2.toString())
    const cache = await load()
    expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/web'])
    expect(paths(cache.authorizedEntries(AGENT_2))).toEqual(['/db'])
    expect(cache.isAuthorized(AGENT_1, web.id)).toBe(true)
    expect(cache.isAuthorized(AGENT_1, db.id)).toBe(false)
    expect(cache.authorizedEntry(AGENT_1, web.id)?.id).toBe(web.id)
    expect(cache.isAuthorized(AGENT_1, 'no-such-entry')).toBe(false)
  })

  it('aliases an agent by a node entry only when it has all of the entry selectors', async () => {
    await create('nodes/one-only', SERVER, ['x509pop:ca:fingerprint:aa', 'x509pop:subject:cn:one'])
    await create('nodes/all', SERVER, ['x509pop:ca:fingerprint:aa'])
    await create('nodes/none', SERVER, ['x509pop:ca:fingerprint:aa', 'x509pop:subject:cn:three'])
    const onlyOne = await create('svc-one', 'nodes/one-only')
    const everyone = await create('svc-all', 'nodes/all')
    const nobody = await create('svc-none', 'nodes/none')
    const cache = await load()
    expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/svc-all', '/svc-one'])
    expect(paths(cache.authorizedEntries(AGENT_2))).toEqual(['/svc-all'])
    expect(cache.isAuthorized(AGENT_1, onlyOne.id)).toBe(true)
    expect(cache.isAuthorized(AGENT_2, onlyOne.id)).toBe(false)
    expect(cache.isAuthorized(AGENT_2, everyone.id)).toBe(true)
    expect(cache.isAuthorized(AGENT_1, nobody.id)).toBe(false)
  })

  it('never hands out the node entries themselves', async () => {
    const alias = await create('nodes/all', SERVER, ['x509pop:ca:fingerprint:aa'])
    const cache = await load()
    expect(cache.authorizedEntries(AGENT_1)).toEqual([])
    expect(cache.isAuthorized(AGENT_1, alias.id)).toBe(false)
  })

  it('follows descendants: an entry ID can be the parent of further entries', async () => {
    await create('downstream', AGENT_1.toString())
    await create('downstream/child', 'downstream')
    const grandchild = await create('downstream/child/leaf', 'downstream/child')
    await create('nodes/all', SERVER, ['x509pop:ca:fingerprint:aa'])
    await create('via-alias', 'nodes/all')
    await create('via-alias/child', 'via-alias')
    const cache = await load()
    expect(paths(cache.authorizedEntries(AGENT_1))).toEqual([
      '/downstream',
      '/downstream/child',
      '/downstream/child/leaf',
      '/via-alias',
      '/via-alias/child',
    ])
    expect(paths(cache.authorizedEntries(AGENT_2))).toEqual(['/via-alias', '/via-alias/child'])
    expect(cache.isAuthorized(AGENT_1, grandchild.id)).toBe(true)
    expect(cache.isAuthorized(AGENT_2, grandchild.id)).toBe(false)
  })

  it('terminates on cycles and returns each entry once', async () => {
    await create('x', AGENT_1.toString())
    await create('y', 'x')
    const back = await create('x', 'y')
    // A cycle that no agent reaches.
    const island = await create('p', 'q')
    await create('q', 'p')
    const cache = await load()
    const got = cache.authorizedEntries(AGENT_1)
    expect(paths(got)).toEqual(['/x', '/x', '/y'])
    expect(new Set(got.map((e) => e.id)).size).toBe(3)
    expect(cache.isAuthorized(AGENT_1, back.id)).toBe(true)
    expect(cache.isAuthorized(AGENT_1, island.id)).toBe(false)
    expect(cache.isAuthorized(AGENT_2, back.id)).toBe(false)
  })

  it('excludes expired entries and everything only reachable through them', async () => {
    const soon = new Date('2030-01-01T00:01:00Z')
    const parent = await create('parent', AGENT_1.toString(), undefined, soon)
    const child = await create('parent/child', 'parent')
    await create('forever', AGENT_1.toString())
    await create('nodes/all', SERVER, ['x509pop:ca:fingerprint:aa'], soon)
    await create('via-alias', 'nodes/all')
    const cache = await load()
    now = soon
    expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/forever', '/parent', '/parent/child', '/via-alias'])
    now = new Date(soon.getTime() + 1)
    expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/forever'])
    expect(cache.isAuthorized(AGENT_1, parent.id)).toBe(false)
    expect(cache.isAuthorized(AGENT_1, child.id)).toBe(false)
  })

  it('still authorizes a descendant reachable through another, live path', async () => {
    await create('shared', AGENT_1.toString(), ['unix:uid:1'], new Date('2030-01-01T00:00:01Z'))
    await create('shared', AGENT_1.toString(), ['unix:uid:2'])
    const child = await create('shared/child', 'shared')
    const cache = await load()
    now = new Date('2030-06-01T00:00:00Z')
    expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/shared', '/shared/child'])
    expect(cache.isAuthorized(AGENT_1, child.id)).toBe(true)
  })

  it('gives nothing to unknown, banned and evicted agents', async () => {
    const web = await create('web', AGENT_1.toString())
    await create('db', AGENT_2.toString())
    const cache = await load()
    expect(cache.authorizedEntries(parseSpiffeId('spiffe://example.org/steeple/agent/x509pop/ghost'))).toEqual([])

    await store.nodes.update({ ...newNode(AGENT_2, []), banned: true })
    await store.nodes.delete(AGENT_1)
    const change = await cache.applyEvents()
    expect(agentNames(change)).toEqual(['one', 'two'])
    expect(cache.authorizedEntries(AGENT_1)).toEqual([])
    expect(cache.isAuthorized(AGENT_1, web.id)).toBe(false)
    expect(cache.authorizedEntries(AGENT_2)).toEqual([])
    expect(cache.node(AGENT_1)).toBeUndefined()
    expect(cache.node(AGENT_2)?.banned).toBe(true)
  })

  describe('change events', () => {
    it('shows a new entry only after applyEvents, and tells which agents are affected', async () => {
      const cache = await load()
      const changes: CacheChange[] = []
      cache.onChange((c) => changes.push(c))
      const web = await create('web', AGENT_1.toString())
      expect(cache.authorizedEntries(AGENT_1)).toEqual([])
      const change = await cache.applyEvents()
      expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/web'])
      expect(cache.isAuthorized(AGENT_1, web.id)).toBe(true)
      expect(agentNames(change)).toEqual(['one'])
      expect(changes).toEqual([change])
      expect(cache.lastEventId).toBe(await store.events.latestEventId())
    })

    it('reports the agents above a nested entry, through aliases too', async () => {
      await create('nodes/two', SERVER, ['x509pop:subject:cn:two'])
      await create('mid', 'nodes/two')
      const cache = await load()
      await create('mid/leaf', 'mid')
      expect(agentNames(await cache.applyEvents())).toEqual(['two'])
      expect(paths(cache.authorizedEntries(AGENT_2))).toEqual(['/mid', '/mid/leaf'])
    })

    it('reports the agents of both the old and the new parent when an entry moves', async () => {
      const moving = await create('moving', AGENT_1.toString())
      const cache = await load()
      await store.entries.update({ ...moving, parentId: AGENT_2 })
      expect(agentNames(await cache.applyEvents())).toEqual(['one', 'two'])
      expect(cache.authorizedEntries(AGENT_1)).toEqual([])
      expect(paths(cache.authorizedEntries(AGENT_2))).toEqual(['/moving'])
      expect(cache.authorizedEntries(AGENT_2)[0]!.revisionNumber).toBe(1)
    })

    it('reports the agents a node entry aliases when it is created, changed or deleted', async () => {
      await create('svc', 'nodes/group')
      const cache = await load()
      const alias = await create('nodes/group', SERVER, ['x509pop:subject:cn:one'])
      expect(agentNames(await cache.applyEvents())).toEqual(['one'])
      expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/svc'])

      await store.entries.update({ ...alias, selectors: [parseSelector('x509pop:subject:cn:two')] })
      expect(agentNames(await cache.applyEvents())).toEqual(['one', 'two'])
      expect(cache.authorizedEntries(AGENT_1)).toEqual([])
      expect(paths(cache.authorizedEntries(AGENT_2))).toEqual(['/svc'])

      await store.entries.delete(alias.id)
      expect(agentNames(await cache.applyEvents())).toEqual(['two'])
      expect(cache.authorizedEntries(AGENT_2)).toEqual([])
    })

    it('re-evaluates aliases when an agent’s node selectors change', async () => {
      await create('nodes/blue', SERVER, ['x509pop:san:blue'])
      await create('svc', 'nodes/blue')
      const cache = await load()
      expect(cache.authorizedEntries(AGENT_1)).toEqual([])
      await store.nodes.update(newNode(AGENT_1, ['x509pop:san:blue']))
      expect(agentNames(await cache.applyEvents())).toEqual(['one'])
      expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/svc'])
    })

    it('tells no agent about an entry none of them reaches', async () => {
      const cache = await load()
      const changes: CacheChange[] = []
      cache.onChange((c) => changes.push(c))
      await create('orphan', 'nowhere')
      expect((await cache.applyEvents()).agentIds).toEqual([])
      expect(changes).toEqual([])
      expect(cache.entryCount).toBe(1)
    })

    it('passes bundle changes on', async () => {
      const cache = await load()
      await store.bundles.set(new Bundle(parseTrustDomain('partner.net')))
      expect((await cache.applyEvents()).bundleTrustDomains).toEqual(['partner.net'])
    })

    it('reads only the changed records, never the whole store', async () => {
      for (let i = 0; i < 50; i++) await create(`w${i}`, AGENT_1.toString())
      const calls = { list: 0, get: 0 }
      const counting: Pick<DataStore, 'entries' | 'nodes' | 'events'> = {
        events: store.events,
        nodes: store.nodes,
        entries: {
          ...bind(store.entries),
          list: (f, p) => (calls.list++, store.entries.list(f, p)),
          get: (id) => (calls.get++, store.entries.get(id)),
        },
      }
      const cache = await load({ store: counting, pageSize: 20 })
      expect(calls.list).toBe(3)
      const changed = await create('changed', AGENT_1.toString())
      await store.entries.update({ ...changed, hint: 'h' })
      calls.list = 0
      await cache.applyEvents()
      expect(calls).toEqual({ list: 0, get: 1 })
      expect(cache.authorizedEntries(AGENT_1)).toHaveLength(51)
    })

    it('serializes concurrent calls; calls made while one waits share it', async () => {
      let release: () => void = () => {}
      let gate: Promise<void> | undefined
      let reading = 0
      const slow: Pick<DataStore, 'entries' | 'nodes' | 'events'> = {
        nodes: store.nodes,
        entries: store.entries,
        events: {
          ...bind(store.events),
          listSince: async (after, limit) => {
            reading++
            if (gate !== undefined) await gate
            return store.events.listSince(after, limit)
          },
        },
      }
      const cache = await load({ store: slow })
      let notified = 0
      cache.onChange(() => notified++)
      await create('web', AGENT_1.toString())
      gate = new Promise((resolve) => (release = resolve))
      const running = cache.applyEvents()
      expect(cache.applyEvents()).toBe(running)
      while (reading === 0) await new Promise((resolve) => setImmediate(resolve))
      // The first run has read nothing yet but has started: a write now needs a new run.
      await create('db', AGENT_1.toString())
      const next = cache.applyEvents()
      expect(next).not.toBe(running)
      expect(cache.applyEvents()).toBe(next)
      release()
      gate = undefined
      await Promise.all([running, next])
      expect(reading).toBe(2)
      expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/db', '/web'])
      expect(notified).toBe(1)
    })

    it('keeps working when a listener throws', async () => {
      const cache = await load()
      const seen: string[][] = []
      cache.onChange(() => {
        throw new Error('listener bug')
      })
      const unsubscribe = cache.onChange((c) => seen.push(agentNames(c)))
      await create('web', AGENT_1.toString())
      await cache.applyEvents()
      unsubscribe()
      await create('db', AGENT_2.toString())
      await cache.applyEvents()
      expect(seen).toEqual([['one']])
    })

    it('leaves the cache as it was when the store fails, and catches up later', async () => {
      let failing = true
      const flaky: Pick<DataStore, 'entries' | 'nodes' | 'events'> = {
        nodes: store.nodes,
        entries: store.entries,
        events: {
          ...bind(store.events),
          listSince: async (after, limit) => {
            if (failing) throw new Error('database is locked')
            return store.events.listSince(after, limit)
          },
        },
      }
      const cache = await load({ store: flaky })
      await create('web', AGENT_1.toString())
      await expect(cache.applyEvents()).rejects.toThrow('database is locked')
      expect(cache.authorizedEntries(AGENT_1)).toEqual([])
      failing = false
      await cache.applyEvents()
      expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/web'])
    })

    it('waits for an event ID that becomes visible after a higher one (a later commit)', async () => {
      const hidden = new Set<number>()
      const racy: Pick<DataStore, 'entries' | 'nodes' | 'events'> = {
        nodes: store.nodes,
        entries: store.entries,
        events: {
          ...bind(store.events),
          listSince: async (after, limit) =>
            (await store.events.listSince(after, limit)).filter((e: ChangeEvent) => !hidden.has(e.eventId)),
        },
      }
      const cache = await load({ store: racy })
      const base = await store.events.latestEventId()
      // Event base+1 belongs to a transaction that commits after base+2 becomes visible.
      hidden.add(base + 1)
      await create('late', AGENT_1.toString())
      await create('early', AGENT_1.toString())
      await cache.applyEvents()
      expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/early'])
      expect(cache.lastEventId).toBe(base)
      hidden.clear()
      let notified = 0
      cache.onChange(() => notified++)
      await cache.applyEvents()
      expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/early', '/late'])
      expect(cache.lastEventId).toBe(base + 2)
      expect(notified).toBe(1)
    })

    it('gives a missing event ID up after the timeout', async () => {
      const hidden = new Set<number>()
      const racy: Pick<DataStore, 'entries' | 'nodes' | 'events'> = {
        nodes: store.nodes,
        entries: store.entries,
        events: {
          ...bind(store.events),
          listSince: async (after, limit) =>
            (await store.events.listSince(after, limit)).filter((e: ChangeEvent) => !hidden.has(e.eventId)),
        },
      }
      const cache = await load({ store: racy, eventGapTimeoutMs: 0 })
      const base = await store.events.latestEventId()
      hidden.add(base + 1)
      await create('lost', AGENT_1.toString())
      await create('kept', AGENT_1.toString())
      await cache.applyEvents()
      expect(cache.lastEventId).toBe(base + 2)
      expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/kept'])
    })
  })

  it('reload rebuilds from the store and reports every agent', async () => {
    const cache = await load()
    await create('web', AGENT_1.toString())
    const changes: CacheChange[] = []
    cache.onChange((c) => changes.push(c))
    await cache.reload()
    expect(paths(cache.authorizedEntries(AGENT_1))).toEqual(['/web'])
    expect(agentNames(changes[0]!)).toEqual(['one', 'two'])
    expect(cache.lastEventId).toBe(await store.events.latestEventId())
    expect(cache.nodeCount).toBe(2)
  })
})

/** The object's methods bound to it, so a test can replace some and keep the rest. */
function bind<T extends object>(obj: T): T {
  const out: Record<string, unknown> = {}
  for (let proto = Object.getPrototypeOf(obj) as object | null; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const value = (obj as Record<string, unknown>)[name]
      if (name !== 'constructor' && typeof value === 'function' && !(name in out)) out[name] = (value as (...a: unknown[]) => unknown).bind(obj)
    }
  }
  return out as T
}
