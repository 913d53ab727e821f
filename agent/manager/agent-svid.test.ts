import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FailedPreconditionError, PermissionDeniedError, UnavailableError } from '../../common/errors.js'
import { createLogger } from '../../common/logger.js'
import { createCsr, generateKeyPair, parseTrustDomain, type Bundle } from '../../spiffe/index.js'
import { FakeAgentServer, fakeNodeAttestor } from '../../test/fakes/fake-agent-server.js'
import { FakeClock, until } from '../../test/fakes/fake-clock.js'
import { FakeAuthority } from '../../test/fakes/fake-identity-cache.js'
import { AgentSvidRotator } from './agent-svid.js'
import { agentSvidFrom, type AgentSvid } from './node-attestation.js'
import { AgentStorage } from './storage.js'

const TD = parseTrustDomain('example.org')

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steeple-agent-svid-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Attests with the fake server as NodeBootstrap does, minus storage and logs. */
async function attest(server: FakeAgentServer): Promise<{ svid: AgentSvid; bundle: Bundle }> {
  const key = generateKeyPair('ec-p256').privateKey
  const outcome = await server.attest('fake', await fakeNodeAttestor().instance.begin(), createCsr(key))
  return { svid: agentSvidFrom(outcome.svidChainDer, key, outcome.bundle), bundle: outcome.bundle }
}

async function setup(agentSvidTtlSeconds = 3600) {
  const clock = new FakeClock()
  const server = new FakeAgentServer(TD, clock)
  server.agentSvidTtlSeconds = agentSvidTtlSeconds
  const storage = new AgentStorage(join(dir, 'data'), TD)
  const messages: string[] = []
  const log = createLogger({ level: 'info', write: (line) => messages.push(JSON.parse(line).msg) })
  const first = await attest(server)
  await storage.saveSvid(first.svid)
  const state = { ownBundle: first.bundle as Bundle, newSvids: 0, fatal: [] as FailedPreconditionError[] }
  const rotator = new AgentSvidRotator({
    client: server,
    storage,
    clock,
    log,
    ownBundle: () => state.ownBundle,
    reattest: async () => (await attest(server)).svid,
    onNewSvid: () => state.newSvids++,
    onFatal: (err) => state.fatal.push(err),
  })
  rotator.use(first.svid)
  messages.length = 0
  return { clock, server, storage, rotator, state, messages, first: first.svid }
}

function halfLifeOf(svid: AgentSvid): number {
  return svid.notBefore.getTime() + (svid.notAfter.getTime() - svid.notBefore.getTime()) / 2
}

function serial(svid: AgentSvid | undefined): string | undefined {
  return svid === undefined ? undefined : Buffer.from(svid.chainDer[0]!).toString('base64')
}

