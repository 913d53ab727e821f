import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../common/logger.js'
import { IN_MEMORY, openSqliteDataStore } from '../../plugins/data-store/sqlite/index.js'
import { parseSelector, parseSpiffeId, parseTrustDomain } from '../../spiffe/index.js'
import { buildEntry } from '../../test/fixtures/entries.js'
import { CacheWakeup, withCacheWakeup } from './cache-wakeup.js'

const td = parseTrustDomain('example.org')

/** A cache that counts catch-ups and can be made to fail or to wait. */
class CountingCache {
  applied = 0
  fail = false
  async applyEvents(): Promise<void> {
    this.applied++
    if (this.fail) throw new Error('store down')
  }
}

async function setup() {
  const base = openSqliteDataStore({ path: IN_MEMORY })
  const cache = new CountingCache()
  const wakeup = new CacheWakeup(silentLogger())
  const store = withCacheWakeup(base, wakeup)
  return { base, cache, wakeup, store }
}

const entry = (n: number) =>
  buildEntry({ spiffeId: parseSpiffeId(`spiffe://${td.name}/w/${n}`), parentId: parseSpiffeId(`spiffe://${td.name}/agent`), selectors: [parseSelector(`unix:uid:${n}`)] })

describe('CacheWakeup', () => {
  it('wakes nothing before the cache is attached (the cache is built from the store)', async () => {
    const { cache, store } = await setup()
    await store.entries.create(entry(1))
    expect(cache.applied).toBe(0)
  })

  it('wakes the cache after each committed entry, node and bundle write, not after reads or failed writes', async () => {
    const { cache, wakeup, store } = await setup()
    wakeup.attach(cache)
    const created = await store.entries.create(entry(1))
    await store.entries.get(created.id)
    await store.entries.list()
    expect(cache.applied).toBe(1)
    await expect(store.entries.create(entry(1))).rejects.toThrow()
    expect(cache.applied).toBe(1)
    await store.entries.delete(created.id)
    expect(cache.applied).toBe(2)
  })

  it('settled() resolves after the catch-up of every write so far, and a failed catch-up is logged, never thrown', async () => {
    const { cache, wakeup, store } = await setup()
    wakeup.attach(cache)
    cache.fail = true
    await store.entries.create(entry(1))
    await expect(wakeup.settled()).resolves.toBeUndefined()
  })

  it('a batch of writes wakes the cache once, after the batch', async () => {
    const { cache, wakeup, store } = await setup()
    wakeup.attach(cache)
    await wakeup.batch(async () => {
      for (const n of [1, 2, 3]) await store.entries.create(entry(n))
      expect(cache.applied).toBe(0)
    })
    expect(cache.applied).toBe(1)
  })
})
