import { status, type ServiceError } from '@grpc/grpc-js'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../../../common/logger.js'
import { hashJoinToken } from '../../../plugins/node-attestor/join-token/index.js'
import { certificatesToPem, createCsr, generateKeyPair, parseSelector, parseSpiffeId } from '../../../spiffe/index.js'
import { OPENSSL_TEXT, damagedSpiffeBundles, withKeyOffCurve } from '../../../spiffe/testdata/damaged-bundles.js'
import { AdminClient } from '../../cli/client.js'
import { loadServerConfig } from '../../config.js'
import { buildServerCore, type ServerCore } from '../../core.js'
import { HealthChecker } from '../../health.js'
import { createServerMetrics, instrumentCore, startMetricsServer, type MetricsServer } from '../../metrics.js'
import { startAdminApi, type AdminApi } from './index.js'

const TD = 'example.org'
let dir: string
let core: ServerCore
let api: AdminApi
let client: AdminClient
let metricsServer: MetricsServer
let serving = true

/** The gRPC status code behind a CliError. */
async function statusOf(promise: Promise<unknown>): Promise<{ code: status; message: string }> {
  const err = await promise.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (e: unknown) => e as Error & { cause?: ServiceError },
  )
  return { code: err.cause!.code, message: err.message }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steeple-admin-'))
  const configPath = join(dir, 'server.yaml')
  await writeFile(
    configPath,
    [
      'server:',
      `  trust_domain: ${TD}`,
      `  data_dir: ${JSON.stringify(join(dir, 'data'))}`,
      'plugins:',
      '  KeyManager:',
      '    memory: {}',
      '  DataStore:',
      '    sqlite: { path: ":memory:" }',
      '',
    ].join('\n'),
  )
  const base = await buildServerCore(loadServerConfig({ config: configPath }), { log: silentLogger() })
  const metrics = createServerMetrics(base, silentLogger())
  core = instrumentCore(base, metrics)
  const health = new HealthChecker(core, () => serving)
  api = await startAdminApi(core, { health, log: silentLogger() })
  metricsServer = await startMetricsServer({ port: 0, metrics, health, log: silentLogger() })
  client = new AdminClient(api.socketPath)
})

