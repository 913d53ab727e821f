import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROTO_LOADER_OPTIONS, loadWorkloadApi } from '../../proto/index.js'
import {
  certificatesToPem,
  decodeCertificate,
  parseAndValidateJwtSvid,
  parseTrustDomain,
  parseX509BundlePem,
  pemDecodeAll,
} from '../../spiffe/index.js'
import { OPENSSL_TEXT, withKeyOffCurve } from '../../spiffe/testdata/damaged-bundles.js'
import { WorkloadApiClient, type X509Context } from '../../workloadapi/index.js'
import { AGENT_BIN, NOBODY_CAN_RUN_CLI, agentCli, deploy, waitFor, type Deployment } from './agent-helpers.js'
import { jsonOf, runCommand } from './server-cli-helpers.js'

/**
 * The real thing: `steeple-server run` and `steeple-agent run` as processes on a temp directory,
 * the agent joined with a token and bootstrapped with the server's bundle, workloads calling the
 * agent's socket and attested by the agent's unix attestor from the kernel's peer credentials.
 */

const MY_UID = process.getuid!()
const NOBODY = 65534
const TD = parseTrustDomain('example.org')
const myId = `spiffe://example.org/it/uid-${MY_UID}`

let d: Deployment
let client: WorkloadApiClient

beforeAll(async () => {
  d = await deploy({ prefix: 'steeple-agent-e2e-' })
  client = WorkloadApiClient.connect({ address: d.agent.address, backoff: { initialMs: 100, maxMs: 1000 } })
  await d.createEntry(myId, [`unix:uid:${MY_UID}`], ['--hint', 'mine'])
}, 90_000)

afterAll(async () => {
  client?.close()
  await d?.stop()
  if (d !== undefined) await rm(d.root, { recursive: true, force: true })
})

/** The X.509 context once it satisfies `predicate` (entries reach the agent asynchronously). */
async function x509Context(predicate: (context: X509Context) => boolean, timeoutMs = 20_000): Promise<X509Context> {
  return waitFor(
    'an X.509 context as expected',
    async () => {
      const context = await client.fetchX509Context({ signal: AbortSignal.timeout(3000) })
      return predicate(context) ? context : undefined
    },
    timeoutMs,
    200,
  )
}

const hasMine = (c: X509Context): boolean => c.svids.some((s) => s.id.toString() === myId)

