import { spawn } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WorkloadAttestorHost } from '../../agent/attestor/workload.js'
import { startWorkloadApi, type RunningWorkloadApi } from '../../agent/workload-api/server.js'
import { silentLogger } from '../../common/logger.js'
import { UnixAttestor } from '../../plugins/workload-attestor/unix/index.js'
import {
  parseAndValidateJwtSvid,
  parseTrustDomain,
  parseX509BundlePem,
  pemDecodeAll,
  verifyX509Svid,
} from '../../spiffe/index.js'
import { FakeIdentityCache } from '../fakes/fake-identity-cache.js'
import { AGENT_BIN, NOBODY_CAN_RUN_CLI, LineReader, agentCli } from './agent-helpers.js'
import { ROOT, jsonOf as json, runCommand as run } from './server-cli-helpers.js'

/**
 * The Workload API on a real Unix socket, with the agent's real workload attestation (the unix
 * attestor reading the caller's uid from the kernel and /proc), over an in-memory identity cache,
 * driven by `steeple-agent` commands run as separate processes, the way a workload uses them.
 */

const TRUST_DOMAIN = parseTrustDomain('example.org')
const MY_UID = process.getuid!()
const NOBODY = 65534

let dir: string
let socketPath: string
let cache: FakeIdentityCache
let api: RunningWorkloadApi

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steeple-wapi-it-'))
  // Other uids must reach the socket (the agent's own default directories are 0755 too).
  await chmod(dir, 0o755)
  socketPath = join(dir, 'agent', 'api.sock')
  cache = new FakeIdentityCache(TRUST_DOMAIN)
  const attestors = new WorkloadAttestorHost([{ name: 'unix', instance: new UnixAttestor({ discover_workload_path: false, workload_size_limit: 0 }) }], {
    log: silentLogger(),
  })
  api = await startWorkloadApi({ config: { socketPath, trustDomain: TRUST_DOMAIN }, cache, attestors, log: silentLogger() })
})

afterAll(async () => {
  await api?.close()
  await rm(dir, { recursive: true, force: true })
})


