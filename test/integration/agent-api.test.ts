import * as grpc from '@grpc/grpc-js'
import { status } from '@grpc/grpc-js'
import { spawnSync } from 'node:child_process'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  Bundle,
  certificatesToPem,
  createCsr,
  parseAndValidateJwtSvid,
  parseSpiffeId,
  verifyX509Svid,
  type SpiffeId,
} from '../../spiffe/index.js'
import { ServerClient } from '../../agent/client/server-client.js'
import { silentLogger } from '../../common/logger.js'
import type { RegistrationEntry } from '../../plugins/data-store/types.js'
import { JoinTokenAgentPlugin, generateJoinToken, joinTokenAgentId } from '../../plugins/node-attestor/join-token/index.js'
import type { AgentNodeAttestor } from '../../plugins/node-attestor/types.js'
import { X509PopAgentSession, certificateFingerprint } from '../../plugins/node-attestor/x509pop/index.js'
import { loadAgentApi } from '../../proto/index.js'
import { startAgentApi, type AgentApi } from '../../server/api/agent/index.js'
import { loadServerConfig } from '../../server/config.js'
import { buildServerCore, type ServerCore } from '../../server/core.js'
import type { EntryInput } from '../../server/registration/validate.js'
import { NodeCa, SyncRecorder, expectStatus, ids, within, writeServerConfig } from './agent-api-helpers.js'
import { grpcStatusOf } from '../../common/grpc-status.js'

const TD = 'example.org'
const SERVER_ID = `spiffe://${TD}/steeple/server`

let dir: string
let core: ServerCore
let api: AgentApi
let address: string
const clients: ServerClient[] = []
let nodeCa: NodeCa

// ---------------------------------------------------------------------------------------------
// Helpers

function newKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
}

async function newClient(opts: { insecureBootstrap?: boolean; address?: string } = {}): Promise<ServerClient> {
  const client = new ServerClient({
    address: opts.address ?? address,
    trustDomain: core.config.trustDomain,
    ...(opts.insecureBootstrap === true ? { insecureBootstrap: true } : { bundle: core.ownBundle.current() }),
    callTimeoutMs: 10_000,
  })
  clients.push(client)
  return client
}

interface Agent {
  readonly client: ServerClient
  readonly agentId: SpiffeId
  readonly key: KeyObject
  readonly svidChainDer: readonly Buffer[]
}

async function attestWith(type: string, session: AgentNodeAttestor, client?: ServerClient): Promise<Agent> {
  const c = client ?? (await newClient())
  const key = newKey()
  const outcome = await c.attest(type, session, createCsr(key))
  c.setSvid({ chainDer: outcome.svidChainDer, privateKey: key })
  return { client: c, agentId: outcome.agentId, key, svidChainDer: outcome.svidChainDer }
}

async function newJoinToken(aliasId?: string): Promise<{ token: string; tokenId: string }> {
  const { token, tokenHash, tokenId } = generateJoinToken()
  await core.store.joinTokens.create({
    tokenHash,
    expiresAt: new Date(Date.now() + 600_000),
    aliasId: aliasId === undefined ? undefined : parseSpiffeId(aliasId),
  })
  return { token, tokenId }
}

function joinTokenSession(token: string): Promise<AgentNodeAttestor> {
  return new JoinTokenAgentPlugin({ token, token_path: undefined }).begin()
}

async function attestJoinToken(aliasId?: string): Promise<Agent> {
  const { token } = await newJoinToken(aliasId)
  return attestWith('join_token', await joinTokenSession(token))
}

async function createEntry(input: EntryInput, applyNow = true): Promise<RegistrationEntry> {
  const [result] = await core.registration.createEntries([input], 'test')
  if (result?.status !== 'ok') throw result?.error ?? new Error('no result')
  // As the admin API does after every write.
  if (applyNow) await core.cache.applyEvents()
  return result.entry
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steeple-agent-api-'))
  nodeCa = await NodeCa.create()
  await writeFile(join(dir, 'node-ca.pem'), nodeCa.cert.toString('pem'))
  const configPath = await writeServerConfig(dir, TD, join(dir, 'node-ca.pem'))
  core = await buildServerCore(loadServerConfig({ config: configPath }), { log: silentLogger() })
  api = await startAgentApi(core, { port: 0 })
  address = `127.0.0.1:${api.port}`
})

