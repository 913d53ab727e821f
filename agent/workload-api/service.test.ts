import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import { afterEach, describe, expect, it } from 'vitest'
import { InternalError } from '../../common/errors.js'
import { protoPath } from '../../proto/index.js'
import { parseTrustDomain, splitDerSequence, verifyX509Svid } from '../../spiffe/index.js'
import { FakeAuthority } from '../../test/fakes/fake-identity-cache.js'
import { Harness, OpenStream, TRUST_DOMAIN, headerMetadata, rawCall } from './testdata/harness.js'

const ALL_METHODS: readonly [string, object][] = [
  ['FetchX509SVID', {}],
  ['FetchX509Bundles', {}],
  ['FetchJWTSVID', { audience: ['a'] }],
  ['FetchJWTBundles', {}],
  ['ValidateJWTSVID', { audience: 'a', svid: 'x.y.z' }],
  ['FetchWITSVID', {}],
  ['FetchWITBundles', {}],
]

const harnesses: Harness[] = []
async function harness(options: { firstMessageWaitMs?: number } = {}): Promise<Harness> {
  const h = await Harness.start(options)
  harnesses.push(h)
  return h
}
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop()
})

interface X509SvidMessage {
  spiffe_id: string
  x509_svid: Buffer
  x509_svid_key: Buffer
  bundle: Buffer
  hint: string
}
interface X509SvidResponse {
  svids: X509SvidMessage[]
  crl: Buffer[]
  federated_bundles: Record<string, Buffer>
}

const ids = (response: X509SvidResponse): string[] => response.svids.map((s) => s.spiffe_id)

describe('security header', () => {
  const cases = ALL_METHODS.flatMap(([method, request]) =>
    (
      [
        ['no header', []],
        ['"True"', ['True']],
        ['"false"', ['false']],
        ['"true" twice', ['true', 'true']],
        ['"true " with a space', ['true ']],
      ] as const
    ).map(([label, values]) => [method, label, request, values] as const),
  )

  it.each(cases)(
    'WEP-04, WEP-05, INTEROP-12: %s with %s → INVALID_ARGUMENT before attestation',
    async (method, _label, request, values) => {
      const h = await harness()
      const result = await rawCall(h.raw(), method, request, headerMetadata(...values))
      expect(result).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'security header missing from request' })
      expect(h.attested).toEqual([])
    },
  )

  it('WEP-05: the header is checked even before readiness', async () => {
    const h = await harness()
    h.cache.setReady(false)
    for (const [method, request] of ALL_METHODS) {
      const result = await rawCall(h.raw(), method, request, headerMetadata())
      expect(result.code, method).toBe(grpc.status.INVALID_ARGUMENT)
    }
  })
})

