import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { AuditEvent, AuditFilter, DataStore } from '../../../plugins/data-store/types.js'
import { Bundle } from '../../../spiffe/index.js'
import { expectError, id, newEntry, newNode, TD, type SuiteContext } from './fixtures.js'

const hashOf = (secret: string): string => createHash('sha256').update(secret).digest('hex')
const MINUTE = 60_000

function auditEvent(fields: Partial<AuditEvent>): AuditEvent {
  return { at: new Date(Date.UTC(2030, 0, 1)), action: 'svid.x509.sign', actor: 'server', subject: '', entryId: '', details: {}, ...fields }
}

export function joinTokenTests(ctx: () => SuiteContext): void {
  describe('join tokens', () => {
    it('create returns the token with createdAt from the clock; consume returns it once', async () => {
      const { store, clock } = ctx()
      const expiresAt = new Date(clock.now().getTime() + 10 * MINUTE)
      const created = await store.joinTokens.create({ tokenHash: hashOf('a'), expiresAt, aliasId: id('/node/web-1') })
      const want = { tokenHash: hashOf('a'), expiresAt: expiresAt.toISOString(), aliasId: 'spiffe://example.org/node/web-1', createdAt: clock.now().toISOString() }
      const view = (t: typeof created) => ({ ...t, expiresAt: t.expiresAt.toISOString(), aliasId: t.aliasId?.toString(), createdAt: t.createdAt.toISOString() })
      expect(view(created)).toEqual(want)
      const consumed = await store.joinTokens.consume(hashOf('a'), clock.now())
      expect(consumed && view(consumed)).toEqual(want)
      expect(await store.joinTokens.consume(hashOf('a'), clock.now())).toBeUndefined()
    })

    it('keeps an absent alias absent', async () => {
      const { store, clock } = ctx()
      await store.joinTokens.create({ tokenHash: hashOf('b'), expiresAt: clock.advance(MINUTE), aliasId: undefined })
      const consumed = await store.joinTokens.consume(hashOf('b'), new Date(0))
      expect(consumed?.tokenHash).toBe(hashOf('b'))
      expect(consumed?.aliasId).toBeUndefined()
    })

    it('consume of an unknown token gives undefined', async () => {
      expect(await ctx().store.joinTokens.consume(hashOf('never-made'), new Date())).toBeUndefined()
    })

    it('a token is valid until its expiresAt: 1 ms before yes, at expiresAt no', async () => {
      const { store, clock } = ctx()
      const expiresAt = new Date(clock.now().getTime() + MINUTE)
      await store.joinTokens.create({ tokenHash: hashOf('early'), expiresAt, aliasId: undefined })
      await store.joinTokens.create({ tokenHash: hashOf('late'), expiresAt, aliasId: undefined })
      expect(await store.joinTokens.consume(hashOf('early'), new Date(expiresAt.getTime() - 1))).toBeDefined()
      expect(await store.joinTokens.consume(hashOf('late'), expiresAt)).toBeUndefined()
    })

    it('consuming an expired token deletes it', async () => {
      const { store, clock } = ctx()
      const expiresAt = new Date(clock.now().getTime() + MINUTE)
      await store.joinTokens.create({ tokenHash: hashOf('c'), expiresAt, aliasId: undefined })
      expect(await store.joinTokens.consume(hashOf('c'), new Date(expiresAt.getTime() + 1))).toBeUndefined()
      // Asked again with a time at which it would still be valid: it is gone.
      expect(await store.joinTokens.consume(hashOf('c'), clock.now())).toBeUndefined()
    })

    it('create rejects a hash that exists with AlreadyExistsError, keeping the first token', async () => {
      const { store, clock } = ctx()
      await store.joinTokens.create({ tokenHash: hashOf('d'), expiresAt: clock.advance(MINUTE), aliasId: undefined })
      await expectError(store.joinTokens.create({ tokenHash: hashOf('d'), expiresAt: clock.advance(MINUTE), aliasId: id('/x') }), 'ALREADY_EXISTS')
      expect((await store.joinTokens.consume(hashOf('d'), new Date(0)))?.aliasId).toBeUndefined()
    })

    it('concurrent consumes of one token: exactly one gets it', async () => {
      const { store, clock } = ctx()
      await store.joinTokens.create({ tokenHash: hashOf('race'), expiresAt: clock.advance(MINUTE), aliasId: undefined })
      const results = await Promise.all(Array.from({ length: 16 }, () => store.joinTokens.consume(hashOf('race'), new Date(0))))
      expect(results.filter((r) => r !== undefined)).toHaveLength(1)
    })

    it('pruneExpired removes tokens whose expiresAt is before the instant', async () => {
      const { store, clock } = ctx()
      const t = clock.now().getTime()
      await store.joinTokens.create({ tokenHash: hashOf('1'), expiresAt: new Date(t - 1), aliasId: undefined })
      await store.joinTokens.create({ tokenHash: hashOf('2'), expiresAt: new Date(t), aliasId: undefined })
      await store.joinTokens.create({ tokenHash: hashOf('3'), expiresAt: new Date(t + MINUTE), aliasId: undefined })
      expect(await store.joinTokens.pruneExpired(new Date(t))).toBe(1)
      expect(await store.joinTokens.consume(hashOf('1'), new Date(0))).toBeUndefined()
      expect(await store.joinTokens.consume(hashOf('2'), new Date(0))).toBeDefined()
      expect(await store.joinTokens.consume(hashOf('3'), new Date(0))).toBeDefined()
    })
  })
}

