import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger, silentLogger } from '../../common/logger.js'
import { MemoryKeyManager } from '../../plugins/key-manager/memory/index.js'
import type { BundleStore } from '../../plugins/data-store/types.js'
import { Bundle, createSelfSignedCa, parseTrustDomain, type TrustDomain } from '../../spiffe/index.js'
import { MemoryDataStore } from '../../test/fakes/memory-data-store.js'
import { AuthorizedEntryCache } from '../registration/index.js'
import { CaManager } from './manager.js'
import { OwnBundle } from './own-bundle.js'

const td = parseTrustDomain('example.org')
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/**
 * The owner's view of the bundle store: counts reads and how many run at once, can fail them, and
 * can hold a read after it fetched its value (so a write made meanwhile is not in what it returns).
 */
class ObservedBundles implements Pick<BundleStore, 'get'> {
  reads = 0
  inFlight = 0
  maxInFlight = 0
  failWith: Error | undefined
  #hold: { released: Promise<void>; onRead: () => void } | undefined

  constructor(private readonly store: Pick<BundleStore, 'get'>) {}

  /** Holds the next reads until `release` is called; `started` resolves when one is held. */
  hold(): { started: Promise<void>; release: () => void } {
    let release!: () => void
    let onRead!: () => void
    const released = new Promise<void>((r) => (release = r))
    const started = new Promise<void>((r) => (onRead = r))
    this.#hold = { released, onRead }
    return {
      started,
      release: () => {
        this.#hold = undefined
        release()
      },
    }
  }

  async get(trustDomain: TrustDomain): Promise<Bundle | undefined> {
    this.reads++
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      if (this.failWith !== undefined) throw this.failWith
      const bundle = await this.store.get(trustDomain)
      const hold = this.#hold
      if (hold !== undefined) {
        hold.onRead()
        await hold.released
      }
      return bundle
    } finally {
      this.inFlight--
    }
  }
}

/** A server whose CA, entry cache and own-bundle owner share one in-memory store, on a clock moved by hand. */
async function setup(opts: { failFirstRead?: Error; log?: ReturnType<typeof silentLogger>; beforePrune?: () => void } = {}) {
  let now = new Date('2026-01-01T00:00:00Z').getTime()
  const clock = {
    now: () => new Date(now),
    advance: (seconds: number) => {
      now += seconds * 1000
    },
  }
  const store = new MemoryDataStore({ clock: clock.now })
  const dir = mkdtempSync(join(tmpdir(), 'steeple-own-bundle-'))
  dirs.push(dir)
  const ca = new CaManager({
    trustDomain: td,
    keyManager: new MemoryKeyManager(),
    bundles: opts.beforePrune === undefined ? store.bundles : hookBeforePrune(store.bundles, opts.beforePrune),
    upstream: undefined,
    keyType: 'ec-p256',
    caTtlSeconds: 600,
    subject: { country: '', organization: 'Steeple', commonName: '' },
    journalPath: join(dir, 'ca-journal.json'),
    clock: clock.now,
    log: silentLogger(),
  })
  await ca.init()
  const cache = await AuthorizedEntryCache.load({ store, trustDomain: td, clock: clock.now, log: silentLogger() })
  const bundles = new ObservedBundles(store.bundles)
  bundles.failWith = opts.failFirstRead
  const start = () => OwnBundle.start({ trustDomain: td, bundles, ca, changes: cache, log: opts.log ?? silentLogger() })
  return { clock, store, ca, cache, bundles, start }
}

/** The CA's store, calling `hook` when the CA prunes: late in a rotation step, after any activation. */
function hookBeforePrune(bundles: BundleStore, hook: () => void): BundleStore {
  return {
    set: (bundle) => bundles.set(bundle),
    append: (bundle) => bundles.append(bundle),
    get: (trustDomain) => bundles.get(trustDomain),
    list: () => bundles.list(),
    delete: (trustDomain) => bundles.delete(trustDomain),
    pruneAuthorities: (trustDomain, before, expiredJwtKids) => {
      hook()
      return bundles.pruneAuthorities(trustDomain, before, expiredJwtKids)
    },
  }
}