afterAll(async () => {
  client?.close()
  await metricsServer?.close()
  await api?.close()
  await core?.close()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe('admin API socket', () => {
  it('is owner-only (0600) in an owner-only directory', async () => {
    expect((await stat(api.socketPath)).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, 'data'))).mode & 0o777).toBe(0o700)
  })

  it('refuses a socket path something else answers on, and replaces a stale one', async () => {
    await expect(startAdminApi(core, { health: new HealthChecker(core, () => true), log: silentLogger() })).rejects.toThrow(
      /admin socket: .* is in use by another process/,
    )

    const stalePath = join(dir, 'stale', 'admin.sock')
    await mkdir(join(dir, 'stale'), { mode: 0o700 })
    // A server killed with SIGKILL leaves its socket file behind.
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stalePath)}, () => console.log('up'))`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    await once(holder.stdout!, 'data')
    holder.kill('SIGKILL')
    await once(holder, 'exit')
    expect((await stat(stalePath)).isSocket()).toBe(true)
    const second = await startAdminApi(core, { health: new HealthChecker(core, () => true), socketPath: stalePath, log: silentLogger() })
    const other = new AdminClient(stalePath)
    try {
      expect((await other.call('Health', {})).trust_domain).toBe(TD)
    } finally {
      other.close()
      await second.close()
    }
    await expect(stat(stalePath)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('refuses a path that is not a socket, and one too long to bind', async () => {
    const file = join(dir, 'not-a-socket')
    await writeFile(file, '')
    const health = new HealthChecker(core, () => true)
    await expect(startAdminApi(core, { health, socketPath: file, log: silentLogger() })).rejects.toThrow(/exists and is not a socket/)
    await expect(startAdminApi(core, { health, socketPath: join(dir, 'x'.repeat(120)), log: silentLogger() })).rejects.toThrow(
      /Unix socket paths must be at most 103/,
    )
  })
})

describe('admin API calls', () => {
  it('evicts and bans agents, audited with the admin as actor; unknown agents are NOT_FOUND', async () => {
    const agent = (n: number) => parseSpiffeId(`spiffe://${TD}/steeple/agent/x509pop/node-${n}`)
    for (const n of [1, 2]) {
      await core.store.nodes.create({
        spiffeId: agent(n),
        attestationType: 'x509pop',
        selectors: [parseSelector('x509pop:subject:cn:node')],
        certSerial: `0${n}`,
        certNotAfter: new Date(Date.now() + 3_600_000),
        newCertSerial: '',
        newCertNotAfter: undefined,
        banned: false,
        canReattest: true,
        lastSeenAt: undefined,
      })
    }
    const listed = await client.call('ListAgents', { selectors: [{ type: 'x509pop', value: 'subject:cn:node' }] })
    expect(listed.agents.map((a) => a.spiffe_id).sort()).toEqual([agent(1).toString(), agent(2).toString()])

    expect((await client.call('BanAgent', { spiffe_id: agent(1).toString() })).banned).toBe(true)
    expect((await core.store.nodes.get(agent(1)))?.banned).toBe(true)
    expect((await client.call('ListAgents', { banned: 'true' })).agents.map((a) => a.spiffe_id)).toEqual([agent(1).toString()])
    expect((await client.call('EvictAgent', { spiffe_id: agent(2).toString() })).spiffe_id).toBe(agent(2).toString())
    expect(await core.store.nodes.get(agent(2))).toBeUndefined()

    const actor = `admin:uid:${process.getuid!()}`
    expect((await core.store.audit.list({ action: 'agent.ban' }))[0]).toMatchObject({ actor, subject: agent(1).toString() })
    expect((await core.store.audit.list({ action: 'agent.evict' }))[0]).toMatchObject({ actor, subject: agent(2).toString() })

    expect(await statusOf(client.call('GetAgent', { spiffe_id: agent(2).toString() }))).toEqual({
      code: status.NOT_FOUND,
      message: `agent: no attested agent with SPIFFE ID ${agent(2).toString()}`,
    })
    expect(await statusOf(client.call('BanAgent', { spiffe_id: 'not an id' }))).toMatchObject({ code: status.INVALID_ARGUMENT, message: /^spiffe_id: / })
    expect(await statusOf(client.call('ListAgents', { banned: 'maybe' }))).toMatchObject({ code: status.INVALID_ARGUMENT, message: /^banned: / })
  })

  it('makes join tokens stored only as hashes, with their alias; refuses bad aliases and TTLs', async () => {
    const made = await client.call('CreateJoinToken', { ttl: 60, spiffe_id: `spiffe://${TD}/racks/7` })
    const stored = await core.store.joinTokens.consume(hashJoinToken(made.token), new Date())
    expect(stored?.aliasId?.toString()).toBe(`spiffe://${TD}/racks/7`)
    expect(Number(made.expires_at) - Date.now() / 1000).toBeGreaterThan(55)
    expect(made.agent_id).toBe(`spiffe://${TD}/steeple/agent/join_token/${hashJoinToken(made.token).slice(0, 32)}`)
    const audit = await core.store.audit.list({ action: 'join_token.create' })
    expect(JSON.stringify(audit)).not.toContain(made.token)

    expect(await statusOf(client.call('CreateJoinToken', { spiffe_id: `spiffe://${TD}/steeple/agent/x` }))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: /^spiffe_id: path "\/steeple\/agent\/x" is reserved/,
    })
    expect(await statusOf(client.call('CreateJoinToken', { ttl: -1 }))).toMatchObject({ code: status.INVALID_ARGUMENT, message: /^ttl: / })
  })

  it('writes answer after the entry cache has the change', async () => {
    const parent = `spiffe://${TD}/steeple/agent/x509pop/cache-node`
    const created = await client.call('CreateEntries', { entries: [{ spiffe_id: `spiffe://${TD}/cached`, parent_id: parent, selectors: [{ type: 'unix', value: 'uid:5' }] }] })
    const id = created.results[0]!.entry!.id
    // No waiting: the handler applied the change events before answering.
    expect(core.cache.entry(id)?.spiffeId.toString()).toBe(`spiffe://${TD}/cached`)
    await client.call('DeleteEntries', { ids: [id] })
    expect(core.cache.entry(id)).toBeUndefined()
    expect(await statusOf(client.call('CreateEntries', { entries: [] }))).toMatchObject({ code: status.INVALID_ARGUMENT, message: 'entries: at least one item is required' })
  })

  it('refuses to delete a federated bundle entries federate with', async () => {
    const ownPem = Buffer.from(core.ownBundle.current().x509Authorities.map((der) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE-----\n`).join(''))
    const set = await client.call('SetFederatedBundle', { trust_domain: 'partner.test', data: ownPem, format: 'pem' })
    expect(set).toMatchObject({ trust_domain: 'partner.test', sequence_number: '1' })
    await client.call('CreateEntries', {
      entries: [{ spiffe_id: `spiffe://${TD}/fed`, parent_id: `spiffe://${TD}/steeple/server`, selectors: [{ type: 'a', value: 'b' }], federates_with: ['partner.test'] }],
    })
    expect(await statusOf(client.call('DeleteFederatedBundle', { trust_domain: 'partner.test' }))).toEqual({
      code: status.FAILED_PRECONDITION,
      message: 'bundle: 1 registration entry federates with "partner.test": remove it from their federates_with first',
    })
    expect(await statusOf(client.call('SetFederatedBundle', { trust_domain: 'partner.test', data: Buffer.from('{"keys":'), format: 'spiffe' }))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: /^data: /,
    })
    expect(await statusOf(client.call('DeleteFederatedBundle', { trust_domain: 'nobody.test' }))).toMatchObject({ code: status.NOT_FOUND })
  })

  it.each(damagedSpiffeBundles().map((c) => [c.name, c] as const))('SetFederatedBundle refuses a bundle with %s: INVALID_ARGUMENT naming the member and the rule', async (_name, c) => {
    const refused = await statusOf(client.call('SetFederatedBundle', { trust_domain: 'damaged.test', data: Buffer.from(c.json), format: 'spiffe' }))
    expect(refused).toEqual({ code: status.INVALID_ARGUMENT, message: `data: spiffebundle: ${c.member}: ${c.rule}` })
    expect(refused.message).not.toMatch(OPENSSL_TEXT)
  })

  it('SetFederatedBundle refuses PEM whose certificate key is off its curve: INVALID_ARGUMENT naming the certificate', async () => {
    const der = core.ownBundle.current().x509Authorities[0]!
    const pem = Buffer.from(certificatesToPem([withKeyOffCurve(der)]))
    expect(await statusOf(client.call('SetFederatedBundle', { trust_domain: 'damaged.test', data: pem, format: 'pem' }))).toEqual({
      code: status.INVALID_ARGUMENT,
      message: 'data: x509bundle: certificate 0: certificate must hold a well-formed public key',
    })
    // Neither this bundle nor any of the damaged ones above was stored.
    const { bundles } = await client.call('ListFederatedBundles', {})
    expect(bundles.map((b) => b.trust_domain)).not.toContain('damaged.test')
  })

  it.each([
    ['X.509: a bad DNS name', 'MintX509SVID', { spiffe_id: `spiffe://${TD}/m`, dns_names: ['-bad-'] }, /^dns_names\[0\]: "-bad-" is not a valid DNS name: labels must not start or end with a dash$/],
    // DNS names follow the same rules and limits as an entry's.
    ['X.509: 10,000 DNS names', 'MintX509SVID', { spiffe_id: `spiffe://${TD}/m`, dns_names: Array.from({ length: 10_000 }, (_, i) => `h${i}.example.org`) }, /^dns_names: at most 32 DNS names \(got 10000\)$/],
    ['X.509: a NUL in a DNS name', 'MintX509SVID', { spiffe_id: `spiffe://${TD}/m`, dns_names: ['ok.example', 'a\0.example'] }, /^dns_names\[1\]: must not contain control characters \(NUL at byte 1\)$/],
    ['X.509: an underscore in a DNS name', 'MintX509SVID', { spiffe_id: `spiffe://${TD}/m`, dns_names: ['a_b.example'] }, /^dns_names\[0\]: "a_b\.example" is not a valid DNS name: labels are limited/],
    ['X.509: a duplicated DNS name', 'MintX509SVID', { spiffe_id: `spiffe://${TD}/m`, dns_names: ['a.example', 'A.example'] }, /^dns_names\[1\]: "A\.example" duplicates dns_names\[0\]$/],
    ['X.509: no CSR', 'MintX509SVID', { spiffe_id: `spiffe://${TD}/m` }, /^csr: a PKCS#10 certificate request \(DER\) is required$/],
    ['X.509: a CSR that is not one', 'MintX509SVID', { spiffe_id: `spiffe://${TD}/m`, csr: Buffer.from('nope') }, /^csr: /],
    ['X.509: a reserved ID', 'MintX509SVID', { spiffe_id: `spiffe://${TD}/steeple/server` }, /^spiffe_id: path "\/steeple\/server" is reserved/],
    ['JWT: an empty audience', 'MintJWTSVID', { spiffe_id: `spiffe://${TD}/m`, audience: ['a', ''] }, /^audience\[1\]: must not be empty$/],
    ['JWT: 33 audience values', 'MintJWTSVID', { spiffe_id: `spiffe://${TD}/m`, audience: Array.from({ length: 33 }, (_, i) => `a${i}`) }, /^audience: at most 32 audience values \(got 33\)$/],
    ['JWT: a 1025-byte audience', 'MintJWTSVID', { spiffe_id: `spiffe://${TD}/m`, audience: ['a'.repeat(1025)] }, /^audience\[0\]: must not be longer than 1024 bytes \(got 1025\)$/],
    ['JWT: a NUL in an audience', 'MintJWTSVID', { spiffe_id: `spiffe://${TD}/m`, audience: ['a\0'] }, /^audience\[0\]: must not contain control characters \(NUL at byte 1\)$/],
    ['JWT: a negative TTL', 'MintJWTSVID', { spiffe_id: `spiffe://${TD}/m`, audience: ['a'], ttl: -5 }, /^ttl: must be a whole number of seconds/],
  ] as const)('refuses to mint with %s, naming the field', async (_name, method, request, message) => {
    const withCsr = method === 'MintX509SVID' && !('csr' in request) && 'dns_names' in request ? { ...request, csr: createCsr(generateKeyPair('ec-p256').privateKey) } : request
    expect(await statusOf(client.call(method, withCsr as never))).toMatchObject({ code: status.INVALID_ARGUMENT, message })
  })

  it('counts minted SVIDs in /metrics; /ready follows readiness and Health says why not', async () => {
    const scrape = async () => (await fetch(`http://127.0.0.1:${metricsServer.port}/metrics`)).text()
    const counter = (text: string, type: string) => Number(new RegExp(`^steeple_svids_signed_total\\{type="${type}"\\} (\\d+)$`, 'm').exec(text)?.[1])
    const before = await scrape()
    const { privateKey } = generateKeyPair('ec-p256')
    await client.call('MintX509SVID', { spiffe_id: `spiffe://${TD}/metered`, csr: createCsr(privateKey) })
    await client.call('MintJWTSVID', { spiffe_id: `spiffe://${TD}/metered`, audience: ['x'] })
    const after = await scrape()
    expect(counter(after, 'x509')).toBe(counter(before, 'x509') + 1)
    expect(counter(after, 'jwt')).toBe(counter(before, 'jwt') + 1)
    expect(after).toMatch(/^# TYPE steeple_entries gauge$/m)
    expect(Number(/^steeple_entries (\d+)$/m.exec(after)?.[1])).toBe(await core.store.entries.count())

    expect((await fetch(`http://127.0.0.1:${metricsServer.port}/ready`)).status).toBe(200)
    serving = false
    try {
      const notReady = await fetch(`http://127.0.0.1:${metricsServer.port}/ready`)
      expect(notReady.status).toBe(503)
      expect(await notReady.text()).toBe('not ready: the server is starting or stopping\n')
      expect(await client.call('Health', {})).toMatchObject({ live: true, ready: false, problem: 'the server is starting or stopping' })
      expect((await fetch(`http://127.0.0.1:${metricsServer.port}/live`)).status).toBe(200)
    } finally {
      serving = true
    }
    expect((await fetch(`http://127.0.0.1:${metricsServer.port}/nope`)).status).toBe(404)
  })
})