export function auditTests(ctx: () => SuiteContext): void {
  const T = Date.UTC(2030, 0, 1)
  const at = (minutes: number): Date => new Date(T + minutes * MINUTE)
  /** Labelled by `details.n`. */
  const DATASET: AuditEvent[] = [
    auditEvent({ at: at(0), action: 'entry.create', actor: 'admin:uid:1000', subject: 'spiffe://example.org/a', entryId: 'e1', details: { n: 1 } }),
    auditEvent({ at: at(1), action: 'svid.x509.sign', actor: 'spiffe://example.org/agent/1', subject: 'spiffe://example.org/a', entryId: 'e1', details: { n: 2 } }),
    auditEvent({ at: at(2), action: 'svid.jwt.sign', actor: 'spiffe://example.org/agent/1', subject: 'spiffe://example.org/b', entryId: 'e2', details: { n: 3 } }),
    auditEvent({ at: at(3), action: 'agent.evict', actor: 'admin:uid:1000', subject: 'spiffe://example.org/agent/1', details: { n: 4 } }),
  ]
  const labels = (events: readonly AuditEvent[]): unknown[] => events.map((e) => e.details['n'])

  const FILTER_CASES: [string, AuditFilter, number[]][] = [
    ['none', {}, [4, 3, 2, 1]],
    ['since (inclusive)', { since: at(2) }, [4, 3]],
    ['subject', { subject: 'spiffe://example.org/a' }, [2, 1]],
    ['actor', { actor: 'admin:uid:1000' }, [4, 1]],
    ['action', { action: 'svid.jwt.sign' }, [3]],
    ['entryId', { entryId: 'e1' }, [2, 1]],
    ['entryId empty', { entryId: '' }, [4]],
    ['subject and since', { subject: 'spiffe://example.org/a', since: at(1) }, [2]],
    ['actor and action (none)', { actor: 'server', action: 'entry.create' }, []],
  ]

  describe('audit', () => {
    it('append then list returns every field, newest first', async () => {
      const { store } = ctx()
      const event = auditEvent({
        action: 'svid.x509.sign',
        actor: 'spiffe://example.org/agent/1',
        subject: 'spiffe://example.org/a',
        entryId: 'e1',
        details: { serial: '0a0b', expiresAt: '2030-01-01T01:00:00.000Z', audience: ['x', 'y'], nested: { ok: true, n: 1.5 }, none: null },
      })
      await store.audit.append([event])
      const [got] = await store.audit.list()
      expect({ ...got, at: got!.at.toISOString() }).toEqual({ ...event, at: event.at.toISOString() })
    })

    it.each(FILTER_CASES)('filter %s', async (_, filter, want) => {
      const { store } = ctx()
      await store.audit.append(DATASET)
      expect(labels(await store.audit.list(filter))).toEqual(want)
    })

    it('orders by time, not by append order; equal times newest-appended first', async () => {
      const { store } = ctx()
      await store.audit.append([auditEvent({ at: at(5), details: { n: 'late' } }), auditEvent({ at: at(1), details: { n: 'early' } })])
      await store.audit.append([auditEvent({ at: at(3), details: { n: 'tie-1' } })])
      await store.audit.append([auditEvent({ at: at(3), details: { n: 'tie-2' } })])
      expect(labels(await store.audit.list())).toEqual(['late', 'tie-2', 'tie-1', 'early'])
    })

    it('limit keeps the newest (0 = all)', async () => {
      const { store } = ctx()
      await store.audit.append(DATASET)
      expect(labels(await store.audit.list({}, 2))).toEqual([4, 3])
      expect(labels(await store.audit.list({ entryId: 'e1' }, 1))).toEqual([2])
      expect(labels(await store.audit.list({}, 0))).toEqual([4, 3, 2, 1])
    })

    it('appending nothing is allowed and adds nothing', async () => {
      const { store } = ctx()
      await store.audit.append([])
      expect(await store.audit.list()).toEqual([])
    })

    it('returns fresh details: mutating them changes nothing stored', async () => {
      const { store } = ctx()
      const details = { list: [1, 2] }
      await store.audit.append([auditEvent({ details })])
      details.list.push(3)
      const [got] = await store.audit.list()
      ;(got!.details['list'] as number[]).push(4)
      expect((await store.audit.list())[0]!.details).toEqual({ list: [1, 2] })
    })

    it('prune removes events before the instant', async () => {
      const { store } = ctx()
      await store.audit.append(DATASET)
      expect(await store.audit.prune(at(2))).toBe(2)
      expect(labels(await store.audit.list())).toEqual([4, 3])
      expect(await store.audit.prune(at(2))).toBe(0)
    })
  })
}