describe('AgentSvidRotator', () => {
  it('presents the SVID with the own bundle, and waits for half of its life', async () => {
    const { clock, server, rotator, first, state } = await setup()
    expect(server.presented?.chainDer).toBe(first.chainDer)
    expect(server.trusted).toBe(state.ownBundle)
    expect(rotator.svid).toBe(first)
    expect(clock.pendingTimers).toBe(1)
    expect(clock.nextTimerAt()?.getTime()).toBe(halfLifeOf(first))
  })

  it('renews at half of its life: stores the new SVID, presents it, reopens streams, and schedules the next renewal', async () => {
    const { clock, server, storage, rotator, first, state, messages } = await setup()
    clock.advanceTo(halfLifeOf(first) - 1)
    expect(server.calls.renew).toBe(0)
    clock.advance(1)
    await until('the renewed SVID', () => state.newSvids === 1)
    expect(server.calls.renew).toBe(1)
    const renewed = rotator.svid!
    expect(serial(renewed)).not.toBe(serial(first))
    expect(renewed.id.equals(first.id)).toBe(true)
    expect(server.presented?.chainDer).toBe(renewed.chainDer)
    expect(serial({ ...renewed, chainDer: (await storage.loadSvid())!.chainDer })).toBe(serial(renewed))
    expect(messages).toEqual(['Agent SVID renewed'])
    expect(clock.nextTimerAt()?.getTime()).toBe(halfLifeOf(renewed))
  })

  it.each([
    { ttlSeconds: 3600, retryMs: 30_000 },
    { ttlSeconds: 100, retryMs: 5_500 },
    { ttlSeconds: 10, retryMs: 1_000 },
  ])('retries a failed renewal of a $ttlSeconds s SVID in $retryMs ms (a tenth of what is left, 1 to 30 s; notBefore is 10 s back)', async ({ ttlSeconds, retryMs }) => {
    const { clock, server, rotator, first, messages } = await setup(ttlSeconds)
    server.failWith(new UnavailableError('connect ECONNREFUSED'), ['renew'])
    clock.advanceTo(halfLifeOf(first))
    await until('the retry timer', () => server.calls.renew === 1 && clock.pendingTimers === 1)
    expect(messages).toEqual(['Agent SVID renewal failed; retrying'])
    expect(clock.nextTimerAt()!.getTime() - clock.now().getTime()).toBe(retryMs)
    expect(rotator.svid).toBe(first)
    server.failWith(undefined)
    clock.advance(retryMs)
    await until('the renewed SVID', () => rotator.svid !== first)
    expect(server.calls.renew).toBe(2)
  })

  it('does not use a renewed SVID that does not chain to the own bundle', async () => {
    const { clock, server, rotator, first, state } = await setup()
    state.ownBundle = new FakeAuthority(TD).bundle
    clock.advanceTo(halfLifeOf(first))
    await until('the retry timer', () => server.calls.renew === 1 && clock.pendingTimers === 1)
    expect(rotator.svid).toBe(first)
    expect(state.newSvids).toBe(0)
  })

  it('when the server refuses the SVID at renewal, attests again and presents the new SVID', async () => {
    const { clock, server, rotator, first, state, messages } = await setup()
    server.evict()
    clock.advanceTo(halfLifeOf(first))
    await until('the new SVID', () => state.newSvids === 1)
    expect(server.calls.attest).toBe(2)
    expect(rotator.svid).not.toBe(first)
    expect(server.presented?.chainDer).toBe(rotator.svid!.chainDer)
    expect(messages).toEqual(['The server refused the agent SVID; attesting again'])
    expect(rotator.failed).toBe(false)
  })

  it('attests once for refusals that arrive together', async () => {
    const { server, rotator, state } = await setup()
    const refusal = new PermissionDeniedError('agent: the agent SVID is not authorized (evicted)')
    await Promise.all([rotator.rejected(refusal), rotator.rejected(refusal), rotator.rejected(refusal)])
    expect(server.calls.attest).toBe(2)
    expect(state.newSvids).toBe(1)
    // Later refusals attest again.
    await rotator.rejected(refusal)
    expect(server.calls.attest).toBe(3)
  })

  it('when attesting again fails, removes the refused SVID, reports failure once, and stops renewing', async () => {
    const { clock, server, storage, rotator, state, messages } = await setup()
    server.reattestable = false
    expect(await storage.loadSvid()).toBeDefined()
    await rotator.rejected(new PermissionDeniedError('agent: the agent SVID is not authorized (banned)'))
    expect(rotator.failed).toBe(true)
    expect(state.fatal).toHaveLength(1)
    expect(state.fatal[0]).toBeInstanceOf(FailedPreconditionError)
    expect(state.fatal[0]!.message).toContain('the server refused this agent (agent: the agent SVID is not authorized (banned))')
    expect(state.fatal[0]!.message).toContain('start it with new attestation evidence (a new join token)')
    expect(messages).toContain('The agent was refused by the server and cannot attest again; stopping')
    expect(await storage.loadSvid()).toBeUndefined()
    // The owner closes the rotator on failure; no renewal follows.
    rotator.close()
    clock.advance(86_400_000)
    expect(server.calls.renew).toBe(0)
  })

  it('close() stops renewal', async () => {
    const { clock, server, rotator, first } = await setup()
    rotator.close()
    clock.advanceTo(first.notAfter)
    expect(server.calls.renew).toBe(0)
    expect(clock.pendingTimers).toBe(0)
  })
})
