import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../../common/logger.js'
import { MemoryKeyManager } from '../../plugins/key-manager/memory/index.js'
import { DiskKeyManager } from '../../plugins/key-manager/disk/index.js'
import type { UpstreamAuthority } from '../../plugins/upstream-authority/types.js'
import {
  createSelfSignedCa,
  decodeCertificate,
  mintX509Ca,
  parseAndValidateJwtSvid,
  parseSpiffeId,
  parseTrustDomain,
  verifyX509Svid,
} from '../../spiffe/index.js'
import { MemoryDataStore } from '../../test/fakes/memory-data-store.js'
import { CaManager, type CaManagerOptions } from './manager.js'

const td = parseTrustDomain('example.org')
const workload = parseSpiffeId('spiffe://example.org/workload')
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'steeple-ca-'))
  dirs.push(dir)
  return dir
}

/** A clock the test moves by hand. */
function manualClock(start = new Date('2026-01-01T00:00:00Z')) {
  let now = start.getTime()
  return {
    now: () => new Date(now),
    advance: (seconds: number) => {
      now += seconds * 1000
    },
  }
}

function makeManager(overrides: Partial<CaManagerOptions> = {}) {
  const clock = manualClock()
  const store = new MemoryDataStore({ clock: clock.now })
  const options: CaManagerOptions = {
    trustDomain: td,
    keyManager: new MemoryKeyManager(),
    bundles: store.bundles,
    upstream: undefined,
    keyType: 'ec-p256',
    caTtlSeconds: 600,
    subject: { country: '', organization: 'Steeple', commonName: '' },
    journalPath: join(tempDir(), 'ca-journal.json'),
    clock: clock.now,
    log: silentLogger(),
    ...overrides,
  }
  return { manager: new CaManager(options), clock, store, options }
}

function mintLeaf(manager: CaManager, ttlSeconds = 60) {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  return manager.signX509Svid({ spiffeId: workload, publicKey, ttlSeconds })
}

