import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, PermissionDeniedError, SteepleError, UnavailableError } from '../../common/errors.js'
import { createLogger } from '../../common/logger.js'
import { Bundle, certificatesToPem, encodeSpiffeBundle, parseSpiffeId, parseTrustDomain } from '../../spiffe/index.js'
import { FakeAgentServer, fakeNodeAttestor } from '../../test/fakes/fake-agent-server.js'
import { FakeClock, until } from '../../test/fakes/fake-clock.js'
import { FakeAuthority } from '../../test/fakes/fake-identity-cache.js'
import { NodeBootstrap, type NodeBootstrapOptions } from './node-attestation.js'
import { AGENT_FILES, AgentStorage } from './storage.js'
import { DEFAULT_MANAGER_TIMING } from './timing.js'

const TD = parseTrustDomain('example.org')

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steeple-node-attestation-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

function setup(config: Partial<NodeBootstrapOptions['config']> = {}, clock = new FakeClock()) {
  const server = new FakeAgentServer(TD, clock)
  const storage = new AgentStorage(join(dir, 'data'), TD)
  const logs: string[] = []
  const node = new NodeBootstrap({
    config: { trustDomain: TD, serverAddress: '127.0.0.1', serverPort: 8081, dataDir: storage.dataDir, trustBundlePath: undefined, insecureBootstrap: false, ...config },
    nodeAttestor: fakeNodeAttestor(),
    client: server,
    storage,
    clock,
    random: () => 0.5,
    timing: DEFAULT_MANAGER_TIMING,
    log: createLogger({ level: 'info', write: (line) => logs.push(JSON.parse(line).msg) }),
  })
  return { clock, server, storage, node, logs }
}

/** DER values as base64, so a Buffer and a Uint8Array of the same bytes compare equal. */
function b64(ders: readonly Uint8Array[] | undefined): string[] | undefined {
  return ders?.map((der) => Buffer.from(der).toString('base64'))
}

async function trustBundleFile(bundle: Bundle): Promise<string> {
  const path = join(dir, 'bundle.pem')
  await writeFile(path, certificatesToPem(bundle.x509Authorities))
  return path
}

