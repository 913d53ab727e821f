import { describe, expect, it } from 'vitest'
import { DEFAULT_JWT_CACHE_SIZE, JwtSvidCache, type CachedJwtSvid } from './jwt-cache.js'

const T0 = new Date('2030-01-01T00:00:00Z')
const LIFETIME_MS = 600_000

function at(offsetMs: number): Date {
  return new Date(T0.getTime() + offsetMs)
}

function svid(token: string, issuedAt = T0, lifetimeMs = LIFETIME_MS): CachedJwtSvid {
  return { token, issuedAt, expiresAt: new Date(issuedAt.getTime() + lifetimeMs) }
}

/** A sign() that counts its calls and hands out tok-1, tok-2, … issued at `issuedAt`. */
function counter(issuedAt = T0, lifetimeMs = LIFETIME_MS): { sign: () => Promise<CachedJwtSvid>; readonly calls: number } {
  let calls = 0
  return {
    sign: async () => svid(`tok-${++calls}`, issuedAt, lifetimeMs),
    get calls() {
      return calls
    },
  }
}

/** A sign() whose result the test settles by hand. */
function deferred(): {
  sign: () => Promise<CachedJwtSvid>
  resolve: (value: CachedJwtSvid) => void
  reject: (err: Error) => void
  readonly calls: number
} {
  let calls = 0
  let resolve!: (value: CachedJwtSvid) => void
  let reject!: (err: Error) => void
  const promise = new Promise<CachedJwtSvid>((res, rej) => {
    resolve = res
    reject = rej
  })
  return {
    sign: () => {
      calls++
      return promise
    },
    resolve: (value) => resolve(value),
    reject: (err) => reject(err),
    get calls() {
      return calls
    },
  }
}