describe('CA manager', () => {
  it('ID-13, X509-13, X509-15: creates a self-signed CA for spiffe://<td> and publishes it', async () => {
    const { manager, store } = makeManager()
    await manager.init()
    const bundle = await store.bundles.get(td)
    expect(bundle?.x509Authorities).toHaveLength(1)
    expect(bundle?.jwtAuthorities.size).toBe(1)
    const ca = decodeCertificate(bundle!.x509Authorities[0]!)
    expect(ca.uris).toEqual(['spiffe://example.org'])
    expect(ca.basicConstraints?.ca).toBe(true)
    expect(manager.slots()).toEqual([expect.objectContaining({ slot: 'a', status: 'active' })])
  })

  it('FED-02, FED-03, BUN-09: prepares at 1/2, activates at 5/6, keeps old authorities until they expire', async () => {
    const { manager, store, clock } = makeManager({ caTtlSeconds: 600 })
    await manager.init()
    const seq0 = (await store.bundles.get(td))!.sequenceNumber!
    const firstCa = manager.activeAuthority().x509.certificateDer

    // The schedule runs from issuance (t0), not from the backdated notBefore.
    clock.advance(299)
    await manager.rotate()
    expect(manager.slots().map((s) => s.status)).toEqual(['active'])

    clock.advance(2) // 301 s: past half of the life
    await manager.rotate()
    expect(manager.slots().map((s) => s.status).sort()).toEqual(['active', 'prepared'])
    const afterPrepare = (await store.bundles.get(td))!
    expect(afterPrepare.x509Authorities).toHaveLength(2)
    expect(afterPrepare.jwtAuthorities.size).toBe(2)
    expect(afterPrepare.sequenceNumber! > seq0).toBe(true)
    // Published, but not yet signing (FED-02).
    expect(Buffer.from(manager.activeAuthority().x509.certificateDer).equals(Buffer.from(firstCa))).toBe(true)

    clock.advance(200) // 501 s: past 5/6 of the life (500 s)
    await manager.rotate()
    expect(Buffer.from(manager.activeAuthority().x509.certificateDer).equals(Buffer.from(firstCa))).toBe(false)
    expect(manager.slots().map((s) => s.status).sort()).toEqual(['active', 'old'])
    expect((await store.bundles.get(td))!.x509Authorities).toHaveLength(2)

    clock.advance(100) // 601 s: the first CA has expired and leaves the bundle (FED-03)
    await manager.rotate()
    // By then the second CA is itself past half of its life, so a third one is prepared too.
    const pruned = (await store.bundles.get(td))!
    expect(pruned.x509Authorities.some((der) => Buffer.from(der).equals(Buffer.from(firstCa)))).toBe(false)
    expect(pruned.x509Authorities).toHaveLength(2)
    expect(pruned.jwtAuthorities.size).toBe(2)
    expect(manager.slots().map((s) => s.status).sort()).toEqual(['active', 'prepared'])
  })

  it('every SVID minted through two rotations verifies against the bundle published when it was minted', async () => {
    const { manager, store, clock } = makeManager({ caTtlSeconds: 120 })
    await manager.init()
    for (let t = 0; t < 400; t += 7) {
      await manager.rotate()
      const svid = mintLeaf(manager, 30)
      const bundle = (await store.bundles.get(td))!
      expect(verifyX509Svid(svid.chainDer, bundle, { now: clock.now() }).id.equals(workload)).toBe(true)
      // No SVID outlives the CA that signed it.
      const caNotAfter = decodeCertificate(manager.activeAuthority().x509.certificateDer).notAfter
      expect(svid.notAfter.getTime()).toBeLessThanOrEqual(caNotAfter.getTime())
      const jwt = manager.signJwtSvid({ spiffeId: workload, audience: ['db'], ttlSeconds: 30 })
      expect(parseAndValidateJwtSvid(jwt.token, bundle, 'db', { now: clock.now() }).id.equals(workload)).toBe(true)
      clock.advance(7)
    }
  })

  it('caps an SVID at the CA expiry', async () => {
    const { manager } = makeManager({ caTtlSeconds: 600 })
    await manager.init()
    const svid = mintLeaf(manager, 3600)
    expect(svid.notAfter).toEqual(manager.activeAuthority().notAfter)
  })

  it('resumes the same CA after a restart (disk keys + journal), without a new publication', async () => {
    const dataDir = tempDir()
    const clock = manualClock()
    const store = new MemoryDataStore({ clock: clock.now })
    const options = (): CaManagerOptions => ({
      trustDomain: td,
      keyManager: new DiskKeyManager(join(dataDir, 'keys')),
      bundles: store.bundles,
      upstream: undefined,
      keyType: 'ec-p256',
      caTtlSeconds: 600,
      subject: { country: '', organization: 'Steeple', commonName: '' },
      journalPath: join(dataDir, 'ca-journal.json'),
      clock: clock.now,
      log: silentLogger(),
    })
    const first = new CaManager(options())
    await first.init()
    const before = (await store.bundles.get(td))!
    const second = new CaManager(options())
    await second.init()
    const after = (await store.bundles.get(td))!
    expect(after.sequenceNumber).toBe(before.sequenceNumber)
    expect(Buffer.from(second.activeAuthority().x509.certificateDer).equals(Buffer.from(first.activeAuthority().x509.certificateDer))).toBe(true)
    expect(statSync(join(dataDir, 'ca-journal.json')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(dataDir, 'ca-journal.json'), 'utf8')).not.toMatch(/PRIVATE KEY/)
  })

  it('starts a new CA when the journal names keys the key manager no longer has', async () => {
    const { manager, options, store } = makeManager()
    await manager.init()
    const restarted = new CaManager({ ...options, keyManager: new MemoryKeyManager() })
    await restarted.init()
    expect((await store.bundles.get(td))!.x509Authorities).toHaveLength(2)
    expect(mintLeaf(restarted).chainDer).toHaveLength(1)
  })

  it('X509-16: with an upstream authority the server CA is an intermediate and the bundle holds the upstream root', async () => {
    const rootKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
    const root = createSelfSignedCa({ trustDomain: td, privateKey: rootKey, ttlSeconds: 86400, now: new Date('2025-12-31T12:00:00Z') })
    const upstream: UpstreamAuthority = {
      async mintX509Ca(publicKey, trustDomain, ttlSeconds, now) {
        const minted = mintX509Ca({ parent: { certificateDer: root.certificateDer, privateKey: rootKey }, trustDomain, publicKey, ttlSeconds, now })
        return { caCertificateDer: minted.certificateDer, intermediatesDer: [], upstreamRootsDer: [root.certificateDer] }
      },
    }
    const { manager, store, clock } = makeManager({ upstream })
    await manager.init()
    const bundle = (await store.bundles.get(td))!
    expect(bundle.x509Authorities).toHaveLength(1)
    expect(Buffer.from(bundle.x509Authorities[0]!).equals(Buffer.from(root.certificateDer))).toBe(true)
    const svid = mintLeaf(manager)
    expect(svid.chainDer).toHaveLength(2)
    expect(new X509Certificate(svid.chainDer[1]!).checkIssued(new X509Certificate(root.certificateDer))).toBe(true)
    expect(verifyX509Svid(svid.chainDer, bundle, { now: clock.now() }).id.equals(workload)).toBe(true)
    // A leaf alone verifies with the CA's intermediates (agents present only their leaf over mTLS).
    expect(manager.intermediates().map((d) => Buffer.from(d).toString('hex'))).toEqual([Buffer.from(svid.chainDer[1]!).toString('hex')])
    expect(verifyX509Svid([svid.chainDer[0]!, ...manager.intermediates()], bundle, { now: clock.now() }).id.equals(workload)).toBe(true)
  })

  it('has no intermediates with a self-signed CA', async () => {
    const { manager } = makeManager()
    await manager.init()
    expect(manager.intermediates()).toEqual([])
  })
})