describe('status codes', () => {
  it.each([['FetchWITSVID'], ['FetchWITBundles']])('WEP-14, WW-01: %s with the header → UNIMPLEMENTED', async (method) => {
    const h = await harness()
    const result = await rawCall(h.raw(), method, {}, headerMetadata('true'))
    expect(result.code).toBe(grpc.status.UNIMPLEMENTED)
    expect(h.attested).toEqual([])
  })

  it.each(ALL_METHODS.slice(0, 5))('WEP-12: %s before the agent is ready → UNAVAILABLE, without attesting', async (method, request) => {
    const h = await harness()
    h.cache.setReady(false)
    const result = await rawCall(h.raw(), method, request, headerMetadata('true'))
    expect(result).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'agent is not ready' })
    expect(h.attested).toEqual([])
  })

  it.each(ALL_METHODS.slice(0, 4))(
    'WEP-13, WX-10, WX-14, WJ-05, WJ-09: %s by a caller with no entry → PERMISSION_DENIED "no identity issued"',
    async (method, request) => {
      const h = await harness()
      h.cache.addEntry({ spiffeId: 'spiffe://example.org/other', selectors: ['test:someone-else'] })
      const result = await rawCall(h.raw(), method, request, headerMetadata('true'))
      expect(result).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: 'no identity issued', messages: [] })
      expect(h.attested).toEqual([process.pid])
    },
  )

  it('WAPI-01: the five RPCs of the X.509-SVID and JWT-SVID profiles answer a registered caller', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const client = h.client()
    const context = await client.fetchX509Context()
    expect(context.svids.map((s) => s.id.toString())).toEqual(['spiffe://example.org/web'])
    expect([...(await client.fetchX509Bundles())].map((b) => b.trustDomain.name)).toEqual(['example.org'])
    expect([...(await client.fetchJwtBundles())].map((b) => b.trustDomain.name)).toEqual(['example.org'])
    const jwt = await client.fetchJwtSvid({ audience: ['a'] })
    expect((await client.validateJwtSvid({ audience: 'a', token: jwt.token })).id.toString()).toBe('spiffe://example.org/web')
  })

  it('a failing attestor gives UNAVAILABLE "workload attestation failed"; the reason is only in the log, with pid and uid', async () => {
    const h = await harness()
    h.beforeAttest = async () => {
      throw new InternalError('workloadattestor(unix): cannot read /proc/1234/status')
    }
    for (const [method, request] of ALL_METHODS.slice(0, 5)) {
      const result = await rawCall(h.raw(), method, request, headerMetadata('true'))
      expect(result, method).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'workload attestation failed' })
    }
    const failures = h.logsWith('Workload attestation failed')
    expect(failures).toHaveLength(5)
    expect(failures[0]).toMatchObject({
      level: 'warn',
      callerPid: process.pid,
      callerUid: process.getuid!(),
      reason: 'workloadattestor(unix): cannot read /proc/1234/status',
    })
  })

  it('an unexpected error reaches the caller as INTERNAL "internal error" and is logged', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    h.cache.identitiesFor = () => {
      throw new Error('boom at /var/lib/secret')
    }
    const result = await rawCall(h.raw(), 'FetchX509SVID', {}, headerMetadata('true'))
    expect(result).toMatchObject({ code: grpc.status.INTERNAL, details: 'internal error' })
    expect(h.logsWith('Unexpected error')).toHaveLength(1)
  })
})

