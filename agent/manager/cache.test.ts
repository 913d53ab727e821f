import { describe, expect, it } from 'vitest'
import { FailedPreconditionError } from '../../common/errors.js'
import { createLogger } from '../../common/logger.js'
import type { RegistrationEntry } from '../../plugins/data-store/types.js'
import { Bundle, SelectorSet, parseSelector, parseTrustDomain } from '../../spiffe/index.js'
import { FakeAgentServer } from '../../test/fakes/fake-agent-server.js'
import { FakeClock } from '../../test/fakes/fake-clock.js'
import { FakeAuthority } from '../../test/fakes/fake-identity-cache.js'
import { AgentCache } from './cache.js'

const TD = parseTrustDomain('example.org')
const FED = parseTrustDomain('fed.example')
const OTHER = parseTrustDomain('other.example')
const WORKLOAD = new SelectorSet([parseSelector('unix:uid:1000'), parseSelector('unix:gid:50')])

function setup(): { clock: FakeClock; server: FakeAgentServer; cache: AgentCache; logs: Record<string, unknown>[] } {
  const clock = new FakeClock()
  const server = new FakeAgentServer(TD, clock)
  const logs: Record<string, unknown>[] = []
  const log = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) })
  return { clock, server, cache: new AgentCache({ trustDomain: TD, jwtSigner: server, clock, log }), logs }
}

function update(upserted: RegistrationEntry[], deletedIds: string[] = [], bundles?: Bundle[]) {
  return { full: false, upserted, deletedIds, bundles }
}

function full(upserted: RegistrationEntry[], bundles?: Bundle[]) {
  return { full: true, upserted, deletedIds: [], bundles }
}

/** Holds a stand-in SVID for an entry (the cache never parses it). */
function hold(cache: AgentCache, entry: RegistrationEntry, notAfter: Date): void {
  cache.storeSvid(entry.id, {
    svid: { entryId: entry.id, spiffeId: entry.spiffeId, hint: entry.hint, chainDer: [], privateKeyDer: new Uint8Array(), notAfter },
    revision: entry.revisionNumber,
    rotateAtMs: notAfter.getTime(),
  })
}

/** The own bundle with one more root (a CA rotation), or with only its JWT keys changed. */
function rotated(bundle: Bundle, what: 'x509' | 'jwt'): Bundle {
  const extra = new FakeAuthority(bundle.trustDomain)
  return new Bundle(bundle.trustDomain, {
    x509Authorities: what === 'x509' ? [...bundle.x509Authorities, extra.ca.certificateDer] : bundle.x509Authorities,
    jwtAuthorities: what === 'jwt' ? [...bundle.jwtAuthorities.values(), ...extra.bundle.jwtAuthorities.values()] : [...bundle.jwtAuthorities.values()],
  })
}

async function turn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
}