export function closeTests(ctx: () => SuiteContext): void {
  const calls: [string, (s: DataStore) => Promise<unknown>][] = [
    ['entries.create', (s) => s.entries.create(newEntry())],
    ['entries.get', (s) => s.entries.get('x')],
    ['entries.list', (s) => s.entries.list()],
    ['entries.count', (s) => s.entries.count()],
    ['entries.delete', (s) => s.entries.delete('x')],
    ['nodes.create', (s) => s.nodes.create(newNode())],
    ['nodes.get', (s) => s.nodes.get(id('/agent/x'))],
    ['nodes.list', (s) => s.nodes.list()],
    ['bundles.set', (s) => s.bundles.set(new Bundle(TD))],
    ['bundles.append', (s) => s.bundles.append(new Bundle(TD))],
    ['bundles.get', (s) => s.bundles.get(TD)],
    ['bundles.list', (s) => s.bundles.list()],
    ['joinTokens.create', (s) => s.joinTokens.create({ tokenHash: hashOf('x'), expiresAt: new Date(), aliasId: undefined })],
    ['joinTokens.consume', (s) => s.joinTokens.consume(hashOf('x'), new Date())],
    ['events.listSince', (s) => s.events.listSince(0)],
    ['events.latestEventId', (s) => s.events.latestEventId()],
    ['audit.append', (s) => s.audit.append([auditEvent({})])],
    ['audit.list', (s) => s.audit.list()],
    ['close', (s) => s.close()],
  ]

  describe('close', () => {
    it.each(calls)('after close, %s rejects with UnavailableError', async (_, call) => {
      const { store } = ctx()
      await store.close()
      await expectError(call(store), 'UNAVAILABLE')
    })
  })
}