/** Subscribes and records every notification. */
function record(owner: OwnBundle): { seen: Bundle[]; next: () => Promise<Bundle> } {
  const seen: Bundle[] = []
  const waiting: ((b: Bundle) => void)[] = []
  owner.subscribe((bundle) => {
    seen.push(bundle)
    for (const resolve of waiting.splice(0)) resolve(bundle)
  })
  return { seen, next: () => new Promise<Bundle>((resolve) => waiting.push(resolve)) }
}

/** What another server sharing the store writes when it publishes its own CA. */
async function publishOtherServersCa(store: MemoryDataStore): Promise<Uint8Array> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const other = createSelfSignedCa({ trustDomain: td, privateKey, ttlSeconds: 600 })
  await store.bundles.append(
    new Bundle(td, { x509Authorities: [other.certificateDer], jwtAuthorities: [{ kid: randomBytes(8).toString('hex'), publicKey }] }),
  )
  return other.certificateDer
}

function holds(bundle: Bundle, der: Uint8Array): boolean {
  return bundle.x509Authorities.some((a) => Buffer.from(a).equals(der))
}

describe('own bundle', () => {
  it('starts with the stored bundle and follows this server\'s CA: prepared CA held when rotate() resolves, activation notified too', async () => {
    const { clock, store, ca, bundles, start } = await setup()
    const owner = await start()
    const { seen } = record(owner)
    expect(owner.current().x509Authorities).toHaveLength(1)
    expect(owner.current().sequenceNumber).toBe((await store.bundles.get(td))!.sequenceNumber)

    clock.advance(301) // past half of the CA's life: the next CA is published
    await ca.rotate()
    expect(owner.current().x509Authorities).toHaveLength(2)
    expect(owner.current().sequenceNumber).toBe((await store.bundles.get(td))!.sequenceNumber)
    expect(seen).toHaveLength(1)
    expect(seen[0]).toBe(owner.current())

    clock.advance(200) // past 5/6: the next CA signs; the bundle does not change, subscribers still hear of it
    const readsBefore = bundles.reads
    await ca.rotate()
    expect(bundles.reads).toBe(readsBefore + 1)
    expect(seen).toHaveLength(2)
    expect(seen[1]!.x509Authorities).toHaveLength(2)
    await owner.close()
  })

  it('FED-02: when one CA step both publishes and activates a CA, the owner holds it before it signs', async () => {
    let owner: OwnBundle | undefined
    let active: () => Uint8Array = () => new Uint8Array()
    const heldWhileSigning: boolean[] = []
    const { clock, ca, start } = await setup({
      beforePrune: () => {
        if (owner !== undefined) heldWhileSigning.push(holds(owner.current(), active()))
      },
    })
    active = () => ca.activeAuthority().x509.certificateDer
    owner = await start()
    const { seen } = record(owner)
    const first = Buffer.from(active())

    clock.advance(501) // past 5/6 at once: prepare and activate in the same step
    await ca.rotate()
    expect(Buffer.from(active()).equals(first)).toBe(false)
    expect(heldWhileSigning).toEqual([true])
    expect(seen).toHaveLength(2)
    expect(holds(seen[0]!, active())).toBe(true)
    await owner.close()
  })

  it('follows another server\'s write reported by the entry cache, once per change', async () => {
    const { clock, store, ca, cache, start } = await setup()
    const owner = await start()
    const { seen, next } = record(owner)

    const notified = next()
    const otherCa = await publishOtherServersCa(store)
    expect(holds(owner.current(), otherCa)).toBe(false)
    await cache.applyEvents()
    const bundle = await notified
    expect(holds(bundle, otherCa)).toBe(true)
    expect(owner.current()).toBe(bundle)
    expect(seen).toHaveLength(1)

    // This server's own write comes back as a change event too: already held, so not announced again.
    clock.advance(301)
    await ca.rotate()
    expect(seen).toHaveLength(2)
    const change = await cache.applyEvents()
    expect(change.bundleTrustDomains).toEqual([td.name])
    await owner.refresh()
    expect(seen).toHaveLength(2)
    await owner.close()
  })

  it('runs one refresh at a time; requests made meanwhile share one later refresh, which sees their write', async () => {
    const { clock, store, ca, cache, bundles, start } = await setup()
    const owner = await start()
    const { seen } = record(owner)
    const readsAtStart = bundles.reads

    const held = bundles.hold()
    clock.advance(301)
    const rotating = ca.rotate()
    await held.started // the CA's refresh has read the bundle and is held before using it
    const otherCa = await publishOtherServersCa(store)
    await cache.applyEvents()
    const requests = [owner.refresh(), owner.refresh()]
    held.release()
    await rotating
    await Promise.all(requests)

    expect(bundles.maxInFlight).toBe(1)
    expect(bundles.reads).toBe(readsAtStart + 2)
    expect(seen).toHaveLength(2)
    expect(holds(seen[0]!, otherCa)).toBe(false)
    expect(seen[0]!.x509Authorities).toHaveLength(2)
    expect(holds(seen[1]!, otherCa)).toBe(true)
    expect(owner.current().x509Authorities).toHaveLength(3)
    await owner.close()
  })

  it('keeps the bundle it holds and logs when a read fails; never rejects; recovers on the next change', async () => {
    const lines: Record<string, unknown>[] = []
    const log = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) })
    const { clock, ca, bundles, start } = await setup({ log })
    const owner = await start()
    const { seen } = record(owner)
    const before = owner.current()

    bundles.failWith = new Error('database is locked')
    clock.advance(301)
    await expect(ca.rotate()).resolves.toBeUndefined()
    await expect(owner.refresh()).resolves.toBeUndefined()
    expect(owner.current()).toBe(before)
    expect(seen).toHaveLength(0)
    const failures = lines.filter((l) => l['msg'] === 'Own bundle refresh failed')
    expect(failures).toHaveLength(2)
    expect(failures[0]).toMatchObject({ level: 'error', trustDomain: td.name, err: 'database is locked' })

    bundles.failWith = undefined
    await owner.refresh()
    expect(owner.current().x509Authorities).toHaveLength(2)
    expect(seen).toHaveLength(1)
    await owner.close()
  })

  it('a subscriber that throws is logged and does not keep the others from hearing', async () => {
    const lines: Record<string, unknown>[] = []
    const log = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) })
    const { clock, ca, start } = await setup({ log })
    const owner = await start()
    owner.subscribe(() => {
      throw new Error('listener broke')
    })
    const { seen } = record(owner)
    clock.advance(301)
    await ca.rotate()
    expect(seen).toHaveLength(1)
    expect(lines.filter((l) => l['msg'] === 'Bundle listener failed')).toEqual([expect.objectContaining({ level: 'error', err: 'listener broke' })])
    await owner.close()
  })

  it('start rejects with the store\'s error when the first read fails, and follows nothing afterwards', async () => {
    const { clock, ca, bundles, start } = await setup({ failFirstRead: new Error('no such table: bundles') })
    await expect(start()).rejects.toThrow('no such table: bundles')
    expect(bundles.reads).toBe(1)
    clock.advance(301)
    await ca.rotate()
    expect(bundles.reads).toBe(1)
  })

  it('close waits for a refresh under way, then reads nothing more and tells no one', async () => {
    const { clock, store, ca, cache, bundles, start } = await setup()
    const owner = await start()
    const { seen } = record(owner)
    const held = bundles.hold()
    const refreshing = owner.refresh()
    await held.started
    let closed = false
    const closing = owner.close().then(() => {
      closed = true
    })
    await new Promise((r) => setImmediate(r))
    expect(closed).toBe(false)
    held.release()
    await closing
    await refreshing
    const reads = bundles.reads

    clock.advance(301)
    await ca.rotate()
    await publishOtherServersCa(store)
    await cache.applyEvents()
    await owner.refresh()
    expect(bundles.reads).toBe(reads)
    expect(seen).toHaveLength(0)
  })
})