describe('steeple-server and steeple-agent processes', () => {
  it('WEP-11, WX-04, WX-06, X509-12: a unix:uid entry gives this uid an X509-SVID over the socket that openssl verify accepts', async () => {
    await x509Context(hasMine)
    const out = join(d.root, 'fetched')
    const fetched = await agentCli(['api', 'fetch', 'x509', '--socket-path', d.agent.socketPath, '--write', out])
    expect(fetched.code, fetched.stderr).toBe(0)
    const chain = pemDecodeAll(await readFile(join(out, 'svid.0.pem'), 'utf8'))
    const leafOnly = join(out, 'leaf.pem')
    await writeFile(leafOnly, certificatesToPem(chain.slice(0, 1)))
    const intermediates = join(out, 'intermediates.pem')
    await writeFile(intermediates, certificatesToPem(chain.slice(1)))
    const args = ['verify', '-CAfile', join(out, 'bundle.0.pem'), ...(chain.length > 1 ? ['-untrusted', intermediates] : []), leafOnly]
    const verified = await runCommand('openssl', args)
    expect(verified.stdout.trim(), verified.stderr).toBe(`${leafOnly}: OK`)
    // X509-12: what a workload gets is a leaf, never a signing certificate.
    expect(decodeCertificate(chain[0]!).basicConstraints?.ca ?? false).toBe(false)
    expect((await stat(join(out, 'svid.0.key'))).mode & 0o777).toBe(0o600)
  })

  it.skipIf(!NOBODY_CAN_RUN_CLI)('WEP-13, WAPI-03, WX-10: a process of another uid gets PERMISSION_DENIED (needs root and a checkout other users can read)', async () => {
    await x509Context(hasMine)
    const other = await agentCli(['api', 'fetch', 'x509', '--socket-path', d.agent.socketPath], { uid: NOBODY, env: { HOME: '/tmp' } })
    expect(other.code).toBe(1)
    expect(other.stderr).toContain('PERMISSION_DENIED: no identity issued')
  })

  it('WEP-04, WEP-05, WEP-14, WW-01: the agent refuses every method without the header, and answers WIT with UNIMPLEMENTED', async () => {
    const WorkloadApi = loadWorkloadApi()
    const raw = new WorkloadApi(d.agent.address, grpc.credentials.createInsecure())
    try {
      const call = (method: string, request: object, metadata: grpc.Metadata): Promise<number> =>
        new Promise((resolveCall) => {
          const def = WorkloadApi.service[method]!
          if (!def.responseStream) {
            raw.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata, (err) => resolveCall(err?.code ?? 0))
            return
          }
          const stream = raw.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata)
          stream.on('data', () => {
            stream.cancel()
            resolveCall(0)
          })
          stream.on('error', (err: grpc.ServiceError) => resolveCall(err.code))
        })
      const requests: Record<string, object> = { FetchJWTSVID: { audience: ['a'] }, ValidateJWTSVID: { audience: 'a', svid: 'x.y.z' } }
      for (const method of Object.keys(WorkloadApi.service)) {
        expect([method, await call(method, requests[method] ?? {}, new grpc.Metadata())]).toEqual([method, grpc.status.INVALID_ARGUMENT])
      }
      const header = new grpc.Metadata()
      header.set('workload.spiffe.io', 'true')
      expect(await call('FetchWITSVID', {}, header)).toBe(grpc.status.UNIMPLEMENTED)
      expect(await call('FetchWITBundles', {}, header)).toBe(grpc.status.UNIMPLEMENTED)
    } finally {
      raw.close()
    }
  })

  it('WJ-02, WJ-11: a JWT-SVID is signed by the server, cached per audience set, and validated by the agent', async () => {
    await x509Context(hasMine)
    const first = await client.fetchJwtSvid({ audience: ['svc-b', 'svc-a'] })
    expect(first.id.toString()).toBe(myId)
    // The same audience set, in another order, is served from the agent's cache.
    const again = await client.fetchJwtSvid({ audience: ['svc-a', 'svc-b', 'svc-a'] })
    expect(again.token).toBe(first.token)
    const other = await client.fetchJwtSvid({ audience: ['svc-c'] })
    expect(other.token).not.toBe(first.token)
    const bundles = await client.fetchJwtBundles()
    expect(parseAndValidateJwtSvid(first.token, bundles, 'svc-a').id.toString()).toBe(myId)
    const validated = await client.validateJwtSvid({ audience: 'svc-b', token: first.token })
    expect(validated.id.toString()).toBe(myId)
    await expect(client.validateJwtSvid({ audience: 'svc-x', token: first.token })).rejects.toThrow(/INVALID_ARGUMENT/)
  })

  it('WX-11, WAPI-05: an entry added and then deleted through the server CLI comes and goes on an open stream', async () => {
    await x509Context(hasMine)
    const seen: string[][] = []
    const stop = new AbortController()
    const watching = client.watchX509Context((c) => seen.push(c.svids.map((s) => s.id.toString())), () => {}, stop.signal)
    const same = (want: string[]) => () => (JSON.stringify(seen.at(-1)) === JSON.stringify(want) ? true : undefined)
    try {
      await waitFor('the first message', same([myId]), 10_000)
      const extraId = `spiffe://example.org/it/extra-${MY_UID}`
      const extra = await d.createEntry(extraId, [`unix:uid:${MY_UID}`])
      await waitFor('the new entry on the stream', same([myId, extraId]), 10_000)
      await d.deleteEntry(extra)
      await waitFor('the deleted entry gone from the stream', same([myId]), 10_000)
    } finally {
      stop.abort()
      await watching
    }
  })

  it('WEP-11: a connection whose maker exited before attestation, used by another process, gets nothing', async () => {
    await x509Context(hasMine)
    const script = fileURLToPath(new URL('../../agent/workload-api/testdata/hand-off.mjs', import.meta.url))
    const child = spawn(process.execPath, [script, 'call', d.agent.socketPath], { stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    await once(child, 'close')
    expect(JSON.parse(stdout.trim())).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'workload attestation failed', bytes: 0 })
  })

  it('WEP-02, WEP-16: the socket speaks gRPC, with reflection listing SpiffeWorkloadAPI', async () => {
    const definition = protoLoader.loadSync(fileURLToPath(new URL('../../agent/workload-api/reflection/v1.proto', import.meta.url)), PROTO_LOADER_OPTIONS)
    const pkg = grpc.loadPackageDefinition(definition)
    const Reflection = (((pkg['grpc'] as grpc.GrpcObject)['reflection'] as grpc.GrpcObject)['v1'] as grpc.GrpcObject)['ServerReflection'] as grpc.ServiceClientConstructor
    const reflection = new Reflection(d.agent.address, grpc.credentials.createInsecure())
    type ListResponse = { list_services_response?: { service: { name: string }[] } }
    const names = await new Promise<string[]>((resolveNames, reject) => {
      const call = (reflection as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, ListResponse> }).ServerReflectionInfo()
      call.on('data', (response: ListResponse) => resolveNames((response.list_services_response?.service ?? []).map((s) => s.name)))
      call.on('error', reject)
      call.write({ list_services: '*' })
      call.end()
    })
    reflection.close()
    expect(names).toContain('SpiffeWorkloadAPI')
  })

  it('steeple-server agent list shows this agent with its selectors and SVID expiry', async () => {
    const listed = jsonOf<{ agents: { spiffe_id: string; attestation_type: string; selectors: unknown[]; cert_expires_at: number }[] }>(
      await d.server.cli('agent', 'list', '--output', 'json'),
    )
    const me = listed.agents.find((a) => a.spiffe_id === d.agentId)
    expect(me, JSON.stringify(listed)).toBeDefined()
    expect(me!.attestation_type).toBe('join_token')
    expect(JSON.stringify(me!.selectors)).toContain(d.agentId)
    expect(me!.cert_expires_at * 1000).toBeGreaterThan(Date.now())
  })

  it('keeps its SVID and key 0600 in the data directory, and restarts from them without a join token', async () => {
    for (const name of ['agent_svid.pem', 'agent_svid.key', 'bundle.spiffe.json']) {
      expect([name, (await stat(join(d.root, 'agent', name))).mode & 0o777]).toEqual([name, 0o600])
    }
    const before = d.agentId
    const agent = await d.restartAgent()
    expect(agent.agentId).toBe(before)
    expect(agent.records.some((r) => r['msg'] === 'Agent SVID loaded')).toBe(true)
    client.close()
    client = WorkloadApiClient.connect({ address: agent.address, backoff: { initialMs: 100, maxMs: 1000 } })
    await x509Context(hasMine)
  }, 60_000)

  it('serves the SVIDs it has while the server is down for 30 s, and takes new entries once it is back', async () => {
    const before = await x509Context(hasMine)
    const leafBefore = decodeCertificate(before.svids.find((s) => s.id.toString() === myId)!.certificatesDer[0]!)
    await d.stopServer()
    const downUntil = Date.now() + 30_000
    let served = 0
    while (Date.now() < downUntil) {
      const context = await client.fetchX509Context({ signal: AbortSignal.timeout(5000) })
      const mine = context.svids.find((s) => s.id.toString() === myId)!
      const leaf = decodeCertificate(mine.certificatesDer[0]!)
      expect(leaf.notAfter.getTime()).toBeGreaterThan(Date.now())
      const bundle = parseX509BundlePem(TD, certificatesToPem(context.bundles.get(TD)!.x509Authorities))
      expect(bundle.x509Authorities.length).toBeGreaterThan(0)
      served++
      await new Promise((resolve) => setTimeout(resolve, 3000))
    }
    expect(served).toBeGreaterThanOrEqual(8)
    expect(d.agent.running).toBe(true)
    expect(leafBefore.notAfter.getTime()).toBeGreaterThan(Date.now())

    await d.startServer()
    const laterId = `spiffe://example.org/it/after-outage-${MY_UID}`
    await d.createEntry(laterId, [`unix:uid:${MY_UID}`])
    await x509Context((c) => c.svids.some((s) => s.id.toString() === laterId), 30_000)
  }, 120_000)

  it('healthcheck reports the running agent healthy', async () => {
    const health = await agentCli(['healthcheck', '--socket-path', d.agent.socketPath, '--output', 'json'])
    expect([health.code, JSON.parse(health.stdout)]).toEqual([0, { healthy: true }])
  })
})

