import { describe, expect, it } from 'vitest'
import type { NodeFilter } from '../../../plugins/data-store/types.js'
import { allPages, expectError, id, newNode, nodeView, sels, type NewNode, type SuiteContext } from './fixtures.js'

const T = Date.UTC(2030, 0, 1)

/** Agents labelled by the last path segment of their SPIFFE ID. */
const DATASET: NewNode[] = [
  newNode({ spiffeId: id('/agent/n1'), attestationType: 'join_token', certNotAfter: new Date(T + 1000) }),
  newNode({
    spiffeId: id('/agent/n2'),
    attestationType: 'x509pop',
    selectors: sels('x509pop:subject:cn:n2', 'x509pop:ca:fingerprint:ab'),
    certNotAfter: new Date(T + 2000),
    canReattest: true,
  }),
  newNode({
    spiffeId: id('/agent/n3'),
    attestationType: 'x509pop',
    selectors: sels('x509pop:ca:fingerprint:ab'),
    certNotAfter: new Date(T + 3000),
    banned: true,
  }),
  newNode({ spiffeId: id('/agent/n4'), attestationType: 'join_token', banned: true, certNotAfter: new Date(T + 500) }),
]

const FILTER_CASES: [string, NodeFilter, string[]][] = [
  ['no filter', {}, ['n1', 'n2', 'n3', 'n4']],
  ['attestationType', { attestationType: 'x509pop' }, ['n2', 'n3']],
  ['banned', { banned: true }, ['n3', 'n4']],
  ['not banned', { banned: false }, ['n1', 'n2']],
  ['selectors: one', { selectors: sels('x509pop:ca:fingerprint:ab') }, ['n2', 'n3']],
  ['selectors: all of two', { selectors: sels('x509pop:ca:fingerprint:ab', 'x509pop:subject:cn:n2') }, ['n2']],
  ['selectors: none has it', { selectors: sels('x509pop:subject:cn:n9') }, []],
  ['selectors: empty', { selectors: [] }, ['n1', 'n2', 'n3', 'n4']],
  ['expiresBefore (strictly)', { expiresBefore: new Date(T + 2000) }, ['n1', 'n4']],
  ['attestationType and banned', { attestationType: 'x509pop', banned: false }, ['n2']],
  ['banned and expiresBefore', { banned: true, expiresBefore: new Date(T + 1000) }, ['n4']],
]

const label = (spiffeId: { toString(): string }): string => spiffeId.toString().split('/').pop()!

