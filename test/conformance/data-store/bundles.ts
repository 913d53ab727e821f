import { describe, expect, it } from 'vitest'
import { Bundle } from '../../../spiffe/index.js'
import { bundleView, caCertificate, ecKey, expectError, FEDERATED_TD, OTHER_TD, spkiHex, TD, type SuiteContext } from './fixtures.js'

const HOUR = 3_600_000
const hex = (der: Uint8Array): string => Buffer.from(der).toString('hex')

export function bundleTests(ctx: () => SuiteContext): void {
  /** A bundle of TD with two CAs and two JWT keys. */
  function fullBundle(now: Date, sequenceNumber: bigint | undefined = 7n): Bundle {
    return new Bundle(TD, {
      x509Authorities: [caCertificate(now, 3600), caCertificate(now, 7200)],
      jwtAuthorities: [
        { kid: 'kid-a', publicKey: ecKey().publicKey },
        { kid: 'kid-b', publicKey: ecKey().publicKey },
      ],
      sequenceNumber,
      refreshHintSeconds: 300,
    })
  }

  describe('bundles: set, get, list, delete', () => {
    it('set stores X.509 DER bytes, JWT keys, sequence and refresh hint; get returns them', async () => {
      const { store, clock } = ctx()
      const bundle = fullBundle(clock.now())
      expect(bundleView(await store.bundles.set(bundle))).toEqual(bundleView(bundle))
      expect(bundleView((await store.bundles.get(TD))!)).toEqual(bundleView(bundle))
    })

    it('BUN-09: sequence numbers keep their full value beyond 2^53 and 2^64', async () => {
      const { store, clock } = ctx()
      for (const sequenceNumber of [2n ** 53n + 1n, 2n ** 63n + 5n, 2n ** 64n - 1n, 2n ** 70n]) {
        await store.bundles.set(fullBundle(clock.now(), sequenceNumber))
        expect((await store.bundles.get(TD))!.sequenceNumber).toBe(sequenceNumber)
      }
    })

    it('keeps an absent sequence number and refresh hint absent, and an empty bundle empty', async () => {
      const { store } = ctx()
      await store.bundles.set(new Bundle(TD))
      const got = (await store.bundles.get(TD))!
      expect(bundleView(got)).toEqual(bundleView(new Bundle(TD)))
      expect(got.sequenceNumber).toBeUndefined()
      expect(got.refreshHintSeconds).toBeUndefined()
    })

    it('set replaces the whole bundle', async () => {
      const { store, clock } = ctx()
      await store.bundles.set(fullBundle(clock.now()))
      const replacement = new Bundle(TD, { x509Authorities: [caCertificate(clock.now(), 60)], sequenceNumber: 8n })
      await store.bundles.set(replacement)
      expect(bundleView((await store.bundles.get(TD))!)).toEqual(bundleView(replacement))
    })

    it('BUN-11, FED-07: keeps one bundle per trust domain, never mixing their authorities', async () => {
      const { store, clock } = ctx()
      const own = fullBundle(clock.now())
      const fed = new Bundle(FEDERATED_TD, { x509Authorities: [caCertificate(clock.now(), 60, FEDERATED_TD)], sequenceNumber: 1n })
      await store.bundles.set(own)
      await store.bundles.set(fed)
      expect(bundleView((await store.bundles.get(FEDERATED_TD))!)).toEqual(bundleView(fed))
      expect(bundleView((await store.bundles.get(TD))!)).toEqual(bundleView(own))
      expect(await store.bundles.get(OTHER_TD)).toBeUndefined()
      const listed = (await store.bundles.list()).map(bundleView).sort((a, b) => a.trustDomain.localeCompare(b.trustDomain))
      expect(listed).toEqual([bundleView(fed), bundleView(own)].sort((a, b) => a.trustDomain.localeCompare(b.trustDomain)))
    })

    it('list is empty for an empty store', async () => {
      expect(await ctx().store.bundles.list()).toEqual([])
    })

    it('delete removes the bundle; deleting an absent one throws NotFoundError', async () => {
      const { store, clock } = ctx()
      await store.bundles.set(fullBundle(clock.now()))
      await store.bundles.delete(TD)
      expect(await store.bundles.get(TD)).toBeUndefined()
      expect(await store.bundles.list()).toEqual([])
      await expectError(store.bundles.delete(TD), 'NOT_FOUND', /example\.org/)
    })

    it('returns fresh values: changing DER bytes passed in or returned changes nothing stored', async () => {
      const { store, clock } = ctx()
      const bundle = fullBundle(clock.now())
      const want = bundleView(bundle)
      const passed = bundle.x509Authorities[1]!
      await store.bundles.set(bundle)
      passed[passed.length - 1] = passed[passed.length - 1]! ^ 0xff
      const got = (await store.bundles.get(TD))!
      const der = got.x509Authorities[0]!
      der[der.length - 1] = der[der.length - 1]! ^ 0xff
      expect(bundleView((await store.bundles.get(TD))!)).toEqual(want)
    })
  })

  describe('bundles: append', () => {
    it('BUN-09: creates a missing bundle with sequence 1 and the given refresh hint', async () => {
      const { store, clock } = ctx()
      const given = new Bundle(TD, {
        x509Authorities: [caCertificate(clock.now(), 60)],
        jwtAuthorities: [{ kid: 'k1', publicKey: ecKey().publicKey }],
        sequenceNumber: 41n,
        refreshHintSeconds: 120,
      })
      const appended = await store.bundles.append(given)
      const want = bundleView(given.with({ sequenceNumber: 1n }))
      expect(bundleView(appended)).toEqual(want)
      expect(bundleView((await store.bundles.get(TD))!)).toEqual(want)
    })

    it('creates an empty bundle with sequence 0 when nothing is given', async () => {
      const { store } = ctx()
      expect((await store.bundles.append(new Bundle(TD))).sequenceNumber).toBe(0n)
      expect((await store.bundles.get(TD))?.sequenceNumber).toBe(0n)
    })

    it('BUN-09, BUN-12: adds new authorities after the stored ones and bumps the sequence once', async () => {
      const { store, clock } = ctx()
      const stored = fullBundle(clock.now(), 7n)
      await store.bundles.set(stored)
      const newCa = caCertificate(clock.now(), 60)
      const newKey = ecKey().publicKey
      const result = await store.bundles.append(new Bundle(TD, { x509Authorities: [newCa], jwtAuthorities: [{ kid: 'kid-c', publicKey: newKey }] }))
      const got = (await store.bundles.get(TD))!
      expect(bundleView(result)).toEqual(bundleView(got))
      expect(got.sequenceNumber).toBe(8n)
      expect(got.x509Authorities.map(hex)).toEqual([...stored.x509Authorities.map(hex), hex(newCa)])
      expect([...got.jwtAuthorities.keys()]).toEqual(['kid-a', 'kid-b', 'kid-c'])
      expect(spkiHex(got.findJwtAuthority('kid-c')!.publicKey)).toBe(spkiHex(newKey))
      expect(got.refreshHintSeconds).toBe(300)
    })

    it('BUN-09: adding only authorities already present (equal bytes, other objects) changes nothing', async () => {
      const { store, clock } = ctx()
      const stored = fullBundle(clock.now(), 7n)
      await store.bundles.set(stored)
      const copy = new Bundle(TD, {
        x509Authorities: stored.x509Authorities.map((der) => Uint8Array.from(der)),
        jwtAuthorities: [{ kid: 'kid-b', publicKey: stored.findJwtAuthority('kid-b')!.publicKey }],
        sequenceNumber: 99n,
        refreshHintSeconds: 5,
      })
      const result = await store.bundles.append(copy)
      expect(bundleView(result)).toEqual(bundleView(stored))
      expect(bundleView((await store.bundles.get(TD))!)).toEqual(bundleView(stored))
    })

    it('skips a JWT key whose kid is present even when the key differs, keeping the stored key', async () => {
      const { store, clock } = ctx()
      const stored = fullBundle(clock.now(), 7n)
      await store.bundles.set(stored)
      await store.bundles.append(new Bundle(TD, { jwtAuthorities: [{ kid: 'kid-a', publicKey: ecKey().publicKey }] }))
      const got = (await store.bundles.get(TD))!
      expect(spkiHex(got.findJwtAuthority('kid-a')!.publicKey)).toBe(spkiHex(stored.findJwtAuthority('kid-a')!.publicKey))
      expect(got.sequenceNumber).toBe(7n)
    })

    it('BUN-09: treats a stored bundle without a sequence number as sequence 0', async () => {
      const { store, clock } = ctx()
      await store.bundles.set(new Bundle(TD))
      expect((await store.bundles.append(new Bundle(TD, { x509Authorities: [caCertificate(clock.now(), 60)] }))).sequenceNumber).toBe(1n)
    })

    it('keeps the stored refresh hint', async () => {
      const { store, clock } = ctx()
      await store.bundles.set(fullBundle(clock.now()))
      await store.bundles.append(new Bundle(TD, { x509Authorities: [caCertificate(clock.now(), 60)], refreshHintSeconds: 1 }))
      expect((await store.bundles.get(TD))!.refreshHintSeconds).toBe(300)
    })

    it('BUN-09: appends issued concurrently all land, each bumping the sequence', async () => {
      const { store, clock } = ctx()
      const cas = Array.from({ length: 8 }, () => caCertificate(clock.now(), 60))
      await Promise.all(cas.map((der) => store.bundles.append(new Bundle(TD, { x509Authorities: [der] }))))
      const got = (await store.bundles.get(TD))!
      expect(got.x509Authorities.map(hex).sort()).toEqual(cas.map(hex).sort())
      expect(got.sequenceNumber).toBe(8n)
    })
  })

  describe('bundles: pruneAuthorities', () => {
    it('FED-03, BUN-12: removes CAs whose notAfter is before the instant and the listed JWT keys, bumping the sequence', async () => {
      const { store, clock } = ctx()
      const now = clock.now()
      const expired = caCertificate(new Date(now.getTime() - 2 * HOUR), 3600)
      const valid = caCertificate(now, 3600)
      await store.bundles.set(
        new Bundle(TD, {
          x509Authorities: [expired, valid],
          jwtAuthorities: [
            { kid: 'old', publicKey: ecKey().publicKey },
            { kid: 'current', publicKey: ecKey().publicKey },
          ],
          sequenceNumber: 3n,
        }),
      )
      const result = await store.bundles.pruneAuthorities(TD, now, ['old', 'not-there'])
      const got = (await store.bundles.get(TD))!
      expect(bundleView(result!)).toEqual(bundleView(got))
      expect(got.x509Authorities.map(hex)).toEqual([hex(valid)])
      expect([...got.jwtAuthorities.keys()]).toEqual(['current'])
      expect(got.sequenceNumber).toBe(4n)
    })

    it('keeps a CA whose notAfter equals the instant', async () => {
      const { store, clock } = ctx()
      const now = clock.now()
      const ca = caCertificate(new Date(now.getTime() - HOUR), 3600)
      await store.bundles.set(new Bundle(TD, { x509Authorities: [ca], sequenceNumber: 1n }))
      expect((await store.bundles.pruneAuthorities(TD, now, []))!.x509Authorities.map(hex)).toEqual([hex(ca)])
      expect((await store.bundles.pruneAuthorities(TD, new Date(now.getTime() + 1000), []))!.x509Authorities).toEqual([])
    })

    it('BUN-09: changes nothing (same sequence) when nothing is expired', async () => {
      const { store, clock } = ctx()
      const stored = fullBundle(clock.now(), 5n)
      await store.bundles.set(stored)
      const result = await store.bundles.pruneAuthorities(TD, clock.now(), ['unknown-kid'])
      expect(bundleView(result!)).toEqual(bundleView(stored))
      expect((await store.bundles.get(TD))!.sequenceNumber).toBe(5n)
    })

    it('returns undefined for a trust domain without a bundle', async () => {
      expect(await ctx().store.bundles.pruneAuthorities(OTHER_TD, new Date(), ['k'])).toBeUndefined()
    })
  })
}