describe('NodeBootstrap', () => {
  it('first start: trusts the server with the configured bundle, attests, and stores SVID and bundle before returning them', async () => {
    const authority = new FakeAuthority(TD)
    const { server, storage, node, logs } = setup({ trustBundlePath: await trustBundleFile(authority.bundle) })
    const { svid, bundle } = await node.bootstrap()
    expect(server.calls.attest).toBe(1)
    expect(b64(server.trusted?.x509Authorities)).toEqual(b64(authority.bundle.x509Authorities))
    expect(svid.id.equals(server.agentId)).toBe(true)
    expect(bundle).toBe(server.bundles[0])
    expect(b64((await storage.loadSvid())?.chainDer)).toEqual(b64(svid.chainDer))
    expect(b64((await storage.loadBundle())?.x509Authorities)).toEqual(b64(bundle.x509Authorities))
    expect(logs).toEqual(['Node attested'])
  })

  it('refuses a first start without a trust bundle or insecure bootstrap, naming both ways and the data directory', async () => {
    const { node, server } = setup()
    const err = await node.bootstrap().then(() => undefined, (e: unknown) => e as ConfigError)
    expect(err).toBeInstanceOf(ConfigError)
    expect(err!.message).toContain('agent.trust_bundle_path (--trust-bundle FILE)')
    expect(err!.message).toContain('agent.insecure_bootstrap (--insecure-bootstrap)')
    expect(err!.message).toContain(join(dir, 'data'))
    expect(server.calls.attest).toBe(0)
  })

  it('insecure bootstrap attests without a bundle to verify the server with, and warns', async () => {
    const { node, server, logs } = setup({ insecureBootstrap: true })
    await node.bootstrap()
    expect(server.calls.attest).toBe(1)
    expect(server.trusted).toBeUndefined()
    expect(logs[0]).toBe('Insecure bootstrap: trusting whichever server answers first, and the bundle it sends')
  })

  it.each([
    { name: 'missing', content: undefined, message: 'agent.trust_bundle_path: cannot read' },
    { name: 'not PEM', content: 'hello', message: 'is not a PEM bundle of CA certificates' },
  ])('refuses a trust bundle file that is $name', async ({ content, message }) => {
    const path = join(dir, 'bundle.pem')
    if (content !== undefined) await writeFile(path, content)
    const { node, server } = setup({ trustBundlePath: path })
    await expect(node.bootstrap()).rejects.toThrow(message)
    await expect(node.bootstrap()).rejects.toBeInstanceOf(ConfigError)
    expect(server.calls.attest).toBe(0)
  })

  it('a restart uses the stored SVID and bundle without attesting', async () => {
    const clock = new FakeClock()
    const first = setup({ insecureBootstrap: true }, clock)
    const attested = await first.node.bootstrap()
    const restarted = setup({}, clock)
    const { svid, bundle } = await restarted.node.bootstrap()
    expect(restarted.server.calls.attest).toBe(0)
    expect(b64(svid.chainDer)).toEqual(b64(attested.svid.chainDer))
    expect(b64(bundle.x509Authorities)).toEqual(b64(attested.bundle.x509Authorities))
    expect(restarted.logs).toEqual(['Agent SVID loaded'])
  })

  it('a stored SVID that has expired: attests again, trusting the server with the stored bundle', async () => {
    const clock = new FakeClock()
    const first = setup({ insecureBootstrap: true }, clock)
    const attested = await first.node.bootstrap()
    clock.advanceTo(attested.svid.notAfter)
    const restarted = setup({}, clock)
    await restarted.node.bootstrap()
    expect(restarted.server.calls.attest).toBe(1)
    expect(b64(restarted.server.trusted?.x509Authorities)).toEqual(b64(attested.bundle.x509Authorities))
    expect(restarted.logs[0]).toBe('Stored agent SVID has expired; attesting again')
  })

  it('a stored SVID that does not chain to the stored bundle: attests again', async () => {
    const first = setup({ insecureBootstrap: true })
    await first.node.bootstrap()
    const stranger = new FakeAuthority(TD).bundle
    await writeFile(join(first.storage.dataDir, AGENT_FILES.bundle), encodeSpiffeBundle(stranger))
    const restarted = setup()
    await restarted.node.bootstrap()
    expect(restarted.server.calls.attest).toBe(1)
    expect(b64(restarted.server.trusted?.x509Authorities)).toEqual(b64(stranger.x509Authorities))
    expect(restarted.logs[0]).toBe('Stored agent SVID does not chain to the stored bundle; attesting again')
  })

  it('retries a first attestation while the server is unreachable, and succeeds once it answers', async () => {
    const { clock, server, node, logs } = setup({ insecureBootstrap: true })
    server.failWith(new UnavailableError('connect ECONNREFUSED'), ['attest'])
    const outcome = node.bootstrap()
    for (const attempt of [1, 2]) {
      await until(`wait after attempt ${attempt}`, () => server.calls.attest === attempt && clock.pendingTimers === 1)
      if (attempt === 2) server.failWith(undefined)
      clock.advance(clock.nextTimerAt()!.getTime() - clock.now().getTime())
    }
    expect((await outcome).svid.id.equals(server.agentId)).toBe(true)
    expect(server.calls.attest).toBe(3)
    expect(logs.filter((m) => m === 'Server unreachable for attestation; retrying')).toHaveLength(2)
  })

  it('gives up on an unreachable server after attestRetryMs', async () => {
    const { clock, server, node } = setup({ insecureBootstrap: true })
    server.failWith(new UnavailableError('connect ECONNREFUSED'), ['attest'])
    const start = clock.now().getTime()
    let settled = false
    const outcome = node.bootstrap().then(
      () => undefined,
      (e: unknown) => e,
    ).finally(() => (settled = true))
    for (;;) {
      await until('a wait or the end', () => settled || clock.pendingTimers === 1)
      if (settled) break
      clock.advance(clock.nextTimerAt()!.getTime() - clock.now().getTime())
    }
    expect(await outcome).toBeInstanceOf(UnavailableError)
    expect(clock.now().getTime() - start).toBeGreaterThanOrEqual(DEFAULT_MANAGER_TIMING.attestRetryMs)
    // Each wait is at most 5 s: no attempt is skipped for long.
    expect(server.calls.attest).toBeGreaterThan(DEFAULT_MANAGER_TIMING.attestRetryMs / 5000)
  })

  it('does not retry evidence the server refuses', async () => {
    const { server, node } = setup({ insecureBootstrap: true })
    server.failWith(new PermissionDeniedError('nodeattestor(join_token): the join token has been used'), ['attest'])
    await expect(node.bootstrap()).rejects.toBeInstanceOf(PermissionDeniedError)
    expect(server.calls.attest).toBe(1)
  })

  it('refuses an SVID for another agent ID than the server named', async () => {
    const { server, node, storage } = setup({ insecureBootstrap: true })
    server.namedAgentId = parseSpiffeId('spiffe://example.org/spire/agent/fake/someone-else')
    const err = await node.bootstrap().then(() => undefined, (e: unknown) => e as SteepleError)
    expect(err?.code).toBe('INTERNAL')
    expect(err?.message).toContain('but named spiffe://example.org/spire/agent/fake/someone-else')
    expect(await storage.loadSvid()).toBeUndefined()
  })

  it.each([
    { name: 'new X.509 roots verify the server from now on', x509Changed: true },
    { name: 'new JWT keys only leave the client as it is', x509Changed: false },
  ])('a changed own bundle is stored for the next start; $name', async ({ x509Changed }) => {
    const { server, storage, node } = setup()
    const next = new FakeAuthority(TD).bundle
    node.trustBundle({ bundle: next, x509Changed })
    expect(server.trusted).toBe(x509Changed ? next : undefined)
    const path = join(storage.dataDir, AGENT_FILES.bundle)
    await until('the stored bundle', () => {
      try {
        return readFileSync(path, 'utf8') === encodeSpiffeBundle(next)
      } catch {
        return false
      }
    })
  })
})