afterAll(async () => {
  for (const client of clients) client.close()
  await api?.close()
  await core?.close()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe('agent API: attestation', () => {
  it('join_token attestation yields an agent SVID for /steeple/agent/join_token/<token-id>', async () => {
    const { token, tokenId } = await newJoinToken()
    const client = await newClient()
    const key = newKey()
    const outcome = await client.attest('join_token', await joinTokenSession(token), createCsr(key))
    const expected = joinTokenAgentId(core.config.trustDomain, tokenId)
    expect(outcome.agentId.toString()).toBe(expected.toString())
    expect(outcome.reattestable).toBe(false)
    expect(outcome.bundle.trustDomain.name).toBe(TD)
    const verified = verifyX509Svid(outcome.svidChainDer, outcome.bundle)
    expect(verified.id.toString()).toBe(expected.toString())

    const node = await core.store.nodes.get(expected)
    expect(node?.attestationType).toBe('join_token')
    expect(node?.selectors.map((s) => s.toString())).toEqual([`spiffe_id:${expected.toString()}`])
    const audit = await core.store.audit.list({ action: 'agent.attest', actor: expected.toString() })
    expect(audit).toHaveLength(1)
    expect(audit[0]!.details['attestor']).toBe('join_token')
  })

  it('refuses a join token used a second time with PERMISSION_DENIED', async () => {
    const { token } = await newJoinToken()
    await attestWith('join_token', await joinTokenSession(token))
    const again = attestWith('join_token', await joinTokenSession(token))
    await expectStatus(again, status.PERMISSION_DENIED, /^nodeattestor\(join_token\): join token is unknown, already used or expired$/)
  })

  it('refuses an unknown attestor type with INVALID_ARGUMENT naming it', async () => {
    const session = await joinTokenSession('whatever')
    await expectStatus(attestWith('k8s_psat', session), status.INVALID_ARGUMENT, /"k8s_psat" is not configured/)
  })

  it('refuses a bad CSR before the join token is used up', async () => {
    const { token } = await newJoinToken()
    const client = await newClient()
    await expectStatus(client.attest('join_token', await joinTokenSession(token), Buffer.from('not a csr')), status.INVALID_ARGUMENT, /^params\.csr: /)
    await attestWith('join_token', await joinTokenSession(token))
  })

  it('x509pop attestation answers a challenge and may attest again', async () => {
    const credentials = await nodeCa.issue('node-pop')
    let answered = 0
    const counting = (): AgentNodeAttestor => {
      const inner = new X509PopAgentSession(credentials)
      return { payload: () => inner.payload(), answer: (c) => (answered++, inner.answer(c)) }
    }
    const first = await attestWith('x509pop', counting())
    expect(answered).toBe(1)
    expect(first.agentId.toString()).toMatch(new RegExp(`^spiffe://${TD}/steeple/agent/x509pop/[0-9a-f]+$`))
    const node = await core.store.nodes.get(first.agentId)
    expect(node?.selectors.map((s) => s.toString())).toContain('x509pop:subject:cn:node-pop')
    expect(node?.canReattest).toBe(true)

    const second = await attestWith('x509pop', counting())
    expect(answered).toBe(2)
    expect(second.agentId.toString()).toBe(first.agentId.toString())
    // The re-attested agent's new SVID works; the one from the first attestation no longer does.
    await expect(second.client.getBundles()).resolves.toHaveLength(1)
    await expectStatus(first.client.getBundles(), status.PERMISSION_DENIED, /no longer current/)
  })

  it('refuses a banned node on re-attestation, and its SVID', async () => {
    const credentials = await nodeCa.issue('node-banned')
    const agent = await attestWith('x509pop', new X509PopAgentSession(credentials))
    const node = (await core.store.nodes.get(agent.agentId))!
    await core.store.nodes.update({ ...node, banned: true })
    await core.cache.applyEvents()
    await expectStatus(attestWith('x509pop', new X509PopAgentSession(credentials)), status.PERMISSION_DENIED, /is banned$/)
    await expectStatus(agent.client.getBundles(), status.PERMISSION_DENIED, /is banned$/)
  })

  it('refuses to attest again an agent whose record says it cannot re-attest', async () => {
    const credentials = await nodeCa.issue('node-once')
    const agentId = parseSpiffeId(`spiffe://${TD}/steeple/agent/x509pop/${certificateFingerprint(credentials.chainDer[0]!)}`)
    await core.store.nodes.create({
      spiffeId: agentId,
      attestationType: 'x509pop',
      selectors: [],
      certSerial: '01',
      certNotAfter: new Date(Date.now() + 3_600_000),
      newCertSerial: '',
      newCertNotAfter: undefined,
      banned: false,
      canReattest: false,
      lastSeenAt: undefined,
    })
    await expectStatus(attestWith('x509pop', new X509PopAgentSession(credentials)), status.PERMISSION_DENIED, /already attested and x509pop attestation cannot be repeated/)
  })

  it('renews the agent SVID; the new one becomes current on first use and the old one stops working', async () => {
    const agent = await attestJoinToken()
    const key = newKey()
    const renewed = await agent.client.renew(createCsr(key))
    expect(verifyX509Svid(renewed.svidChainDer, core.ownBundle.current()).id.toString()).toBe(agent.agentId.toString())
    let node = (await core.store.nodes.get(agent.agentId))!
    expect(node.newCertSerial).not.toBe('')

    // Until the new SVID is used, the old one still works.
    await expect(agent.client.getBundles()).resolves.toHaveLength(1)
    const renewedClient = await newClient()
    renewedClient.setSvid({ chainDer: renewed.svidChainDer, privateKey: key })
    await expect(renewedClient.getBundles()).resolves.toHaveLength(1)
    node = (await core.store.nodes.get(agent.agentId))!
    expect(node.certSerial).not.toBe('')
    expect(node.newCertSerial).toBe('')
    await expectStatus(agent.client.getBundles(), status.PERMISSION_DENIED, /no longer current/)
  })
})

describe('agent API: transport security', () => {
  it('presents an X509-SVID for /steeple/server signed by the active CA', async () => {
    const chain = await new Promise<Buffer[]>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: api.port, rejectUnauthorized: false, ALPNProtocols: ['h2'], servername: TD }, () => {
        const out: Buffer[] = []
        for (let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true); c?.raw !== undefined && !out.some((d) => d.equals(c!.raw)); c = c.issuerCertificate) {
          out.push(c.raw)
        }
        socket.destroy()
        resolve(out)
      })
      socket.on('error', reject)
    })
    expect(verifyX509Svid(chain, core.ownBundle.current()).id.toString()).toBe(SERVER_ID)
    expect(chain[0]!.equals(api.serverSvidChain()[0]!)).toBe(true)
  })

  it('the client refuses a server that presents another SPIFFE ID', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const impostor = core.ca.signX509Svid({ spiffeId: parseSpiffeId(`spiffe://${TD}/not-the-server`), publicKey: privateKey, ttlSeconds: 600 })
    const server = new grpc.Server()
    server.addService(loadAgentApi().service, {
      GetBundles: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { bundles: [] }),
    })
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        '127.0.0.1:0',
        grpc.ServerCredentials.createSsl(null, [
          { cert_chain: Buffer.from(certificatesToPem(impostor.chainDer)), private_key: Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string) },
        ]),
        (err, p) => (err === null ? resolve(p) : reject(err)),
      ),
    )
    try {
      const client = await newClient({ address: `127.0.0.1:${port}` })
      await expectStatus(client.getBundles(), status.UNAVAILABLE, new RegExp(`presented spiffe://${TD}/not-the-server, expected ${SERVER_ID}`))
    } finally {
      server.forceShutdown()
    }
  })

  it('insecure bootstrap attests without a bundle, then verifies the server for everything else', async () => {
    const { token } = await newJoinToken()
    const client = await newClient({ insecureBootstrap: true })
    const key = newKey()
    const outcome = await client.attest('join_token', await joinTokenSession(token), createCsr(key))
    client.setSvid({ chainDer: outcome.svidChainDer, privateKey: key })
    await expectStatus(client.getBundles(), status.FAILED_PRECONDITION, /no trust bundle/)
    client.setBundle(outcome.bundle)
    await expect(client.getBundles()).resolves.toHaveLength(1)
  })

  it('answers SyncAuthorized without a client certificate with UNAUTHENTICATED', async () => {
    const client = await newClient()
    const sync = client.syncAuthorized(() => {})
    await expectStatus(sync.done, status.UNAUTHENTICATED, /agent SVID required/)
  })

  it('refuses a workload SVID as caller with PERMISSION_DENIED', async () => {
    const key = newKey()
    const svid = core.ca.signX509Svid({ spiffeId: parseSpiffeId(`spiffe://${TD}/workload`), publicKey: key, ttlSeconds: 600 })
    const client = await newClient()
    client.setSvid({ chainDer: svid.chainDer, privateKey: key })
    await expectStatus(client.getBundles(), status.PERMISSION_DENIED, /is not an agent$/)
  })
})