export function nodeTests(ctx: () => SuiteContext): void {
  describe('nodes', () => {
    it('create stores every field, stamps createdAt; get returns it', async () => {
      const { store, clock } = ctx()
      const input = newNode({
        attestationType: 'x509pop',
        selectors: sels('x509pop:subject:cn:b', 'x509pop:ca:fingerprint:0f', 'x509pop:subject:cn:b'),
        certSerial: '7f00ff',
        certNotAfter: new Date(T + 3_600_000),
        newCertSerial: '7f0100',
        newCertNotAfter: new Date(T + 7_200_000),
        banned: true,
        canReattest: true,
        lastSeenAt: new Date(T - 5000),
      })
      const created = await store.nodes.create(input)
      const want = {
        ...nodeView({ ...input, createdAt: clock.now() }),
        selectors: ['x509pop:ca:fingerprint:0f', 'x509pop:subject:cn:b'],
      }
      expect(nodeView(created)).toEqual(want)
      expect(nodeView((await store.nodes.get(input.spiffeId))!)).toEqual(want)
    })

    it('get returns undefined for an unknown agent', async () => {
      expect(await ctx().store.nodes.get(id('/agent/none'))).toBeUndefined()
    })

    it('create rejects an agent that is already attested with AlreadyExistsError', async () => {
      const { store } = ctx()
      await store.nodes.create(newNode())
      await expectError(store.nodes.create(newNode({ attestationType: 'x509pop' })), 'ALREADY_EXISTS', /join_token\/abc/)
      expect((await store.nodes.get(newNode().spiffeId))!.attestationType).toBe('join_token')
    })

    it('update replaces every field but spiffeId and createdAt', async () => {
      const { store, clock } = ctx()
      const created = await store.nodes.create(newNode({ selectors: sels('x509pop:ca:fingerprint:aa') }))
      clock.advance(10_000)
      const change = newNode({
        attestationType: 'x509pop',
        selectors: sels('x509pop:ca:fingerprint:bb'),
        certSerial: 'beef',
        certNotAfter: new Date(T + 99_000),
        newCertSerial: 'cafe',
        newCertNotAfter: new Date(T + 199_000),
        banned: true,
        canReattest: true,
        lastSeenAt: clock.now(),
      })
      const want = nodeView({ ...change, createdAt: created.createdAt })
      expect(nodeView(await store.nodes.update(change))).toEqual(want)
      expect(nodeView((await store.nodes.get(change.spiffeId))!)).toEqual(want)
      expect(await store.nodes.count({ selectors: sels('x509pop:ca:fingerprint:aa') })).toBe(0)
      expect(await store.nodes.count({ selectors: sels('x509pop:ca:fingerprint:bb') })).toBe(1)
    })

    it('update clears the renewal fields when they are left empty', async () => {
      const { store } = ctx()
      await store.nodes.create(newNode({ newCertSerial: 'aa', newCertNotAfter: new Date(T), lastSeenAt: new Date(T) }))
      await store.nodes.update(newNode())
      const got = (await store.nodes.get(newNode().spiffeId))!
      expect([got.newCertSerial, got.newCertNotAfter, got.lastSeenAt]).toEqual(['', undefined, undefined])
    })

    it('update throws NotFoundError for an unknown agent', async () => {
      await expectError(ctx().store.nodes.update(newNode()), 'NOT_FOUND', /join_token\/abc/)
    })

    it('delete returns the node and removes it; a second delete throws NotFoundError', async () => {
      const { store } = ctx()
      const created = await store.nodes.create(newNode({ selectors: sels('x509pop:ca:fingerprint:aa') }))
      expect(nodeView(await store.nodes.delete(created.spiffeId))).toEqual(nodeView(created))
      expect(await store.nodes.get(created.spiffeId)).toBeUndefined()
      expect(await store.nodes.count({ selectors: sels('x509pop:ca:fingerprint:aa') })).toBe(0)
      await expectError(store.nodes.delete(created.spiffeId), 'NOT_FOUND')
      await store.nodes.create(newNode())
      expect(await store.nodes.count()).toBe(1)
    })

    it.each(FILTER_CASES)('filter %s', async (_, filter, want) => {
      const { store } = ctx()
      for (const node of DATASET) await store.nodes.create(node)
      expect((await store.nodes.list(filter)).items.map((n) => label(n.spiffeId))).toEqual(want)
      expect(await store.nodes.count(filter)).toBe(want.length)
    })

    it.each([1, 3, 4])('pages of %i visit every node once, in creation order', async (pageSize) => {
      const { store } = ctx()
      for (const node of DATASET) await store.nodes.create(node)
      const pages = await allPages((page) => store.nodes.list(undefined, page), pageSize)
      expect(pages.flat().map((n) => label(n.spiffeId))).toEqual(['n1', 'n2', 'n3', 'n4'])
      expect(pages).toHaveLength(Math.ceil(4 / pageSize))
    })

    it('a node page token stays valid when its node is deleted; a bad token is InvalidArgumentError', async () => {
      const { store } = ctx()
      for (const node of DATASET) await store.nodes.create(node)
      const first = await store.nodes.list({ banned: false }, { pageSize: 1 })
      await store.nodes.delete(first.items[0]!.spiffeId)
      const second = await store.nodes.list({ banned: false }, { pageSize: 1, pageToken: first.nextPageToken })
      expect(second.items.map((n) => label(n.spiffeId))).toEqual(['n2'])
      expect(second.nextPageToken).toBeUndefined()
      await expectError(store.nodes.list(undefined, { pageToken: 'not-a-token', pageSize: 1 }), 'INVALID_ARGUMENT')
    })
  })
}
