import { rm } from 'node:fs/promises'
import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadWorkloadApi } from '../../proto/index.js'
import { decodeCertificate, splitDerSequence } from '../../spiffe/index.js'
import { deploy, waitFor, type Deployment } from './agent-helpers.js'

/**
 * The server down past the expiry of a workload's X.509-SVID, on real processes: `steeple-server`
 * and `steeple-agent` (the agent's own SVID lives the default hour, so it outlasts the outage), and a
 * workload entry for this uid whose SVIDs live a few seconds. The agent must neither hand out the
 * expired SVID nor leave the caller waiting: a new call is told UNAVAILABLE at once, a stream opened
 * before the expiry stays open and gets the next SVID as soon as the server is back.
 */

const SVID_TTL_SECONDS = 6
const MY_UID = process.getuid!()
const WorkloadApi = loadWorkloadApi()

let d: Deployment
let raw: grpc.Client

beforeAll(async () => {
  d = await deploy({ prefix: 'steeple-expiry-' })
  raw = new WorkloadApi(d.agent.address, grpc.credentials.createInsecure())
}, 60_000)

afterAll(async () => {
  raw?.close()
  await d?.stop()
  if (d !== undefined) await rm(d.root, { recursive: true, force: true })
})

function header(): grpc.Metadata {
  const metadata = new grpc.Metadata()
  metadata.set('workload.spiffe.io', 'true')
  return metadata
}

interface ReceivedSvid {
  readonly arrivedAt: number
  readonly spiffeId: string
  readonly serial: string
  readonly notAfter: number
}

/** A FetchX509SVID stream left open: what it received (first SVID of each message) and how it ended. */
class WatchedStream {
  readonly received: ReceivedSvid[] = []
  status: { code: number; details: string } | undefined
  readonly #call: grpc.ClientReadableStream<unknown>

  constructor() {
    const def = WorkloadApi.service['FetchX509SVID']!
    this.#call = raw.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, {}, header())
    this.#call.on('data', (message: { svids: { spiffe_id: string; x509_svid: Buffer }[] }) => {
      const svid = message.svids[0]
      if (svid === undefined) {
        this.received.push({ arrivedAt: Date.now(), spiffeId: '', serial: '', notAfter: 0 })
        return
      }
      const leaf = decodeCertificate(splitDerSequence(svid.x509_svid)[0]!)
      this.received.push({ arrivedAt: Date.now(), spiffeId: svid.spiffe_id, serial: leaf.serial.toString(16), notAfter: leaf.notAfter.getTime() })
    })
    this.#call.on('error', (err: grpc.ServiceError) => (this.status ??= { code: err.code, details: err.details }))
    this.#call.on('end', () => (this.status ??= { code: 0, details: '' }))
  }

  cancel(): void {
    this.#call.cancel()
  }
}

/** One FetchX509SVID call read to its first message or its end; the client gives up after `deadlineMs`. */
function fetchOnce(deadlineMs: number): Promise<{ code: number; details: string; messages: number }> {
  const def = WorkloadApi.service['FetchX509SVID']!
  return new Promise((resolve) => {
    const call = raw.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, {}, header(), {
      deadline: Date.now() + deadlineMs,
    })
    call.on('data', () => {
      resolve({ code: 0, details: '', messages: 1 })
      call.cancel()
    })
    call.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details, messages: 0 }))
    call.on('end', () => resolve({ code: 0, details: 'ended without a message', messages: 0 }))
  })
}

/** One FetchJWTSVID call; the client gives up after `deadlineMs`. */
function fetchJwtOnce(deadlineMs: number): Promise<{ code: number; details: string }> {
  const def = WorkloadApi.service['FetchJWTSVID']!
  return new Promise((resolve) => {
    raw.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, { audience: ['expiry-test'] }, header(), { deadline: Date.now() + deadlineMs }, (err) =>
      resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '' }),
    )
  })
}

describe('the server down past the expiry of a workload SVID', () => {
  it(
    'WEP-12, WX-10, WX-11, INTEROP-13: a new FetchX509SVID (and FetchJWTSVID) gets UNAVAILABLE instead of waiting; an open stream stays open, sends nothing expired and gets a fresh SVID once the server is back',
    async () => {
      const spiffeId = `spiffe://example.org/expiry/uid-${MY_UID}`
      const entryId = await d.createEntry(spiffeId, [`unix:uid:${MY_UID}`], ['--x509-svid-ttl', String(SVID_TTL_SECONDS)])
      // Entries reach the agent on its sync stream: poll until the SVID is there.
      await waitFor('the first SVID', async () => ((await fetchOnce(5000)).messages === 1 ? true : undefined), 20_000, 200)
      const stream = new WatchedStream()
      try {
        await waitFor('the first message on the stream', () => (stream.received.length > 0 ? true : undefined), 10_000)
        const stopping = Date.now()
        await d.stopServer()

        // Past the expiry of every SVID the stream was sent (a rotation may have come just before the stop).
        const lastExpiry = (): number => Math.max(...stream.received.map((r) => r.notAfter))
        await waitFor('every sent SVID to expire', () => (Date.now() > lastExpiry() + 1000 ? true : undefined), (SVID_TTL_SECONDS + 5) * 1000, 200)
        const sentBeforeOutageEnded = stream.received.length
        const expiredAt = lastExpiry()

        // A new call is answered, not left waiting: the client deadline (15 s) is far above the
        // agent's answer, so DEADLINE_EXCEEDED here would be the hang this test is about.
        expect(await fetchOnce(15_000)).toEqual({ code: grpc.status.UNAVAILABLE, details: 'no identity available right now', messages: 0 })
        expect(await fetchJwtOnce(15_000)).toEqual({ code: grpc.status.UNAVAILABLE, details: 'no identity available right now' })
        const why = await d.agent.waitForLog((r) => r['msg'] === 'No valid X.509-SVID for the caller' && r['outcome'] === 'UNAVAILABLE', 5000)
        expect(why).toMatchObject({ level: 'warn', reason: 'server unreachable', entryIds: [entryId], spiffeIds: [spiffeId] })
        // Unreachable from the stop on, and the expiry of the SVID the stream had.
        expect(Date.parse(String(why['serverUnreachableSince']))).toBeGreaterThanOrEqual(stopping)
        expect(Date.parse(String((why['expiredAt'] as string[])[0]))).toBe(expiredAt)

        // The open stream: not ended (the caller is still entitled), and silent since the expiry.
        expect(stream.status).toBeUndefined()
        expect(stream.received.length).toBe(sentBeforeOutageEnded)

        await d.startServer()
        const fresh = await waitFor('a fresh SVID on the open stream', () => stream.received.find((r) => r.arrivedAt > expiredAt), 30_000)
        expect(fresh.spiffeId).toBe(spiffeId)
        expect(stream.status).toBeUndefined()
        // Never an expired SVID: each one was valid when it arrived.
        for (const r of stream.received) expect([r.serial, r.notAfter > r.arrivedAt]).toEqual([r.serial, true])
        expect(new Set(stream.received.map((r) => r.serial)).size).toBe(stream.received.length)
        expect((await fetchOnce(15_000)).code).toBe(grpc.status.OK)
      } finally {
        stream.cancel()
      }
    },
    60_000,
  )
})