describe('JwtSvidCache', () => {
  it('hands out the cached token until half of its lifetime, then signs anew', async () => {
    const cache = new JwtSvidCache()
    const signer = counter()
    expect((await cache.get('e1', ['aud'], T0, signer.sign)).token).toBe('tok-1')
    expect((await cache.get('e1', ['aud'], at(LIFETIME_MS / 2 - 1), signer.sign)).token).toBe('tok-1')
    expect(signer.calls).toBe(1)
    // Exactly at half-life the token no longer has more than half of its life left.
    expect((await cache.get('e1', ['aud'], at(LIFETIME_MS / 2), signer.sign)).token).toBe('tok-2')
    expect(signer.calls).toBe(2)
    expect(cache.size).toBe(1)
  })

  it('measures half-life from issuedAt, not from when the token was cached', async () => {
    const cache = new JwtSvidCache()
    // Issued well before it reached the cache: 400 s of a 600 s life already gone.
    const signer = counter(at(-400_000))
    await cache.get('e1', ['aud'], T0, signer.sign)
    await cache.get('e1', ['aud'], T0, signer.sign)
    expect(signer.calls).toBe(2)
    expect(cache.size).toBe(1)
  })

  it.each([
    { first: ['a', 'b'], second: ['b', 'a'] },
    { first: ['b', 'a', 'a'], second: ['a', 'b'] },
    { first: ['x'], second: ['x', 'x', 'x'] },
  ])('treats audience $first and $second as the same set', async ({ first, second }) => {
    const cache = new JwtSvidCache()
    const signer = counter()
    const a = await cache.get('e1', first, T0, signer.sign)
    const b = await cache.get('e1', second, T0, signer.sign)
    expect(b).toBe(a)
    expect(signer.calls).toBe(1)
    expect(cache.size).toBe(1)
  })

  it.each([
    { first: ['a'], second: ['a', 'b'] },
    { first: ['a', 'b'], second: ['a,b'] },
    { first: ['a', 'b'], second: ['a\nb'] },
    { first: ['A'], second: ['a'] },
    { first: [], second: [''] },
  ])('keeps audience $first and $second apart', async ({ first, second }) => {
    const cache = new JwtSvidCache()
    const signer = counter()
    const a = await cache.get('e1', first, T0, signer.sign)
    const b = await cache.get('e1', second, T0, signer.sign)
    expect(b.token).not.toBe(a.token)
    expect(signer.calls).toBe(2)
    expect(cache.size).toBe(2)
  })

  it('keeps the same audience of different entries apart', async () => {
    const cache = new JwtSvidCache()
    const signer = counter()
    expect((await cache.get('e1', ['aud'], T0, signer.sign)).token).toBe('tok-1')
    expect((await cache.get('e2', ['aud'], T0, signer.sign)).token).toBe('tok-2')
    expect((await cache.get('e1', ['aud'], T0, signer.sign)).token).toBe('tok-1')
  })

  it('shares one sign() call among concurrent requests for the same entry and audience set', async () => {
    const cache = new JwtSvidCache()
    const signer = deferred()
    const requests = [
      cache.get('e1', ['a', 'b'], T0, signer.sign),
      cache.get('e1', ['b', 'a'], T0, signer.sign),
      cache.get('e1', ['a', 'b', 'b'], T0, signer.sign),
    ]
    expect(signer.calls).toBe(1)
    const token = svid('shared')
    signer.resolve(token)
    for (const result of await Promise.all(requests)) expect(result).toBe(token)
    expect(cache.size).toBe(1)
    expect(await cache.get('e1', ['a', 'b'], T0, counter().sign)).toBe(token)
  })

  it('does not cache a failed sign(): every waiter sees the error and the next request signs again', async () => {
    const cache = new JwtSvidCache()
    const failing = deferred()
    const first = cache.get('e1', ['aud'], T0, failing.sign)
    const second = cache.get('e1', ['aud'], T0, failing.sign)
    failing.reject(new Error('server unavailable'))
    await expect(first).rejects.toThrow('server unavailable')
    await expect(second).rejects.toThrow('server unavailable')
    expect(failing.calls).toBe(1)
    expect(cache.size).toBe(0)

    const signer = counter()
    expect((await cache.get('e1', ['aud'], T0, signer.sign)).token).toBe('tok-1')
    expect(signer.calls).toBe(1)
    expect(cache.size).toBe(1)
  })

  it('does not cache a sign() that throws synchronously', async () => {
    const cache = new JwtSvidCache()
    const throwing = (): Promise<CachedJwtSvid> => {
      throw new Error('boom')
    }
    await expect(cache.get('e1', ['aud'], T0, throwing)).rejects.toThrow('boom')
    const signer = counter()
    expect((await cache.get('e1', ['aud'], T0, signer.sign)).token).toBe('tok-1')
  })

  it('deleteEntry drops every token of that entry, and only of that entry', async () => {
    const cache = new JwtSvidCache()
    const signer = counter()
    await cache.get('e1', ['a'], T0, signer.sign)
    await cache.get('e1', ['b'], T0, signer.sign)
    await cache.get('e10', ['a'], T0, signer.sign)
    await cache.get('e2', ['a'], T0, signer.sign)
    expect(cache.size).toBe(4)
    cache.deleteEntry('e1')
    expect(cache.size).toBe(2)
    // e10 shares e1 as a prefix of its id: it must survive.
    expect((await cache.get('e10', ['a'], T0, signer.sign)).token).toBe('tok-3')
    expect((await cache.get('e2', ['a'], T0, signer.sign)).token).toBe('tok-4')
    expect((await cache.get('e1', ['a'], T0, signer.sign)).token).toBe('tok-5')
    expect(signer.calls).toBe(5)
  })

  it('does not store the result of a sign() that was in flight during deleteEntry', async () => {
    const cache = new JwtSvidCache()
    const stale = deferred()
    const pending = cache.get('e1', ['aud'], T0, stale.sign)
    cache.deleteEntry('e1')
    const old = svid('old-entry')
    stale.resolve(old)
    // The caller that asked before the deletion still gets its answer.
    expect(await pending).toBe(old)
    expect(cache.size).toBe(0)
    const signer = counter()
    expect((await cache.get('e1', ['aud'], T0, signer.sign)).token).toBe('tok-1')
    expect(signer.calls).toBe(1)
  })

  it('does not hand a sign() in flight during deleteEntry to requests made after it', async () => {
    const cache = new JwtSvidCache()
    const stale = deferred()
    const before = cache.get('e1', ['aud'], T0, stale.sign)
    cache.deleteEntry('e1')
    const fresh = deferred()
    const after = cache.get('e1', ['aud'], T0, fresh.sign)
    expect(fresh.calls).toBe(1)
    // The old call finishing first must neither store its token nor end the new call's sharing.
    stale.resolve(svid('old-entry'))
    await before
    const joined = cache.get('e1', ['aud'], T0, counter().sign)
    const current = svid('new-entry')
    fresh.resolve(current)
    expect(await after).toBe(current)
    expect(await joined).toBe(current)
    expect(cache.size).toBe(1)
    expect(await cache.get('e1', ['aud'], T0, counter().sign)).toBe(current)
  })

  it('evicts the least recently used pair when full', async () => {
    const cache = new JwtSvidCache(2)
    const signer = counter()
    await cache.get('e1', ['a'], T0, signer.sign) // tok-1
    await cache.get('e2', ['a'], T0, signer.sign) // tok-2
    await cache.get('e1', ['a'], T0, signer.sign) // hit: e1 is now the most recently used
    await cache.get('e3', ['a'], T0, signer.sign) // tok-3 evicts e2
    expect(cache.size).toBe(2)
    expect(signer.calls).toBe(3)
    expect((await cache.get('e1', ['a'], T0, signer.sign)).token).toBe('tok-1')
    expect((await cache.get('e3', ['a'], T0, signer.sign)).token).toBe('tok-3')
    expect(signer.calls).toBe(3)
    expect((await cache.get('e2', ['a'], T0, signer.sign)).token).toBe('tok-4')
    expect(cache.size).toBe(2)
  })

  it('prune drops tokens past half of their life and keeps the others', async () => {
    const cache = new JwtSvidCache()
    await cache.get('short', ['a'], T0, async () => svid('short', T0, 60_000))
    await cache.get('long', ['a'], T0, async () => svid('long', T0, 3_600_000))
    cache.prune(at(29_999))
    expect(cache.size).toBe(2)
    cache.prune(at(30_000))
    expect(cache.size).toBe(1)
    const signer = counter()
    expect((await cache.get('long', ['a'], at(30_000), signer.sign)).token).toBe('long')
    expect(signer.calls).toBe(0)
    cache.prune(at(1_800_000))
    expect(cache.size).toBe(0)
  })

  it('clear forgets every token and what is in flight', async () => {
    const cache = new JwtSvidCache()
    await cache.get('e1', ['a'], T0, counter().sign)
    const pending = deferred()
    const inFlight = cache.get('e2', ['a'], T0, pending.sign)
    cache.clear()
    expect(cache.size).toBe(0)
    pending.resolve(svid('late'))
    await inFlight
    expect(cache.size).toBe(0)
  })

  it('refuses a size below 1 and defaults to DEFAULT_JWT_CACHE_SIZE', async () => {
    expect(() => new JwtSvidCache(0)).toThrow(/at least 1/)
    expect(() => new JwtSvidCache(Number.NaN)).toThrow(/at least 1/)
    const cache = new JwtSvidCache()
    const signer = counter()
    for (let i = 0; i <= DEFAULT_JWT_CACHE_SIZE; i++) await cache.get(`e${i}`, ['a'], T0, signer.sign)
    expect(cache.size).toBe(DEFAULT_JWT_CACHE_SIZE)
    // The first pair was the least recently used one.
    expect((await cache.get('e0', ['a'], T0, signer.sign)).token).toBe(`tok-${DEFAULT_JWT_CACHE_SIZE + 2}`)
  })
})