describe('bad bootstrap is refused with the reason', () => {
  it('no trust bundle and no --insecure-bootstrap: exits non-zero naming both ways', async () => {
    const result = await agentCli(['run', '--data-dir', join(d.root, 'untrusting'), '--server-port', '1'], { env: { STEEPLE_JOIN_TOKEN: 'x' } })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/trust_bundle_path \(--trust-bundle FILE\).*insecure_bootstrap \(--insecure-bootstrap\)/s)
  })

  it('a stored bundle file that is damaged: exits 1 naming the file, the member and the rule, never OpenSSL\'s text', async () => {
    // The bundle this deployment's agent stored, copied to a new data directory with the key of
    // its first CA certificate pushed off the curve.
    const stored = JSON.parse(await readFile(join(d.root, 'agent', 'bundle.spiffe.json'), 'utf8')) as { keys: { use?: string; x5c?: string[] }[] }
    const index = stored.keys.findIndex((key) => key.use === 'x509-svid')
    const x5c = stored.keys[index]!.x5c!
    x5c[0] = withKeyOffCurve(Buffer.from(x5c[0]!, 'base64')).toString('base64')
    const dataDir = join(d.root, 'damaged-store')
    await mkdir(dataDir)
    const path = join(dataDir, 'bundle.spiffe.json')
    await writeFile(path, JSON.stringify(stored), { mode: 0o600 })
    const port = d.server.agentApiAddress.slice(d.server.agentApiAddress.lastIndexOf(':') + 1)
    const result = await agentCli(['run', '--data-dir', dataDir, '--server-port', port, '--socket-path', join(d.root, 'damaged-store.sock')], { timeoutMs: 20_000 })
    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toContain(`${path} is not a SPIFFE bundle of example.org: spiffebundle: keys[${index}].x5c[0]: certificate must hold a well-formed public key`)
    expect(result.stderr).not.toMatch(OPENSSL_TEXT)
  })

  it('a used join token: exits non-zero with PERMISSION_DENIED', async () => {
    const token = jsonOf<{ token: string }>(await d.server.cli('token', 'generate', '--output', 'json'))
    const port = d.server.agentApiAddress.slice(d.server.agentApiAddress.lastIndexOf(':') + 1)
    const run = (dir: string) =>
      agentCli(['run', '--trust-bundle', d.bundlePath, '--data-dir', join(d.root, dir), '--server-port', port, '--socket-path', join(d.root, `${dir}.sock`)], {
        env: { STEEPLE_JOIN_TOKEN: token.token },
        timeoutMs: 20_000,
      })
    const first = spawn(process.execPath, [AGENT_BIN, 'run', '--trust-bundle', d.bundlePath, '--data-dir', join(d.root, 'first'), '--server-port', port], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, STEEPLE_JOIN_TOKEN: token.token },
    })
    let log = ''
    first.stderr.setEncoding('utf8').on('data', (c: string) => (log += c))
    try {
      await waitFor('the first agent to start', () => (log.includes('"Agent started"') ? true : undefined), 30_000)
      const second = await run('second')
      expect(second.code).not.toBe(0)
      expect(second.stderr).toMatch(/PERMISSION_DENIED|already used|not valid/i)
    } finally {
      first.kill('SIGTERM')
      await once(first, 'exit')
    }
  }, 60_000)
})