describe('Workload API with the unix attestor, used through steeple-agent', () => {
  it('WEP-11, WX-04, WX-05, WX-06: a unix:uid entry gives this uid an X509-SVID that openssl verify accepts, written with a 0600 key', async () => {
    const entry = cache.addEntry({ spiffeId: 'spiffe://example.org/uid-me', selectors: [`unix:uid:${MY_UID}`] })
    try {
      const out = join(dir, 'svids')
      const result = await agentCli(['api', 'fetch', 'x509', '--socket-path', socketPath, '--write', out])
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout).toContain('Received 1 SVID')
      expect(result.stdout).toContain('spiffe://example.org/uid-me')
      const verified = await run('openssl', ['verify', '-CAfile', join(out, 'bundle.0.pem'), join(out, 'svid.0.pem')])
      expect(verified.stdout.trim(), verified.stderr).toBe(`${join(out, 'svid.0.pem')}: OK`)
      expect((await stat(join(out, 'svid.0.key'))).mode & 0o777).toBe(0o600)
      const chain = pemDecodeAll(await readFile(join(out, 'svid.0.pem'), 'utf8'))
      const bundle = parseX509BundlePem(TRUST_DOMAIN, await readFile(join(out, 'bundle.0.pem')))
      expect(verifyX509Svid(chain, bundle).id.toString()).toBe('spiffe://example.org/uid-me')
      expect((await readFile(join(out, 'svid.0.key'), 'utf8')).startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true)
    } finally {
      cache.removeEntry(entry)
    }
  })

  it.skipIf(!NOBODY_CAN_RUN_CLI)('WEP-13, WAPI-03: a process of another uid gets PERMISSION_DENIED while this uid gets its SVID (needs root and a checkout other users can read)', async () => {
    const entry = cache.addEntry({ spiffeId: 'spiffe://example.org/root-only', selectors: [`unix:uid:${MY_UID}`] })
    try {
      const other = await agentCli(['api', 'fetch', 'x509', '--socket-path', socketPath], { uid: NOBODY, env: { HOME: '/tmp' } })
      expect(other.code).toBe(1)
      expect(other.stderr).toContain('PERMISSION_DENIED: no identity issued')
      const mine = json<{ svids: { spiffe_id: string }[] }>(await agentCli(['api', 'fetch', 'x509', '--socket-path', socketPath, '--output', 'json']))
      expect(mine.svids.map((s) => s.spiffe_id)).toEqual(['spiffe://example.org/root-only'])
    } finally {
      cache.removeEntry(entry)
    }
  })

  it('WEP-07, WJ-02, WJ-11: fetch jwt and validate jwt through SPIFFE_ENDPOINT_SOCKET', async () => {
    const entry = cache.addEntry({ spiffeId: 'spiffe://example.org/jwt-user', selectors: [`unix:uid:${MY_UID}`] })
    try {
      const env = { SPIFFE_ENDPOINT_SOCKET: `unix://${socketPath}` }
      const fetched = json<{ svids: { spiffe_id: string; audience: string[]; svid: string }[] }>(
        await agentCli(['api', 'fetch', 'jwt', '--audience', 'svc-a', '--audience', 'svc-b', '--output', 'json'], { env }),
      )
      expect(fetched.svids.map((s) => [s.spiffe_id, s.audience])).toEqual([['spiffe://example.org/jwt-user', ['svc-a', 'svc-b']]])
      const token = fetched.svids[0]!.svid
      expect(parseAndValidateJwtSvid(token, cache.bundle, 'svc-a').id.toString()).toBe('spiffe://example.org/jwt-user')

      const validated = json<{ spiffe_id: string; claims: Record<string, unknown> }>(
        await agentCli(['api', 'validate', 'jwt', '--audience', 'svc-b', '--svid', token, '--output', 'json'], { env }),
      )
      expect(validated).toMatchObject({ spiffe_id: 'spiffe://example.org/jwt-user', claims: { aud: ['svc-a', 'svc-b'] } })

      const rejected = await agentCli(['api', 'validate', 'jwt', '--audience', 'someone-else', '--svid', token], { env })
      expect(rejected.code).toBe(1)
      expect(rejected.stderr).toMatch(/^Error: workloadapi: ValidateJWTSVID failed: INVALID_ARGUMENT: jwtsvid: expected audience/)
    } finally {
      cache.removeEntry(entry)
    }
  })

  it('WX-13, WJ-07: fetch bundles shows the own trust domain with its CA and JWT key', async () => {
    const entry = cache.addEntry({ spiffeId: 'spiffe://example.org/bundles', selectors: [`unix:uid:${MY_UID}`] })
    try {
      const shown = json<{ bundles: { trust_domain: string; x509_authorities: string; jwt_authorities: { keys: { kid: string }[] } }[] }>(
        await agentCli(['api', 'fetch', 'bundles', '--socket-path', socketPath, '--output', 'json']),
      )
      expect(shown.bundles.map((b) => b.trust_domain)).toEqual(['example.org'])
      expect(parseX509BundlePem(TRUST_DOMAIN, shown.bundles[0]!.x509_authorities).x509Authorities).toEqual(
        cache.bundle.x509Authorities.map((der) => new Uint8Array(der)),
      )
      expect(shown.bundles[0]!.jwt_authorities.keys.map((k) => k.kid)).toEqual([cache.authority.jwtKey.kid])
    } finally {
      cache.removeEntry(entry)
    }
  })

  it('healthcheck: healthy when the agent answers, even for a caller without an entry; unhealthy when not ready or absent', async () => {
    const healthy = await agentCli(['healthcheck', '--socket-path', socketPath])
    expect([healthy.code, healthy.stdout.trim()]).toEqual([0, 'Agent is healthy.'])
    cache.setReady(false)
    try {
      const notReady = await agentCli(['healthcheck', '--socket-path', socketPath, '--output', 'json'])
      expect(notReady.code).toBe(1)
      expect(JSON.parse(notReady.stdout)).toEqual({ healthy: false, problem: 'workloadapi: FetchX509Bundles failed: UNAVAILABLE: agent is not ready' })
    } finally {
      cache.setReady(true)
    }
    const absent = await agentCli(['healthcheck', '--socket-path', join(dir, 'nothing.sock'), '--timeout', '2'])
    expect(absent.code).toBe(1)
    expect(absent.stderr).toMatch(/^Error: Agent is unhealthy: /)
  })

  it('WAPI-05, WX-11: api watch prints each update as it arrives; a deleted entry leaves the stream', async () => {
    const first = cache.addEntry({ spiffeId: 'spiffe://example.org/watch-1', selectors: [`unix:uid:${MY_UID}`] })
    const watch = new LineReader(spawn(process.execPath, [AGENT_BIN, 'api', 'watch', '--socket-path', socketPath, '--output', 'json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }))
    try {
      const ids = (line: string): string[] => (JSON.parse(line) as { svids: { spiffe_id: string }[] }).svids.map((s) => s.spiffe_id)
      expect(ids(await watch.next())).toEqual(['spiffe://example.org/watch-1'])
      const second = cache.addEntry({ spiffeId: 'spiffe://example.org/watch-2', selectors: [`unix:uid:${MY_UID}`] })
      expect(ids(await watch.next())).toEqual(['spiffe://example.org/watch-1', 'spiffe://example.org/watch-2'])
      cache.removeEntry(first)
      expect(ids(await watch.next())).toEqual(['spiffe://example.org/watch-2'])
      cache.removeEntry(second)
      // No identity left: the client reports it and keeps retrying until an entry comes back.
      await expect.poll(() => watch.stderr, { timeout: 10_000 }).toContain('PERMISSION_DENIED: no identity issued; retrying')
      const third = cache.addEntry({ spiffeId: 'spiffe://example.org/watch-3', selectors: [`unix:uid:${MY_UID}`] })
      expect(ids(await watch.next(10_000))).toEqual(['spiffe://example.org/watch-3'])
      cache.removeEntry(third)
    } finally {
      watch.child.kill('SIGINT')
    }
    expect(await watch.exitCode()).toBe(0)
  })
})