describe('agent API: authorized entries and SVIDs', () => {
  it('SyncAuthorized sends the full set, then pushes upserts and deletions as they happen', async () => {
    const agent = await attestJoinToken()
    const parent = agent.agentId.toString()
    const e1 = await createEntry({ spiffe_id: `spiffe://${TD}/sync/one`, parent_id: parent, selectors: ['unix:uid:1001'] })
    const recorder = new SyncRecorder(agent.client)
    const full = await recorder.waitFor((u) => u.full)
    expect(ids(full.upserted)).toEqual([e1.id])
    expect(full.bundles?.map((b) => b.trustDomain.name)).toEqual([TD])

    // Applied right after the write (as the admin API does): pushed within milliseconds.
    let started = Date.now()
    const e2 = await createEntry({ spiffe_id: `spiffe://${TD}/sync/two`, parent_id: parent, selectors: ['unix:uid:1002'] })
    const added = await recorder.waitFor((u) => u.upserted.some((e) => e.id === e2.id))
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(added.full).toBe(false)
    expect(ids(added.upserted)).toEqual([e2.id])
    expect(added.bundles).toBeUndefined()

    // Not applied by the writer: the cache's polling picks it up.
    started = Date.now()
    const e3 = await createEntry({ spiffe_id: `spiffe://${TD}/sync/three`, parent_id: parent, selectors: ['unix:uid:1003'] }, false)
    await recorder.waitFor((u) => u.upserted.some((e) => e.id === e3.id))
    expect(Date.now() - started).toBeLessThan(2_000)

    // A burst of writes reaches the agent as one message.
    const before = recorder.updates.length
    const burst = await core.registration.createEntries(
      [1, 2, 3].map((n) => ({ spiffe_id: `spiffe://${TD}/sync/burst-${n}`, parent_id: parent, selectors: [`unix:uid:110${n}`] })),
      'test',
    )
    await core.cache.applyEvents()
    const burstIds = burst.map((r) => (r.status === 'ok' ? r.entry.id : ''))
    const burstUpdate = await recorder.waitFor((u) => u.upserted.some((e) => burstIds.includes(e.id)))
    expect(ids(burstUpdate.upserted)).toEqual([...burstIds].sort())
    expect(recorder.updates.length).toBe(before + 1)

    await core.registration.deleteEntries([e1.id], 'test')
    await core.cache.applyEvents()
    const removed = await recorder.waitFor((u) => u.deletedIds.includes(e1.id))
    expect(removed.upserted).toEqual([])

    // An entry under someone else is never pushed to this agent.
    const count = recorder.updates.length
    await createEntry({ spiffe_id: `spiffe://${TD}/sync/other`, parent_id: `spiffe://${TD}/steeple/agent/join_token/someone-else`, selectors: ['unix:uid:1'] })
    await new Promise((r) => setTimeout(r, 100))
    expect(recorder.updates.length).toBe(count)
    recorder.sync.close()
    await recorder.sync.done
  })

  it('BatchNewX509SVID signs authorized entries and refuses others per item', async () => {
    const agent = await attestJoinToken()
    const mine = await createEntry({
      spiffe_id: `spiffe://${TD}/batch/mine`,
      parent_id: agent.agentId.toString(),
      selectors: ['unix:uid:2001'],
      dns_names: ['mine.example.org'],
      x509_svid_ttl: 600,
    })
    const theirs = await createEntry({ spiffe_id: `spiffe://${TD}/batch/theirs`, parent_id: `spiffe://${TD}/steeple/agent/x509pop/other`, selectors: ['unix:uid:2002'] })
    const key = newKey()
    const results = await agent.client.batchNewX509Svid([
      { entryId: mine.id, csrDer: createCsr(key) },
      { entryId: theirs.id, csrDer: createCsr(key) },
      { entryId: 'no-such-entry', csrDer: createCsr(key) },
      { entryId: mine.id, csrDer: Buffer.from('garbage') },
    ])
    expect(results.map((r) => (r.ok ? 'OK' : status[grpcStatusOf(r.error)]))).toEqual(['OK', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'INVALID_ARGUMENT'])
    const ok = results[0]!
    if (!ok.ok) throw ok.error
    expect(ok.spiffeId.toString()).toBe(`spiffe://${TD}/batch/mine`)
    const lifetime = ok.expiresAt.getTime() - Date.now()
    expect(lifetime).toBeGreaterThan(500_000)
    expect(lifetime).toBeLessThanOrEqual(600_000)
    const bundle = core.ownBundle.current()
    expect(verifyX509Svid(ok.svidChainDer, bundle).id.toString()).toBe(`spiffe://${TD}/batch/mine`)

    // Standard tooling agrees.
    await writeFile(join(dir, 'bundle.pem'), certificatesToPem(bundle.x509Authorities))
    await writeFile(join(dir, 'svid.pem'), certificatesToPem(ok.svidChainDer.slice(0, 1)))
    await writeFile(join(dir, 'untrusted.pem'), certificatesToPem(ok.svidChainDer.slice(1)))
    const args = ['verify', '-CAfile', join(dir, 'bundle.pem')]
    if (ok.svidChainDer.length > 1) args.push('-untrusted', join(dir, 'untrusted.pem'))
    const run = spawnSync('openssl', [...args, join(dir, 'svid.pem')], { encoding: 'utf8' })
    expect(run.stdout.trim()).toBe(`${join(dir, 'svid.pem')}: OK`)
    expect(run.status).toBe(0)

    const audit = await core.store.audit.list({ action: 'svid.x509.sign', actor: agent.agentId.toString() })
    expect(audit.map((a) => a.entryId)).toEqual([mine.id])
    expect(audit[0]!.subject).toBe(`spiffe://${TD}/batch/mine`)
  })

  it('NewJWTSVID signs for an authorized entry only, with a non-empty audience', async () => {
    const agent = await attestJoinToken()
    const mine = await createEntry({ spiffe_id: `spiffe://${TD}/jwt/mine`, parent_id: agent.agentId.toString(), selectors: ['unix:uid:3001'] })
    const theirs = await createEntry({ spiffe_id: `spiffe://${TD}/jwt/theirs`, parent_id: `spiffe://${TD}/elsewhere`, selectors: ['unix:uid:3002'] })
    const jwt = await agent.client.newJwtSvid(mine.id, ['db'])
    expect(jwt.spiffeId.toString()).toBe(`spiffe://${TD}/jwt/mine`)
    expect(parseAndValidateJwtSvid(jwt.token, core.ownBundle.current(), 'db').id.toString()).toBe(`spiffe://${TD}/jwt/mine`)
    await expectStatus(agent.client.newJwtSvid(theirs.id, ['db']), status.PERMISSION_DENIED, /is not authorized/)
    await expectStatus(agent.client.newJwtSvid(mine.id, []), status.INVALID_ARGUMENT, /^audience: /)
    const audit = await core.store.audit.list({ action: 'svid.jwt.sign', actor: agent.agentId.toString() })
    expect(audit).toHaveLength(1)
    expect(JSON.stringify(audit[0])).not.toContain(jwt.token)
  })

  it('agent requests: malformed entry IDs and audiences beyond the limits are INVALID_ARGUMENT, per item, and nothing is signed for them', async () => {
    const agent = await attestJoinToken()
    const mine = await createEntry({ spiffe_id: `spiffe://${TD}/limits/mine`, parent_id: agent.agentId.toString(), selectors: ['unix:uid:3101'] })
    const key = newKey()
    const results = await agent.client.batchNewX509Svid([
      { entryId: `${mine.id}\0`, csrDer: createCsr(key) },
      { entryId: 'e'.repeat(10_000), csrDer: createCsr(key) },
      { entryId: mine.id, csrDer: createCsr(key) },
    ])
    expect(results.map((r) => (r.ok ? 'OK' : `${status[grpcStatusOf(r.error)]} ${r.error.message}`))).toEqual([
      `INVALID_ARGUMENT params[0].entry_id: must not contain control characters (NUL at byte ${mine.id.length})`,
      'INVALID_ARGUMENT params[1].entry_id: must not be longer than 255 bytes (got 10000)',
      'OK',
    ])
    await expectStatus(agent.client.newJwtSvid(mine.id, Array.from({ length: 10_000 }, (_, i) => `aud-${i}`)), status.INVALID_ARGUMENT, /^audience: at most 32 audience values \(got 10000\)$/)
    await expectStatus(agent.client.newJwtSvid(mine.id, ['db', 'x'.repeat(1025)]), status.INVALID_ARGUMENT, /^audience\[1\]: must not be longer than 1024 bytes \(got 1025\)$/)
    await expectStatus(agent.client.newJwtSvid(mine.id, ['db\0']), status.INVALID_ARGUMENT, /^audience\[0\]: must not contain control characters \(NUL at byte 2\)$/)
    const [x509, jwt] = await Promise.all([
      core.store.audit.list({ action: 'svid.x509.sign', actor: agent.agentId.toString() }),
      core.store.audit.list({ action: 'svid.jwt.sign', actor: agent.agentId.toString() }),
    ])
    expect(x509.map((a) => a.entryId)).toEqual([mine.id])
    expect(jwt).toEqual([])
  })

  it('node alias entries (parent = server ID, selectors of the node) authorize their children', async () => {
    const agent = await attestWith('x509pop', new X509PopAgentSession(await nodeCa.issue('node-alias')))
    const alias = await createEntry({ spiffe_id: `spiffe://${TD}/nodes/web`, parent_id: SERVER_ID, selectors: ['x509pop:subject:cn:node-alias'] })
    const child = await createEntry({ spiffe_id: `spiffe://${TD}/web`, parent_id: `spiffe://${TD}/nodes/web`, selectors: ['unix:uid:4001'] })
    const recorder = new SyncRecorder(agent.client)
    const full = await recorder.waitFor((u) => u.full)
    expect(ids(full.upserted)).toEqual([child.id])
    const results = await agent.client.batchNewX509Svid([
      { entryId: child.id, csrDer: createCsr(newKey()) },
      { entryId: alias.id, csrDer: createCsr(newKey()) },
    ])
    expect(results.map((r) => r.ok)).toEqual([true, false])
    recorder.sync.close()
  })

  it('a join token alias ID becomes a node entry selecting exactly that agent', async () => {
    const aliasId = `spiffe://${TD}/alias/rack-1`
    const agent = await attestJoinToken(aliasId)
    const [aliasEntry] = (await core.store.entries.list({ spiffeId: parseSpiffeId(aliasId) })).items
    expect(aliasEntry?.parentId.toString()).toBe(SERVER_ID)
    expect(aliasEntry?.selectors.map((s) => s.toString())).toEqual([`spiffe_id:${agent.agentId.toString()}`])
    const child = await createEntry({ spiffe_id: `spiffe://${TD}/rack-1/app`, parent_id: aliasId, selectors: ['unix:uid:5001'] })
    const [result] = await agent.client.batchNewX509Svid([{ entryId: child.id, csrDer: createCsr(newKey()) }])
    expect(result?.ok).toBe(true)
    const other = await attestJoinToken()
    const [refused] = await other.client.batchNewX509Svid([{ entryId: child.id, csrDer: createCsr(newKey()) }])
    expect(refused?.ok).toBe(false)
  })

  it('eviction ends the sync stream with PERMISSION_DENIED and the old SVID stops working', async () => {
    const agent = await attestJoinToken()
    await createEntry({ spiffe_id: `spiffe://${TD}/evict/app`, parent_id: agent.agentId.toString(), selectors: ['unix:uid:6001'] })
    const recorder = new SyncRecorder(agent.client)
    await recorder.waitFor((u) => u.full)
    await core.store.nodes.delete(agent.agentId)
    await core.cache.applyEvents()
    await expectStatus(within(recorder.sync.done, 2_000), status.PERMISSION_DENIED, /was evicted/)
    await expectStatus(agent.client.getBundles(), status.PERMISSION_DENIED, /is not attested/)
  })

  it('banning ends the sync stream with PERMISSION_DENIED', async () => {
    const agent = await attestJoinToken()
    const recorder = new SyncRecorder(agent.client)
    await recorder.waitFor((u) => u.full)
    const node = (await core.store.nodes.get(agent.agentId))!
    await core.store.nodes.update({ ...node, banned: true })
    await core.cache.applyEvents()
    await expectStatus(within(recorder.sync.done, 2_000), status.PERMISSION_DENIED, /is banned/)
  })
})

