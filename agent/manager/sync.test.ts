import { describe, expect, it } from 'vitest'
import { UnavailableError, type SteepleError } from '../../common/errors.js'
import { createLogger } from '../../common/logger.js'
import { createCsr, generateKeyPair, parseTrustDomain } from '../../spiffe/index.js'
import type { AuthorizedUpdate } from '../client/server-client.js'
import { FakeAgentServer, fakeNodeAttestor } from '../../test/fakes/fake-agent-server.js'
import { FakeClock, until } from '../../test/fakes/fake-clock.js'
import { ServerReachability } from './reachability.js'
import { EntrySync } from './sync.js'

const TD = parseTrustDomain('example.org')

function setup(onRejected?: (err: SteepleError) => Promise<void>) {
  const clock = new FakeClock()
  const server = new FakeAgentServer(TD, clock)
  const updates: AuthorizedUpdate[] = []
  const rejected: SteepleError[] = []
  const warnings: string[] = []
  const reachability = new ServerReachability()
  const sync = new EntrySync({
    client: server,
    clock,
    // Backoff waits of exactly 3/4 of their ceiling: 188 ms, then 375 ms, ...
    random: () => 0.5,
    timing: { retryInitialMs: 250, retryMaxMs: 5000 },
    log: createLogger({ level: 'warn', write: (line) => warnings.push(JSON.parse(line).msg) }),
    reachability,
    onUpdate: (update) => updates.push(update),
    onRejected: async (err) => {
      rejected.push(err)
      await onRejected?.(err)
    },
  })
  return { clock, server, sync, updates, rejected, warnings, reachability }
}

describe('EntrySync', () => {
  it('hands on the full set first, then each change, in order', async () => {
    const { server, sync, updates } = setup()
    const a = server.putEntry({ spiffeId: 'spiffe://example.org/a' })
    sync.start()
    await until('the full set', () => updates.length === 1)
    expect(updates[0]).toMatchObject({ full: true, upserted: [a], bundles: server.bundles })
    const b = server.putEntry({ spiffeId: 'spiffe://example.org/b' })
    server.deleteEntry(a.id)
    expect(updates.slice(1)).toEqual([
      { full: false, upserted: [b], deletedIds: [], bundles: undefined },
      { full: false, upserted: [], deletedIds: [a.id], bundles: undefined },
    ])
    expect(sync.failures).toBe(0)
    sync.close()
    await sync.done()
  })

  it('reconnects with backoff while the server is unreachable, counting failures until a message arrives', async () => {
    const { clock, server, sync, updates, warnings, reachability } = setup()
    server.failWith(new UnavailableError('connect ECONNREFUSED'), ['syncAuthorized'])
    const failedAt = clock.now()
    sync.start()
    await until('the first failure', () => sync.failures === 1)
    expect(warnings).toEqual(['Entry sync failed; serving what the agent has and retrying'])
    expect(reachability.unreachableSince).toEqual(failedAt)
    expect(server.calls.syncAuthorized).toBe(1)
    // Nothing before the backoff has passed.
    clock.advance(187)
    await until('a settled loop', () => clock.pendingTimers === 1)
    expect(server.calls.syncAuthorized).toBe(1)
    clock.advance(1)
    await until('the second failure', () => sync.failures === 2)
    expect(server.calls.syncAuthorized).toBe(2)
    // Unreachable since the first failure, not the latest.
    expect(reachability.unreachableSince).toEqual(failedAt)
    expect(clock.nextTimerAt()!.getTime() - clock.now().getTime()).toBe(375)
    server.failWith(undefined)
    clock.advance(375)
    await until('the full set', () => updates.length === 1)
    expect(sync.failures).toBe(0)
    expect(reachability.unreachableSince).toBeUndefined()
    sync.close()
    await sync.done()
  })

  it('when the server refuses the agent SVID, waits for attestation and reopens without backoff', async () => {
    let attested!: () => void
    const { server, sync, updates, rejected, clock } = setup(() => new Promise<void>((resolve) => (attested = resolve)))
    sync.start()
    await until('the full set', () => updates.length === 1)
    server.evict()
    await until('the refusal', () => rejected.length === 1)
    expect(rejected[0]!.code).toBe('PERMISSION_DENIED')
    expect(server.calls.syncAuthorized).toBe(1)
    // Attestation clears the eviction on the server; the stream reopens as soon as it is done.
    await server.attest('fake', await fakeNodeAttestor().instance.begin(), createCsr(generateKeyPair('ec-p256').privateKey))
    attested()
    await until('the reopened stream', () => updates.length === 2)
    expect(updates[1]!.full).toBe(true)
    expect(clock.pendingTimers).toBe(0)
    sync.close()
    await sync.done()
  })

  it('reopens at once after a stream that delivered, after a backoff after one that ended empty', async () => {
    const { clock, server, sync, updates } = setup()
    sync.start()
    await until('the full set', () => updates.length === 1)
    server.endStreams()
    await until('the reopened stream', () => updates.length === 2)
    expect(server.calls.syncAuthorized).toBe(2)
    expect(clock.pendingTimers).toBe(0)
    // The stream that opens next ends before its first message.
    const open = server.syncAuthorized.bind(server)
    server.syncAuthorized = (onUpdate) => {
      const stream = open(onUpdate)
      server.endStreams()
      return stream
    }
    server.endStreams()
    await until('a backoff wait', () => clock.pendingTimers === 1)
    expect(server.calls.syncAuthorized).toBe(3)
    server.syncAuthorized = open
    clock.advance(188)
    await until('the reopened stream', () => updates.length === 3)
    sync.close()
    await sync.done()
  })

  it('reconnect() reopens the stream (a new agent SVID), and the full set comes again', async () => {
    const { server, sync, updates } = setup()
    server.putEntry({ spiffeId: 'spiffe://example.org/a' })
    sync.start()
    await until('the full set', () => updates.length === 1)
    sync.reconnect()
    await until('the second full set', () => updates.length === 2)
    expect(updates.map((u) => u.full)).toEqual([true, true])
    expect(server.calls.syncAuthorized).toBe(2)
    sync.close()
    await sync.done()
  })

  it('close() ends a backoff wait at once', async () => {
    const { server, sync } = setup()
    server.failWith(new UnavailableError('connect ECONNREFUSED'))
    sync.start()
    await until('the first failure', () => sync.failures === 1)
    sync.close()
    await sync.done()
    expect(server.calls.syncAuthorized).toBe(1)
  })
})
