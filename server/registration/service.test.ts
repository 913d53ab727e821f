import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../../common/errors.js'
import { createLogger } from '../../common/logger.js'
import { IN_MEMORY, openSqliteDataStore } from '../../plugins/data-store/sqlite/index.js'
import type { DataStore, EntryStore } from '../../plugins/data-store/types.js'
import { parseTrustDomain } from '../../spiffe/index.js'
import { MemoryDataStore } from '../../test/fakes/memory-data-store.js'
import { RegistrationService, type EntryResult } from './service.js'
import type { EntryInput } from './validate.js'
import { CacheWakeup, withCacheWakeup } from '../store/cache-wakeup.js'

/**
 * Every DataStore the service is tested against: it depends on the interface only, so each
 * implementation belongs here.
 */
const STORES: [string, (clock: () => Date) => Promise<DataStore>][] = [
  ['memory fake', async (clock) => new MemoryDataStore({ clock })],
  ['sqlite :memory:', async (clock) => openSqliteDataStore({ path: IN_MEMORY, clock })],
]

const td = parseTrustDomain('example.org')
const ACTOR = 'admin:uid:1000'
const AGENT = 'spiffe://example.org/steeple/agent/join_token/abc'

function entryInput(path: string, extra: Partial<EntryInput> = {}): EntryInput {
  return { spiffe_id: `spiffe://example.org/${path}`, parent_id: AGENT, selectors: ['unix:uid:1000'], ...extra }
}

function ok(result: EntryResult | undefined) {
  if (result?.status !== 'ok') throw new Error(`expected ok, got ${result?.status === 'error' ? result.error.message : 'nothing'}`)
  return result.entry
}

function failed(result: EntryResult | undefined) {
  if (result?.status !== 'error') throw new Error('expected an error result')
  return result.error
}

