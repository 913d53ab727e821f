import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WorkloadApiClient, type X509Context } from '../../workloadapi/index.js'
import { decodeCertificate, verifyX509Svid } from '../../spiffe/index.js'
import { deploy, waitFor, type Deployment } from './agent-helpers.js'

/**
 * Rotation under real processes, at test speed: the server's CA lives 60 s (a new one is published
 * at 30 s and signs from 50 s), workload SVIDs 10 s. A workload watches FetchX509SVID for 60 s; every
 * message must hold an SVID that is valid when it arrives and verifies against the bundle in that
 * same message, across SVID rotations, agent SVID renewals and CA rotations.
 */

const WATCH_MS = 60_000
const MY_UID = process.getuid!()

let d: Deployment
let configPath: string

beforeAll(async () => {
  configPath = join(process.env['TMPDIR'] ?? '/tmp', `steeple-rotation-${process.pid}.yaml`)
  await writeFile(configPath, ['server:', '  ca_ttl: 60s', '  default_x509_svid_ttl: 10s', '  default_jwt_svid_ttl: 30s', ''].join('\n'))
  d = await deploy({ serverArgs: ['--config', configPath], prefix: 'steeple-rotation-' })
}, 60_000)

afterAll(async () => {
  await d?.stop()
  if (d !== undefined) await rm(d.root, { recursive: true, force: true })
  if (configPath !== undefined) await rm(configPath, { force: true })
})

describe('rotation with SVID TTL 10 s and CA TTL 60 s', () => {
  it('WAPI-07, WAPI-05: a workload watching for 60 s gets a new message at each rotation, each SVID valid against its own bundle', async () => {
    const spiffeId = `spiffe://example.org/rotation/uid-${MY_UID}`
    await d.createEntry(spiffeId, [`unix:uid:${MY_UID}`], ['--x509-svid-ttl', '10'])
    const client = WorkloadApiClient.connect({ address: d.agent.address, backoff: { initialMs: 100, maxMs: 1000 } })
    const messages: { at: Date; context: X509Context }[] = []
    const errors: string[] = []
    const stop = new AbortController()
    const watching = client.watchX509Context(
      (context) => messages.push({ at: new Date(), context }),
      (err) => errors.push(err.message),
      stop.signal,
    )
    try {
      await waitFor('the first X.509 context', () => (messages.length > 0 ? true : undefined), 20_000)
      await new Promise((resolve) => setTimeout(resolve, WATCH_MS))
    } finally {
      stop.abort()
      await watching
      client.close()
    }

    const serials = new Set<string>()
    const cas = new Set<string>()
    for (const { at, context } of messages) {
      expect(context.svids.map((s) => s.id.toString())).toEqual([spiffeId])
      const svid = context.svids[0]!
      const leaf = decodeCertificate(svid.certificatesDer[0]!)
      // Never expired when it arrives, and valid against the bundle it came with.
      expect(leaf.notAfter.getTime()).toBeGreaterThan(at.getTime())
      expect(verifyX509Svid(svid.certificatesDer, context.bundles, { now: at }).id.toString()).toBe(spiffeId)
      serials.add(leaf.serial.toString(16))
      const own = [...context.bundles.values()].find((b) => b.trustDomain.name === 'example.org')!
      for (const ca of own.x509Authorities) cas.add(Buffer.from(ca).toString('base64'))
    }
    // Rotation at half of a 10 s life (±10 %) over 60 s: about twelve SVIDs; fewer than eight is a stall.
    expect(serials.size, `messages: ${messages.length}, errors: ${errors.join('; ')}`).toBeGreaterThanOrEqual(8)
    // The CA rotated at least once while watching: more CA certificates were seen than one bundle holds.
    expect(cas.size).toBeGreaterThanOrEqual(3)
    // The agent's own SVID (10 s too, the server default here) was renewed along the way.
    expect(d.agent.records.filter((r) => r['msg'] === 'Agent SVID renewed').length).toBeGreaterThanOrEqual(5)
    expect(d.agent.running).toBe(true)
  }, WATCH_MS + 60_000)
})