describe('FetchX509SVID', () => {
  it('WX-02, WX-03, WX-04, WX-05, WX-06, WAPI-11, INTEROP-03: one complete X509SVID per entry, chain as DER, PKCS#8 key of the leaf, own CAs as bundle', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/db', selectors: ['test:caller'], hint: 'db' })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/api', selectors: ['test:caller', 'test:more'] })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/other', selectors: ['test:other'] })
    const [response] = (await rawCall(h.raw(), 'FetchX509SVID', {}, headerMetadata('true'))).messages as unknown as X509SvidResponse[]
    expect(ids(response!)).toEqual(['spiffe://example.org/web', 'spiffe://example.org/db'])
    expect(response!.svids.map((s) => s.hint)).toEqual(['', 'db'])
    for (const svid of response!.svids) {
      const chain = splitDerSequence(svid.x509_svid)
      const leaf = new X509Certificate(chain[0]!)
      expect(leaf.subjectAltName).toBe(`URI:${svid.spiffe_id}`)
      const key = createPrivateKey({ key: svid.x509_svid_key, format: 'der', type: 'pkcs8' })
      expect(createPublicKey(key).export({ format: 'der', type: 'spki' })).toEqual(leaf.publicKey.export({ format: 'der', type: 'spki' }))
      expect(Buffer.from(svid.bundle)).toEqual(h.cache.bundle.x509AuthoritiesDer())
      expect(verifyX509Svid(chain, h.cache.bundle).id.toString()).toBe(svid.spiffe_id)
    }
    expect(response!.crl).toEqual([])
    expect(response!.federated_bundles).toEqual({})
  })

  it('WX-08, INTEROP-02: federated bundles of the caller\'s entries are keyed by trust domain SPIFFE ID; others are not sent', async () => {
    const h = await harness()
    const partner = new FakeAuthority(parseTrustDomain('partner.test'))
    const stranger = new FakeAuthority(parseTrustDomain('stranger.test'))
    h.cache.setFederatedBundle(partner.bundle)
    h.cache.setFederatedBundle(stranger.bundle)
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'], federatesWith: [partner.trustDomain] })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/x', selectors: ['test:other'], federatesWith: [stranger.trustDomain] })
    const [response] = (await rawCall(h.raw(), 'FetchX509SVID', {}, headerMetadata('true'))).messages as unknown as X509SvidResponse[]
    expect(Object.keys(response!.federated_bundles)).toEqual(['spiffe://partner.test'])
    expect(Buffer.from(response!.federated_bundles['spiffe://partner.test']!)).toEqual(partner.bundle.x509AuthoritiesDer())
  })

  it('WAPI-14: of two SVIDs with the same hint only the first is sent', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/a', selectors: ['test:caller'], hint: 'internal' })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/b', selectors: ['test:caller'], hint: 'internal' })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/c', selectors: ['test:caller'], hint: 'external' })
    const [response] = (await rawCall(h.raw(), 'FetchX509SVID', {}, headerMetadata('true'))).messages as unknown as X509SvidResponse[]
    expect(response!.svids.map((s) => [s.spiffe_id, s.hint])).toEqual([
      ['spiffe://example.org/a', 'internal'],
      ['spiffe://example.org/c', 'external'],
    ])
  })

  it('WAPI-06: the first message of a stream comes at once', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const started = Date.now()
    const stream = new OpenStream<X509SvidResponse>(h.raw(), 'FetchX509SVID')
    expect(ids(await stream.next(1000))).toEqual(['spiffe://example.org/web'])
    expect(Date.now() - started).toBeLessThan(1000)
    stream.cancel()
  })

  it('WAPI-05, WAPI-07, WAPI-13, WX-02: a new entry brings a full message with every SVID, the default identity first; no-op changes send nothing', async () => {
    const h = await harness()
    const web = h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const stream = new OpenStream<X509SvidResponse>(h.raw(), 'FetchX509SVID')
    const first = await stream.next()
    expect(ids(first)).toEqual(['spiffe://example.org/web'])

    h.cache.touch()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/x', selectors: ['test:other'] })
    expect(await stream.quietFor(200)).toBe(true)

    h.cache.addEntry({ spiffeId: 'spiffe://example.org/db', selectors: ['test:caller'] })
    const second = await stream.next()
    expect(ids(second)).toEqual(['spiffe://example.org/web', 'spiffe://example.org/db'])
    expect(Buffer.from(second.svids[0]!.x509_svid)).toEqual(Buffer.from(first.svids[0]!.x509_svid))
    expect(Buffer.from(second.svids[0]!.bundle)).toEqual(h.cache.bundle.x509AuthoritiesDer())

    // A rotation of the default identity keeps it first.
    h.cache.mint(web)
    const third = await stream.next()
    expect(ids(third)).toEqual(['spiffe://example.org/web', 'spiffe://example.org/db'])
    expect(Buffer.from(third.svids[0]!.x509_svid)).not.toEqual(Buffer.from(first.svids[0]!.x509_svid))
    expect(stream.pending).toBe(0)
    stream.cancel()
  })

  it('WAPI-09, WX-11: a deleted entry is left out of the next message; when the last goes the stream ends with PERMISSION_DENIED', async () => {
    const h = await harness()
    const web = h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const db = h.cache.addEntry({ spiffeId: 'spiffe://example.org/db', selectors: ['test:caller'] })
    const stream = new OpenStream<X509SvidResponse>(h.raw(), 'FetchX509SVID')
    expect(ids(await stream.next())).toEqual(['spiffe://example.org/web', 'spiffe://example.org/db'])
    h.cache.removeEntry(web)
    expect(ids(await stream.next())).toEqual(['spiffe://example.org/db'])
    h.cache.removeEntry(db)
    expect(await stream.ended()).toEqual({ code: grpc.status.PERMISSION_DENIED, details: 'no identity issued' })
    expect(h.cache.subscriberCount).toBe(0)
  })

  it('WAPI-09, WX-15: a federation that is removed disappears from the next message', async () => {
    const h = await harness()
    const a = new FakeAuthority(parseTrustDomain('a.test'))
    const b = new FakeAuthority(parseTrustDomain('b.test'))
    h.cache.setFederatedBundle(a.bundle)
    h.cache.setFederatedBundle(b.bundle)
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'], federatesWith: [a.trustDomain, b.trustDomain] })
    const svids = new OpenStream<X509SvidResponse>(h.raw(), 'FetchX509SVID')
    const bundles = new OpenStream<{ bundles: Record<string, Buffer> }>(h.raw(), 'FetchX509Bundles')
    expect(Object.keys((await svids.next()).federated_bundles)).toEqual(['spiffe://a.test', 'spiffe://b.test'])
    expect(Object.keys((await bundles.next()).bundles)).toEqual(['spiffe://a.test', 'spiffe://b.test', 'spiffe://example.org'])
    h.cache.deleteFederatedBundle(a.trustDomain)
    expect(Object.keys((await svids.next()).federated_bundles)).toEqual(['spiffe://b.test'])
    expect(Object.keys((await bundles.next()).bundles)).toEqual(['spiffe://b.test', 'spiffe://example.org'])
    svids.cancel()
    bundles.cancel()
  })


  it('logs each issued identity with pid, uid, SPIFFE IDs and entry ids, and never key material', async () => {
    const h = await harness()
    const web = h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    await rawCall(h.raw(), 'FetchX509SVID', {}, headerMetadata('true'))
    const [issued] = h.logsWith('Identity issued')
    expect(issued).toMatchObject({
      level: 'info',
      method: 'FetchX509SVID',
      callerPid: process.pid,
      callerUid: process.getuid!(),
      selectors: ['test:caller'],
      svidType: 'x509',
      spiffeIds: ['spiffe://example.org/web'],
      entryIds: [web],
    })
    const key = Buffer.from(h.cache.svidOf(web)!.privateKeyDer)
    const text = h.logs.map((l) => JSON.stringify(l)).join('\n')
    expect(text).not.toContain(key.toString('base64'))
    expect(text).not.toContain('PRIVATE KEY')
  })

  it('stopping the API ends open streams cleanly (clients reconnect) and removes the socket', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const stream = new OpenStream<X509SvidResponse>(h.raw(), 'FetchX509SVID')
    await stream.next()
    await h.api.close()
    expect([0, grpc.status.UNAVAILABLE]).toContain((await stream.ended()).code)
    expect(h.cache.subscriberCount).toBe(0)
  })
})