describe.each(STORES)('RegistrationService on %s', (_name, makeStore) => {
  let now: Date
  let store: DataStore
  let service: RegistrationService
  let logLines: Record<string, unknown>[]
  let writes: number

  const clock = () => now

  beforeEach(async () => {
    now = new Date('2030-01-01T00:00:00Z')
    store = await makeStore(clock)
    logLines = []
    writes = 0
    // Every committed write wakes the entry cache through the store wrapper: count the wake-ups.
    const wakeup = new CacheWakeup(createLogger({ level: 'error', write: () => {} }))
    wakeup.attach({ applyEvents: async () => void writes++ })
    service = new RegistrationService({
      store: withCacheWakeup(store, wakeup),
      trustDomain: td,
      clock,
      log: createLogger({ level: 'debug', write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) }),
      maxX509SvidTtlSeconds: 86400,
    })
  })

  afterEach(async () => {
    await store.close()
  })

  /** What a refused item must leave untouched: entries, change events and the audit trail. */
  async function snapshot() {
    return {
      entries: await store.entries.count(),
      eventId: await store.events.latestEventId(),
      audit: (await store.audit.list()).length,
    }
  }

  describe('createEntries', () => {
    it('creates each valid item and reports each invalid one by index, writing nothing for it', async () => {
      const results = await service.createEntries(
        [entryInput('a'), entryInput('b', { selectors: [] }), entryInput('c', { x509_svid_ttl: 600 })],
        ACTOR,
      )
      expect(results.map((r) => [r.index, r.status])).toEqual([
        [0, 'ok'],
        [1, 'error'],
        [2, 'ok'],
      ])
      expect(failed(results[1])).toBeInstanceOf(InvalidArgumentError)
      expect(failed(results[1]).message).toBe('selectors: at least one selector is required')
      const c = ok(results[2])
      expect(c.x509SvidTtlSeconds).toBe(600)
      expect(c.revisionNumber).toBe(0)
      expect(c.createdAt.toISOString()).toBe(now.toISOString())
      expect(await store.entries.count()).toBe(2)
      expect(writes).toBe(2)
    })

    it('appends a change event for each created entry', async () => {
      const before = await store.events.latestEventId()
      const [a] = await service.createEntries([entryInput('a')], ACTOR)
      const events = await store.events.listSince(before)
      expect(events.map((e) => [e.kind, e.key])).toEqual([['entry', ok(a).id]])
    })

    it('records an audit event with actor, subject, entry ID and details', async () => {
      const [result] = await service.createEntries([entryInput('a', { selectors: ['unix:uid:1', 'unix:gid:2'] })], ACTOR)
      const entry = ok(result)
      const audit = await store.audit.list()
      expect(audit).toHaveLength(1)
      expect(audit[0]).toMatchObject({
        action: 'entry.create',
        actor: ACTOR,
        subject: 'spiffe://example.org/a',
        entryId: entry.id,
        details: { parentId: AGENT, selectors: ['unix:gid:2', 'unix:uid:1'], revisionNumber: 0 },
      })
      expect(audit[0]!.at.toISOString()).toBe(now.toISOString())
    })

    it('logs each write with the actor', async () => {
      const [result] = await service.createEntries([entryInput('a')], ACTOR)
      expect(logLines).toContainEqual(
        expect.objectContaining({ msg: 'Entry created', entryId: ok(result).id, spiffeId: 'spiffe://example.org/a', actor: ACTOR }),
      )
    })

    it('refuses an entry with the same spiffe_id, parent_id and selectors (in any order), writing nothing', async () => {
      ok((await service.createEntries([entryInput('a', { selectors: ['unix:uid:1', 'unix:gid:2'] })], ACTOR))[0])
      const before = await snapshot()
      const [dup] = await service.createEntries([entryInput('a', { selectors: ['unix:gid:2', 'unix:uid:1'] })], ACTOR)
      expect(failed(dup)).toBeInstanceOf(AlreadyExistsError)
      expect(await snapshot()).toEqual(before)
    })

    it('accepts the same spiffe_id under another parent or with other selectors', async () => {
      const results = await service.createEntries(
        [entryInput('a'), entryInput('a', { parent_id: 'spiffe://example.org/steeple/server' }), entryInput('a', { selectors: ['unix:uid:2'] })],
        ACTOR,
      )
      expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok'])
    })

    it('fails the second occurrence of a duplicate inside one batch', async () => {
      const results = await service.createEntries([entryInput('a'), entryInput('a')], ACTOR)
      expect(results[0]!.status).toBe('ok')
      expect(failed(results[1])).toBeInstanceOf(AlreadyExistsError)
      expect(await store.entries.count()).toBe(1)
    })

    it('keeps an operator-chosen id and refuses a taken one', async () => {
      const [first, second] = await service.createEntries([entryInput('a', { id: 'web' }), entryInput('b', { id: 'web' })], ACTOR)
      expect(ok(first).id).toBe('web')
      expect(failed(second)).toBeInstanceOf(AlreadyExistsError)
    })

    it('writes nothing at all for an invalid item', async () => {
      const before = await snapshot()
      const [result] = await service.createEntries([entryInput('a', { expires_at: '2029-01-01T00:00:00Z' })], ACTOR)
      expect(failed(result).message).toBe('expires_at: must not be in the past (2029-01-01T00:00:00.000Z)')
      expect(await snapshot()).toEqual(before)
      expect(writes).toBe(0)
    })

    it('bounds the X.509 TTL by its option', async () => {
      const [result] = await service.createEntries([entryInput('a', { x509_svid_ttl: 86401 })], ACTOR)
      expect(failed(result).message).toBe('x509_svid_ttl: must be between 0 and 86400 seconds (0 = the server default)')
    })

    it('returns [] for an empty batch', async () => {
      expect(await service.createEntries([], ACTOR)).toEqual([])
    })
  })

  describe('updateEntries', () => {
    it('replaces all fields, bumps the revision, keeps createdAt, and audits', async () => {
      const created = ok((await service.createEntries([entryInput('a', { hint: 'old', dns_names: ['a.example'] })], ACTOR))[0])
      now = new Date('2030-01-02T00:00:00Z')
      const [result] = await service.updateEntries([{ ...entryInput('a2'), id: created.id, hint: 'new' }], 'admin:uid:0')
      const updated = ok(result)
      expect(updated).toMatchObject({ id: created.id, hint: 'new', dnsNames: [], revisionNumber: 1 })
      expect(updated.spiffeId.toString()).toBe('spiffe://example.org/a2')
      expect(updated.createdAt.toISOString()).toBe(created.createdAt.toISOString())
      expect((await service.getEntry(created.id)).hint).toBe('new')
      const [audit] = await store.audit.list({ action: 'entry.update' })
      expect(audit).toMatchObject({ actor: 'admin:uid:0', subject: 'spiffe://example.org/a2', entryId: created.id })
      expect(audit!.details).toMatchObject({ revisionNumber: 1 })
    })

    it('reports a missing entry as NotFoundError and writes nothing', async () => {
      const before = await snapshot()
      const [result] = await service.updateEntries([{ ...entryInput('a'), id: 'missing' }], ACTOR)
      expect(failed(result)).toBeInstanceOf(NotFoundError)
      expect(await snapshot()).toEqual(before)
    })

    it('refuses an update that would duplicate another entry and leaves the entry as it was', async () => {
      const [a, b] = await service.createEntries([entryInput('a'), entryInput('b')], ACTOR)
      const before = await snapshot()
      const [result] = await service.updateEntries([{ ...entryInput('a'), id: ok(b).id }], ACTOR)
      expect(failed(result)).toBeInstanceOf(AlreadyExistsError)
      expect((await service.getEntry(ok(b).id)).spiffeId.toString()).toBe('spiffe://example.org/b')
      expect((await service.getEntry(ok(a).id)).revisionNumber).toBe(0)
      expect(await snapshot()).toEqual(before)
    })

    it('requires an id', async () => {
      const [result] = await service.updateEntries([entryInput('a')], ACTOR)
      expect(failed(result).message).toBe('id: is required to update an entry')
    })
  })

  describe('deleteEntries', () => {
    it('deletes by id, returns the deleted entries, audits and appends events', async () => {
      const [a] = await service.createEntries([entryInput('a')], ACTOR)
      const id = ok(a).id
      const eventBefore = await store.events.latestEventId()
      const results = await service.deleteEntries([id, 'missing', ''], ACTOR)
      expect(ok(results[0]).id).toBe(id)
      expect(failed(results[1])).toBeInstanceOf(NotFoundError)
      expect(failed(results[2]).message).toBe('id: is required')
      expect(await store.entries.get(id)).toBeUndefined()
      expect((await store.events.listSince(eventBefore)).map((e) => e.key)).toEqual([id])
      const [audit] = await store.audit.list({ action: 'entry.delete' })
      expect(audit).toMatchObject({ actor: ACTOR, subject: 'spiffe://example.org/a', entryId: id })
    })
  })

  describe('reads', () => {
    it('gets an entry by id, or throws NotFoundError / InvalidArgumentError', async () => {
      const [a] = await service.createEntries([entryInput('a')], ACTOR)
      expect((await service.getEntry(ok(a).id)).spiffeId.toString()).toBe('spiffe://example.org/a')
      await expect(service.getEntry('nope')).rejects.toThrow(NotFoundError)
      await expect(service.getEntry('')).rejects.toThrow(new InvalidArgumentError('id: is required'))
    })

    it('lists and counts with filters and pages', async () => {
      await service.createEntries(
        [
          entryInput('a', { selectors: ['unix:uid:1'] }),
          entryInput('b', { selectors: ['unix:uid:1', 'unix:gid:1'], hint: 'h' }),
          entryInput('c', { parent_id: 'spiffe://example.org/steeple/server', selectors: ['x509pop:ca:fingerprint:ab'] }),
        ],
        ACTOR,
      )
      expect(await service.countEntries()).toBe(3)
      expect(await service.countEntries({ parent_id: AGENT })).toBe(2)
      expect(await service.countEntries({ hint: 'h' })).toBe(1)
      const superset = await service.listEntries({ selectors: ['unix:uid:1'], match: 'superset' })
      expect(superset.items.map((e) => e.spiffeId.path).sort()).toEqual(['/a', '/b'])
      const exact = await service.listEntries({ selectors: ['unix:uid:1'] })
      expect(exact.items.map((e) => e.spiffeId.path)).toEqual(['/a'])

      const seen: string[] = []
      let page = await service.listEntries({}, { pageSize: 2 })
      seen.push(...page.items.map((e) => e.spiffeId.path))
      expect(page.items).toHaveLength(2)
      expect(page.nextPageToken).toBeDefined()
      page = await service.listEntries({}, { pageSize: 2, pageToken: page.nextPageToken! })
      seen.push(...page.items.map((e) => e.spiffeId.path))
      expect(page.nextPageToken).toBeUndefined()
      expect(seen.sort()).toEqual(['/a', '/b', '/c'])
    })

    it('refuses a bad filter or page size', async () => {
      await expect(service.listEntries({ match: 'most' })).rejects.toThrow(new InvalidArgumentError('match: must be one of exact, subset, superset, any'))
      await expect(service.listEntries({}, { pageSize: -1 })).rejects.toThrow(new InvalidArgumentError('page_size: must be a whole number, 0 or more'))
      await expect(service.countEntries({ spiffe_id: 'x' })).rejects.toThrow(InvalidArgumentError)
    })
  })

  describe('store failures', () => {
    function withEntries(entries: Partial<EntryStore>): Pick<DataStore, 'entries' | 'audit'> {
      const real = store.entries
      return {
        audit: store.audit,
        entries: {
          create: (e) => real.create(e),
          get: (id) => real.get(id),
          list: (f, p) => real.list(f, p),
          count: (f) => real.count(f),
          update: (e) => real.update(e),
          delete: (id) => real.delete(id),
          pruneExpired: (before) => real.pruneExpired(before),
          ...entries,
        },
      }
    }

    it('turns an unexpected store error into an internal item error and goes on with the batch', async () => {
      let calls = 0
      const flaky = new RegistrationService({
        store: withEntries({
          create: async (e) => {
            if (calls++ === 0) throw new Error('SQLITE_IOERR: disk I/O error')
            return store.entries.create(e)
          },
        }),
        trustDomain: td,
        clock,
        log: createLogger({ write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) }),
      })
      const results = await flaky.createEntries([entryInput('a'), entryInput('b')], ACTOR)
      const error = failed(results[0])
      expect(error.code).toBe('INTERNAL')
      expect(error.message).toBe('internal error')
      expect(ok(results[1]).spiffeId.path).toBe('/b')
      expect(logLines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'Entry request failed', err: 'SQLITE_IOERR: disk I/O error' }))
    })

    it('keeps a committed write when the audit append fails, and logs it as an error', async () => {
      const noAudit = new RegistrationService({
        store: {
          entries: store.entries,
          audit: {
            append: async () => {
              throw new Error('audit table locked')
            },
            list: (f, l) => store.audit.list(f, l),
            prune: (b) => store.audit.prune(b),
          },
        },
        trustDomain: td,
        clock,
        log: createLogger({ write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) }),
      })
      const [result] = await noAudit.createEntries([entryInput('a')], ACTOR)
      expect(await store.entries.get(ok(result).id)).toBeDefined()
      expect(logLines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'Audit events not recorded', entryIds: [ok(result).id] }))
    })
  })
})