describe('AgentCache', () => {
  it('applies a full set, then additions, new revisions and deletions, reporting which entries changed', () => {
    const { server, cache } = setup()
    const a = server.putEntry({ id: 'a', spiffeId: 'spiffe://example.org/a' })
    const b = server.putEntry({ id: 'b', spiffeId: 'spiffe://example.org/b' })
    expect(cache.apply(full([a, b])).changedEntryIds).toEqual(['a', 'b'])
    // The same revision again is no change.
    expect(cache.apply(update([a])).changedEntryIds).toEqual([])
    const a2 = server.putEntry({ id: 'a', spiffeId: 'spiffe://example.org/a', hint: 'x' })
    const c = server.putEntry({ id: 'c', spiffeId: 'spiffe://example.org/c' })
    expect(cache.apply(update([a2, c], ['b', 'never-there'])).changedEntryIds).toEqual(['a', 'c', 'b'])
    expect(cache.entry('a')?.hint).toBe('x')
    expect(cache.entry('b')).toBeUndefined()
    // A later full set is the whole truth: what it leaves out is removed.
    expect(cache.apply(full([c])).changedEntryIds).toEqual(['a'])
    expect(cache.stats()).toEqual({ entries: 1, svids: 0, bundles: 0 })
  })

  it('is synced from the first full set on (even an empty one), and says so once', async () => {
    const { server, cache, logs } = setup()
    let notified = 0
    cache.subscribe(() => notified++)
    cache.apply(update([server.putEntry({ spiffeId: 'spiffe://example.org/a' })]))
    expect(cache.synced).toBe(false)
    await turn()
    expect(notified).toBe(1)
    cache.apply(full([]))
    expect(cache.synced).toBe(true)
    await turn()
    expect(notified).toBe(2)
    cache.apply(full([]))
    await turn()
    expect(notified).toBe(2)
    expect(logs.filter((l) => l['msg'] === 'Entries synced')).toHaveLength(1)
  })

  it('tells subscribers once per turn however many changes, survives a throwing listener, and unsubscribes', async () => {
    const { server, cache, logs } = setup()
    const calls: string[] = []
    cache.subscribe(() => {
      throw new Error('listener broke')
    })
    const unsubscribe = cache.subscribe(() => calls.push('a'))
    const listener = (): void => void calls.push('b')
    cache.subscribe(listener)
    cache.subscribe(listener)
    cache.apply(update([server.putEntry({ spiffeId: 'spiffe://example.org/a' })]))
    cache.apply(update([server.putEntry({ spiffeId: 'spiffe://example.org/b' })]))
    cache.notify()
    await turn()
    expect(calls).toEqual(['a', 'b', 'b'])
    expect(logs.filter((l) => l['msg'] === 'Cache listener failed').map((l) => l['err'])).toEqual(['listener broke'])
    unsubscribe()
    cache.notify()
    await turn()
    expect(calls).toEqual(['a', 'b', 'b', 'b', 'b'])
  })

  it('gives a workload its matching entries in creation order, and only SVIDs that have not expired', () => {
    const { clock, server, cache } = setup()
    cache.setOwnBundle(server.authority.bundle)
    const first = server.putEntry({ spiffeId: 'spiffe://example.org/first', selectors: ['unix:uid:1000'] })
    const second = server.putEntry({ spiffeId: 'spiffe://example.org/second', selectors: ['unix:uid:1000', 'unix:gid:50'] })
    const other = server.putEntry({ spiffeId: 'spiffe://example.org/other', selectors: ['unix:uid:2000'] })
    cache.apply(full([second, other, first]))
    hold(cache, first, new Date(clock.now().getTime() + 1000))
    hold(cache, second, new Date(clock.now().getTime() + 2000))
    hold(cache, other, new Date(clock.now().getTime() + 2000))
    const now = cache.identitiesFor(WORKLOAD)
    expect(now.entries.map((e) => e.id)).toEqual([first.id, second.id])
    expect(now.svids.map((s) => s.entryId)).toEqual([first.id, second.id])
    expect(now.bundle).toBe(server.authority.bundle)
    clock.advance(1000)
    expect(cache.identitiesFor(WORKLOAD).svids.map((s) => s.entryId)).toEqual([second.id])
  })

  it('names federated bundles only for the trust domains matching entries federate with, never the own one', () => {
    const { server, cache } = setup()
    const fed = new FakeAuthority(FED).bundle
    const other = new FakeAuthority(OTHER).bundle
    const entry = server.putEntry({ spiffeId: 'spiffe://example.org/a', federatesWith: [FED, TD] })
    const unmatched = server.putEntry({ spiffeId: 'spiffe://example.org/b', selectors: ['unix:uid:2000'], federatesWith: [OTHER] })
    cache.apply(full([entry, unmatched], [fed, server.authority.bundle, other]))
    expect(cache.identitiesFor(WORKLOAD).federatedBundles).toEqual([fed])
    expect(cache.allBundles().map((b) => b.trustDomain.name)).toEqual(['example.org', 'fed.example', 'other.example'])
  })

  it('refuses to answer without the own bundle', () => {
    const { cache } = setup()
    expect(() => cache.identitiesFor(WORKLOAD)).toThrow(FailedPreconditionError)
    expect(() => cache.identitiesFor(WORKLOAD)).toThrow('agent: no trust bundle yet')
  })

  it('stops serving an SVID the moment its entry names another SPIFFE ID; a TTL or hint change keeps it until replaced', () => {
    const { clock, server, cache } = setup()
    cache.setOwnBundle(server.authority.bundle)
    const a = server.putEntry({ id: 'a', spiffeId: 'spiffe://example.org/a' })
    const b = server.putEntry({ id: 'b', spiffeId: 'spiffe://example.org/b' })
    cache.apply(full([a, b]))
    hold(cache, a, new Date(clock.now().getTime() + 60_000))
    hold(cache, b, new Date(clock.now().getTime() + 60_000))
    cache.apply(update([server.putEntry({ id: 'a', spiffeId: 'spiffe://example.org/a-renamed' })]))
    cache.apply(update([server.putEntry({ id: 'b', spiffeId: 'spiffe://example.org/b', x509SvidTtlSeconds: 60, hint: 'new' })]))
    expect(cache.heldSvid('a')).toBeUndefined()
    expect(cache.heldSvid('b')?.revision).toBe(1)
    expect(cache.identitiesFor(WORKLOAD).svids.map((s) => s.entryId)).toEqual(['b'])
  })

  it.each([
    { name: 'new X.509 roots', change: 'x509' as const, x509Changed: true },
    { name: 'new JWT keys only', change: 'jwt' as const, x509Changed: false },
  ])('reports a changed own bundle ($name)', ({ change, x509Changed }) => {
    const { server, cache } = setup()
    const own = server.authority.bundle
    // The first own bundle is a change too, with nothing to compare the roots with.
    expect(cache.apply(full([], [own])).ownBundle).toEqual({ bundle: own, x509Changed: false })
    expect(cache.apply(update([], [], [own])).ownBundle).toBeUndefined()
    const next = rotated(own, change)
    expect(cache.apply(update([], [], [next])).ownBundle).toEqual({ bundle: next, x509Changed })
    expect(cache.ownBundle()).toBe(next)
  })

  it('keeps the own bundle when a bundle set leaves it out, and drops federated ones it leaves out', () => {
    const { server, cache } = setup()
    const fed = new FakeAuthority(FED).bundle
    cache.apply(full([], [server.authority.bundle, fed]))
    const applied = cache.apply(update([], [], [new FakeAuthority(OTHER).bundle]))
    expect(applied.ownBundle).toBeUndefined()
    expect(cache.allBundles().map((b) => b.trustDomain.name)).toEqual(['example.org', 'other.example'])
    // An own bundle set from attestation keeps the federated ones.
    cache.setOwnBundle(rotated(server.authority.bundle, 'x509'))
    expect(cache.allBundles().map((b) => b.trustDomain.name)).toEqual(['example.org', 'other.example'])
    expect(() => cache.setOwnBundle(new FakeAuthority(FED).bundle)).toThrow(TypeError)
  })

  it('hands out a JWT-SVID again until half of its life, and signs anew after the entry changed', async () => {
    const { clock, server, cache } = setup()
    const entry = server.putEntry({ id: 'a', spiffeId: 'spiffe://example.org/a', jwtSvidTtlSeconds: 100 })
    cache.apply(full([entry]))
    const first = await cache.fetchJwtSvid(cache.entry('a')!, ['aud1'])
    expect(await cache.fetchJwtSvid(cache.entry('a')!, ['aud1'])).toEqual(first)
    expect(server.calls.newJwtSvid).toBe(1)
    clock.advance(50_000)
    const second = await cache.fetchJwtSvid(cache.entry('a')!, ['aud1'])
    expect(second.token).not.toBe(first.token)
    expect(server.calls.newJwtSvid).toBe(2)
    cache.apply(update([server.putEntry({ id: 'a', spiffeId: 'spiffe://example.org/a', jwtSvidTtlSeconds: 100 })]))
    await cache.fetchJwtSvid(cache.entry('a')!, ['aud1'])
    expect(server.calls.newJwtSvid).toBe(3)
  })

  it('remembers when an SVID expired with no replacement, until a new one is stored or the entry goes', () => {
    const { clock, server, cache } = setup()
    const a = server.putEntry({ id: 'a', spiffeId: 'spiffe://example.org/a' })
    const b = server.putEntry({ id: 'b', spiffeId: 'spiffe://example.org/b' })
    cache.apply(full([a, b]))
    expect(cache.expiredAt('a')).toBeUndefined()
    const notAfter = new Date(clock.now().getTime() + 1000)
    hold(cache, a, notAfter)
    hold(cache, b, notAfter)
    expect(cache.expiredAt('a')).toBeUndefined()
    clock.advance(1000)
    // Held past its expiry (the scheduler has not dropped it yet) counts as expired.
    expect(cache.expiredAt('a')).toEqual(notAfter)
    cache.expireSvid('a')
    cache.expireSvid('b')
    expect(cache.heldSvid('a')).toBeUndefined()
    expect(cache.expiredAt('a')).toEqual(notAfter)
    hold(cache, a, new Date(clock.now().getTime() + 1000))
    expect(cache.expiredAt('a')).toBeUndefined()
    cache.apply(update([], ['b']))
    expect(cache.expiredAt('b')).toBeUndefined()
  })

  it('leaves the notification of a stored or dropped SVID to the caller, which notifies once for many', async () => {
    const { clock, server, cache } = setup()
    const entry = server.putEntry({ spiffeId: 'spiffe://example.org/a' })
    cache.apply(full([entry]))
    await turn()
    let notified = 0
    cache.subscribe(() => notified++)
    hold(cache, entry, new Date(clock.now().getTime() + 1000))
    cache.expireSvid(entry.id)
    await turn()
    expect(notified).toBe(0)
    expect(cache.stats().svids).toBe(0)
  })
})