describe('FetchX509SVID for an entitled caller with no valid SVID right now', () => {
  const leafOf = (response: X509SvidResponse) => new X509Certificate(splitDerSequence(response.svids[0]!.x509_svid)[0]!)
  // The agent's wait for a first message is far above the client's deadline here, so an answer
  // within the deadline is an immediate one, and a missing one shows as DEADLINE_EXCEEDED.
  const FIRST_MESSAGE_WAIT_MS = 120_000
  const withDeadline = () => ({ deadline: Date.now() + 10_000 })

  it('WEP-12, INTEROP-13: its SVID expired and the server is unreachable: a new call ends at once with UNAVAILABLE "no identity available right now"; why is logged at warn, once for a retrying client', async () => {
    const h = await harness({ firstMessageWaitMs: FIRST_MESSAGE_WAIT_MS })
    const web = h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const since = new Date(Date.now() - 60_000)
    h.cache.setServerUnreachable(since)
    h.cache.expire(web)
    const expiredAt = h.cache.svidOf(web)!.notAfter
    for (let i = 0; i < 3; i++) {
      const result = await rawCall(h.raw(), 'FetchX509SVID', {}, headerMetadata('true'), 1, withDeadline())
      expect(result).toEqual({ code: grpc.status.UNAVAILABLE, details: 'no identity available right now', messages: [] })
    }
    const lines = h.logsWith('No valid X.509-SVID for the caller')
    expect(lines.map((line) => line['level'])).toEqual(['warn', 'debug', 'debug'])
    expect(lines[0]).toMatchObject({
      outcome: 'UNAVAILABLE',
      reason: 'server unreachable',
      serverUnreachableSince: since.toISOString(),
      entryIds: [web],
      spiffeIds: ['spiffe://example.org/web'],
      expiredAt: [expiredAt.toISOString()],
      callerPid: process.pid,
      method: 'FetchX509SVID',
    })
    expect(h.logsWith('Identity issued')).toEqual([])
    expect(h.cache.subscriberCount).toBe(0)
  })

  it('WEP-12: signing failing for each of its entries (server reachable) is UNAVAILABLE at once too, logged with the retry time', async () => {
    const h = await harness({ firstMessageWaitMs: FIRST_MESSAGE_WAIT_MS })
    const web = h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'], mint: false })
    const retryAt = new Date(Date.now() + 5000)
    h.cache.failSigning(web, retryAt)
    const result = await rawCall(h.raw(), 'FetchX509SVID', {}, headerMetadata('true'), 1, withDeadline())
    expect(result).toEqual({ code: grpc.status.UNAVAILABLE, details: 'no identity available right now', messages: [] })
    expect(h.logsWith('No valid X.509-SVID for the caller')[0]).toMatchObject({
      level: 'warn',
      reason: 'signing failing',
      entryIds: [web],
      expiredAt: [null],
      signingRetryAt: [retryAt.toISOString()],
    })
  })

  it('WX-02: an expired SVID is left out while another entry of the caller has a valid one', async () => {
    const h = await harness()
    const web = h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/db', selectors: ['test:caller'] })
    h.cache.setServerUnreachable(new Date())
    h.cache.expire(web)
    const [response] = (await rawCall(h.raw(), 'FetchX509SVID', {}, headerMetadata('true'))).messages as unknown as X509SvidResponse[]
    expect(ids(response!)).toEqual(['spiffe://example.org/db'])
  })

  it('WEP-12: while its SVID is being minted (server reachable) a new call waits for it, then gets it', async () => {
    const h = await harness({ firstMessageWaitMs: FIRST_MESSAGE_WAIT_MS })
    const web = h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'], mint: false })
    const stream = new OpenStream<X509SvidResponse>(h.raw(), 'FetchX509SVID')
    expect(await stream.quietFor(200)).toBe(true)
    h.cache.mint(web)
    expect(ids(await stream.next())).toEqual(['spiffe://example.org/web'])
    stream.cancel()
  })

  it('WEP-12: … but not unbounded: when nothing is minted within the wait for a first message, UNAVAILABLE, logged as "not minted in time"', async () => {
    const h = await harness({ firstMessageWaitMs: 300 })
    const web = h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'], mint: false })
    const result = await rawCall(h.raw(), 'FetchX509SVID', {}, headerMetadata('true'), 1, withDeadline())
    expect(result).toEqual({ code: grpc.status.UNAVAILABLE, details: 'no identity available right now', messages: [] })
    expect(h.logsWith('No valid X.509-SVID for the caller')[0]).toMatchObject({
      level: 'warn',
      outcome: 'UNAVAILABLE',
      reason: 'not minted in time',
      entryIds: [web],
      expiredAt: [null],
    })
    expect(h.cache.subscriberCount).toBe(0)
  })

  it('WX-10, WX-11, WAPI-05: an open stream whose SVID expires while the server is unreachable stays open and silent (never the expired SVID, no PERMISSION_DENIED), then gets the next SVID at once', async () => {
    const h = await harness({ firstMessageWaitMs: 300 })
    const web = h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const stream = new OpenStream<X509SvidResponse>(h.raw(), 'FetchX509SVID')
    const first = leafOf(await stream.next())
    h.cache.setServerUnreachable(new Date())
    h.cache.expire(web)
    // Longer than the wait for a first message: that bound is for new calls only.
    expect(await stream.quietFor(600)).toBe(true)
    h.cache.touch()
    expect(await stream.quietFor(200)).toBe(true)
    const waiting = h.logsWith('No valid X.509-SVID for the caller')
    expect(waiting).toHaveLength(1)
    expect(waiting[0]).toMatchObject({ level: 'warn', outcome: 'stream kept open', reason: 'server unreachable', entryIds: [web] })

    h.cache.setServerUnreachable(undefined)
    h.cache.mint(web)
    const next = await stream.next()
    expect(ids(next)).toEqual(['spiffe://example.org/web'])
    const fresh = leafOf(next)
    expect(fresh.serialNumber).not.toBe(first.serialNumber)
    expect(new Date(fresh.validTo).getTime()).toBeGreaterThan(Date.now())
    expect(stream.pending).toBe(0)
    stream.cancel()
  })
})