describe('agent API: server SVID and CA rotation', () => {
  it('re-mints the server SVID with the new CA when the CA activates its next slot', async () => {
    const rotationDir = await mkdtemp(join(tmpdir(), 'steeple-agent-api-rotation-'))
    const start = Date.now()
    let now = start
    const rotating = await buildServerCore(loadServerConfig({ config: await writeServerConfig(rotationDir, TD) }), { log: silentLogger(), clock: () => new Date(now) })
    const rotatingApi = await startAgentApi(rotating, { port: 0 })
    try {
      const first = rotatingApi.serverSvidChain()[0]!
      const firstCa = Buffer.from(rotating.ca.activeAuthority().x509.certificateDer)
      // Past half of the CA's life the next CA is prepared (published, not used): same server SVID.
      now = start + 13 * 3_600_000
      await rotating.ca.rotate()
      await new Promise((r) => setTimeout(r, 50))
      expect(rotatingApi.serverSvidChain()[0]!.equals(first)).toBe(true)
      // Past 5/6 it becomes active: the server SVID follows at once.
      now = start + 21 * 3_600_000
      await rotating.ca.rotate()
      const nextCa = Buffer.from(rotating.ca.activeAuthority().x509.certificateDer)
      expect(nextCa.equals(firstCa)).toBe(false)
      for (const deadline = Date.now() + 2_000; rotatingApi.serverSvidChain()[0]!.equals(first) && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 10))
      }
      const chain = rotatingApi.serverSvidChain()
      expect(chain[0]!.equals(first)).toBe(false)
      const onlyNext = new Bundle(rotating.config.trustDomain, { x509Authorities: [nextCa] })
      expect(verifyX509Svid(chain, onlyNext, { now: new Date(now) }).id.toString()).toBe(SERVER_ID)
    } finally {
      await rotatingApi.close()
      await rotating.close()
      await rm(rotationDir, { recursive: true, force: true })
    }
  })
})