describe('FetchX509Bundles', () => {
  it('WX-12, WX-13, INTEROP-02: the own trust domain always, as DER keyed by spiffe://', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const [response] = (await rawCall(h.raw(), 'FetchX509Bundles', {}, headerMetadata('true'))).messages as unknown as {
      bundles: Record<string, Buffer>
      crl: Buffer[]
    }[]
    expect(Object.keys(response!.bundles)).toEqual([TRUST_DOMAIN.idString()])
    expect(Buffer.from(response!.bundles[TRUST_DOMAIN.idString()]!)).toEqual(h.cache.bundle.x509AuthoritiesDer())
  })
})

describe('a caller that goes away', () => {
  it('WEP-11: a process that exits between connecting and the end of its attestation gets nothing', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const script = fileURLToPath(new URL('./peer/testdata/call-workload-api.mjs', import.meta.url))
    const child = spawn(process.execPath, [script, h.api.socketPath, protoPath('workload.proto')], { stdio: ['ignore', 'pipe', 'ignore'] })
    const exited = once(child, 'exit')
    let attesting!: () => void
    const attestationStarted = new Promise<void>((resolve) => (attesting = resolve))
    // The attestor has read /proc (the fake answers at once) but the caller exits before the check after it.
    h.beforeAttest = async (pid) => {
      if (pid !== child.pid) return
      attesting()
      await exited
    }
    await attestationStarted
    child.kill('SIGKILL')
    await exited
    await expect.poll(() => h.logsWith('Workload attestation failed').length).toBe(1)
    expect(h.logsWith('Workload attestation failed')[0]).toMatchObject({ callerPid: child.pid, reason: 'workloadapi: caller exited' })
    expect(h.logsWith('Identity issued')).toEqual([])
    expect(h.cache.jwtRequests).toEqual([])
  })

  it('WEP-11: a connection handed to another process after its maker exited gets UNAVAILABLE and no SVID', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const { stdout } = await runHandOff('call', h.api.socketPath)
    expect(JSON.parse(stdout.trim())).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'workload attestation failed', bytes: 0 })
    expect(h.logsWith('Identity issued')).toEqual([])
  })

  it('a stream whose caller exited while another process holds the connection ends at the next update, sending nothing more', async () => {
    const h = await harness()
    const web = h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const { heirPid } = await runHandOff('stream', h.api.socketPath)
    try {
      expect(h.logsWith('Identity issued')).toHaveLength(1)
      h.cache.mint(web)
      await expect.poll(() => h.logsWith('Workload API stream ended').length).toBe(1)
      expect(h.logsWith('Workload API stream ended')[0]).toMatchObject({ reason: 'caller exited', method: 'FetchX509SVID' })
      expect(h.logsWith('Identity issued')).toHaveLength(1)
      expect(h.cache.subscriberCount).toBe(0)
    } finally {
      process.kill(heirPid, 'SIGKILL')
    }
  })
})

const HAND_OFF = fileURLToPath(new URL('./testdata/hand-off.mjs', import.meta.url))

/** Runs testdata/hand-off.mjs; resolves with what it printed once the connecting process exited. */
async function runHandOff(mode: 'call' | 'stream', socketPath: string): Promise<{ stdout: string; heirPid: number }> {
  const child = spawn(process.execPath, [HAND_OFF, mode, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  if (mode === 'call') {
    // 'close' waits for the heir, which shares the stdout pipe, to finish its call.
    await once(child, 'close')
    return { stdout, heirPid: 0 }
  }
  await once(child, 'exit')
  await expect.poll(() => stdout.includes('\n')).toBe(true)
  return { stdout, heirPid: (JSON.parse(stdout.trim()) as { pid: number }).pid }
}
