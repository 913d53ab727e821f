import { status } from '@grpc/grpc-js'
import { spawnSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { importJWK, jwtVerify, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { certificatesToPem, createCsr, parseSpiffeBundle, parseTrustDomain, pemDecodeAll } from '../../spiffe/index.js'
import { OPENSSL_TEXT, damagedSpiffeBundles, withKeyOffCurve } from '../../spiffe/testdata/damaged-bundles.js'
import { ServerClient } from '../../agent/client/server-client.js'
import { SteepleError } from '../../common/errors.js'
import { JoinTokenAgentPlugin } from '../../plugins/node-attestor/join-token/index.js'
import { ServerProcess, inPool, jsonOf, removeTempDirs, runCli, tempDir, type CommandResult } from './server-cli-helpers.js'
import type { EntryJson } from '../../server/cli/entry-input.js'
import { grpcStatusOf } from '../../common/grpc-status.js'

/**
 * steeple-server as operators use it: real `steeple-server run` processes on temp directories,
 * driven through the CLI binary. Independent tests run concurrently; every CLI call is a process
 * start, so calls are batched where the command allows it.
 */

const TD = 'example.org'
const SERVER_ID = `spiffe://${TD}/steeple/server`

interface EntryResultsJson {
  results: { index: number; status: { code: number; message: string }; entry?: EntryJson }[]
}

function expectOk(result: CommandResult): CommandResult {
  if (result.code !== 0) throw new Error(`command failed (code ${result.code}):\n${result.stdout}\n${result.stderr}`)
  return result
}

/** `openssl verify` of a certificate file against a CA file, at a given time (unix seconds). */
function opensslVerify(caFile: string, certFile: string, atTime?: number): { ok: boolean; output: string } {
  const args = ['verify', ...(atTime === undefined ? [] : ['-attime', String(atTime)]), '-CAfile', caFile, certFile]
  const r = spawnSync('openssl', args, { encoding: 'utf8' })
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` }
}

const opensslMissing = spawnSync('openssl', ['version']).status !== 0

// A server shared by the tests that do not depend on each other's writes.
let shared: ServerProcess
let sharedDir: string

beforeAll(async () => {
  sharedDir = await tempDir('steeple-cli-')
  shared = await ServerProcess.start(['--data-dir', join(sharedDir, 'data'), '--bind-port', '0', '--metrics-port', '0'])
})

afterAll(async () => {
  await shared?.stop('SIGKILL')
  await removeTempDirs()
})

// Two groups, one after the other: the CA rotation test needs 20 s of wall-clock time and runs
// next to the lighter tests; the heavier ones (many CLI process starts each) follow.
describe('steeple-server through its CLI, while a short-lived CA rotates', () => {
  it.concurrent('CA rotation with short TTLs: every SVID verifies against the bundle published when it was minted', { timeout: 120_000, skip: opensslMissing }, async () => {
    const dir = await tempDir('steeple-cli-rotate-')
    const config = join(dir, 'server.yaml')
    await writeFile(
      config,
      ['server:', `  trust_domain: ${TD}`, `  data_dir: ${JSON.stringify(join(dir, 'data'))}`, '  bind_port: 0', '  ca_ttl: 12s', '  default_x509_svid_ttl: 3s', '  default_jwt_svid_ttl: 3s', ''].join('\n'),
    )
    const server = await ServerProcess.start(['--config', config])
    try {
      const snapshots: Set<string>[] = []
      const failures: string[] = []
      // A new CA is issued at half of the active one's life, so the bundle always holds about two;
      // what shows rotation is the set changing: CAs appear before they sign and leave once expired.
      const rotated = () => {
        if (snapshots.length < 2) return false
        const first = snapshots[0]!
        const appeared = snapshots.some((snap) => [...snap].some((ca) => !first.has(ca)))
        const left = snapshots.some((snap, i) => snapshots.slice(i + 1).some((later) => [...snap].some((ca) => !later.has(ca))))
        return appeared && left
      }
      // At least 20 s of minting (the CA lives 12 s), longer on a loaded machine until a CA has
      // been seen to leave the bundle.
      const start = Date.now()
      for (let i = 0; Date.now() - start < 20_000 || (!rotated() && Date.now() - start < 45_000); i++) {
        const out = join(dir, `svid-${i}`)
        // Started together, so the bundle is read within a moment of the signing however long a
        // CLI start takes here: a CA is published several seconds before it signs and stays until
        // it expires, so that snapshot must hold the SVID's CA.
        const [mintResult, bundleResult] = await Promise.all([
          server.cli('x509', 'mint', '--spiffe-id', `spiffe://${TD}/rotating`, '--write', out, '--output', 'json'),
          server.cli('bundle', 'show'),
        ])
        const minted = jsonOf<{ expires_at: number; svid_path: string }>(mintResult)
        const bundle = expectOk(bundleResult).stdout
        const bundleFile = join(out, 'published.pem')
        await writeFile(bundleFile, bundle)
        snapshots.push(new Set(pemDecodeAll(bundle, 'CERTIFICATE').map((der) => Buffer.from(der).toString('base64'))))
        // At a time the SVID is valid, whatever the machine's load made the CLI calls take.
        const verified = opensslVerify(bundleFile, minted.svid_path, minted.expires_at - 1)
        if (!verified.ok) failures.push(`svid ${i}: ${verified.output}`)
      }
      expect(failures).toEqual([])
      expect(snapshots.length).toBeGreaterThanOrEqual(3)
      // The next CA is published before it signs, and expired ones leave the bundle.
      expect({ sizes: snapshots.map((s) => s.size), rotated: rotated() }).toEqual({ sizes: snapshots.map((s) => s.size), rotated: true })
    } finally {
      await server.stop('SIGKILL')
    }
  })

  it.concurrent('mints an X.509-SVID that openssl verifies against bundle.pem and against `bundle show`', { timeout: 120_000, skip: opensslMissing }, async () => {
    const out = join(sharedDir, 'mint')
    const minted = jsonOf<{ spiffe_id: string; expires_at: number; svid_path: string; key_path: string; bundle_path: string }>(
      await shared.cli('x509', 'mint', '--spiffe-id', `spiffe://${TD}/mint/db`, '--dns', 'db.example.org', '--ttl', '300', '--write', out, '--output', 'json'),
    )
    expect(minted.svid_path).toBe(join(out, 'svid.pem'))
    expect((await stat(minted.key_path)).mode & 0o777).toBe(0o600)
    expect(minted.expires_at).toBeGreaterThan(Date.now() / 1000 + 200)
    expect(opensslVerify(minted.bundle_path, minted.svid_path)).toMatchObject({ ok: true })

    const shown = expectOk(await shared.cli('bundle', 'show'))
    const shownFile = join(out, 'shown.pem')
    await writeFile(shownFile, shown.stdout)
    expect(opensslVerify(shownFile, minted.svid_path)).toMatchObject({ ok: true })
    const text = spawnSync('openssl', ['x509', '-in', minted.svid_path, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' }).stdout
    expect(text).toContain(`URI:spiffe://${TD}/mint/db`)
    expect(text).toContain('DNS:db.example.org')

    // Without --write, everything is printed.
    const printed = expectOk(await shared.cli('x509', 'mint', '--spiffe-id', `spiffe://${TD}/mint/printed`))
    expect(printed.stdout).toMatch(/^X509-SVID:\n-----BEGIN CERTIFICATE-----/)
    expect(printed.stdout).toContain('Private key:\n-----BEGIN PRIVATE KEY-----')
    expect(printed.stdout).toContain('Root CAs:\n-----BEGIN CERTIFICATE-----')
  })

  it.concurrent('mints a JWT-SVID that jose verifies against `bundle show --format spiffe`', { timeout: 120_000 }, async () => {
    const [minted, shown] = await Promise.all([
      shared.cli('jwt', 'mint', '--spiffe-id', `spiffe://${TD}/mint/api`, '--audience', 'https://api.example.org', '--audience', 'other', '--ttl', '120'),
      shared.cli('bundle', 'show', '--format', 'spiffe'),
    ])
    const token = expectOk(minted).stdout.trim()
    const doc = JSON.parse(expectOk(shown).stdout) as { keys: (JWK & { use?: string; kid?: string })[] }
    expect(doc.keys.some((k) => k.use === 'x509-svid')).toBe(true)
    const jwtKeys = doc.keys.filter((k) => k.use === 'jwt-svid')
    expect(jwtKeys.length).toBeGreaterThan(0)
    const { payload, protectedHeader } = await jwtVerify(
      token,
      async (header) => {
        const key = jwtKeys.find((k) => k.kid === header.kid)
        if (key === undefined) throw new Error(`no key ${header.kid} in the bundle`)
        // jose's JWK sets skip keys whose `use` is not "sig"; the key itself is fine.
        const { use: _use, ...jwk } = key
        return importJWK(jwk, header.alg)
      },
      { audience: 'https://api.example.org' },
    )
    expect(protectedHeader.typ).toBe('JWT')
    expect(payload.sub).toBe(`spiffe://${TD}/mint/api`)
    expect(payload.aud).toEqual(['https://api.example.org', 'other'])
    expect(payload.exp! - payload.iat!).toBe(120)
  })

  it.concurrent('federated bundles: set from a file, list, refuse the own trust domain, delete', { timeout: 120_000 }, async () => {
    const pemFile = join(sharedDir, 'partner.pem')
    // Any CA certificate will do as the partner's: use this server's own.
    await writeFile(pemFile, expectOk(await shared.cli('bundle', 'show')).stdout)
    const [set, own] = await Promise.all([
      shared.cli('bundle', 'set', '--id', 'partner.test', '--path', pemFile),
      shared.cli('bundle', 'set', '--id', TD, '--path', pemFile),
    ])
    expect(expectOk(set).stdout).toBe('Bundle set for partner.test\n')
    expect(own.code).toBe(1)
    expect(own.stderr).toMatch(/trust_domain: "example\.org" is the server's own trust domain/)
    const listed = jsonOf<{ bundles: { trust_domain: string; bundle: string }[] }>(await shared.cli('bundle', 'list', '--output', 'json'))
    expect(listed.bundles.map((b) => b.trust_domain)).toContain('partner.test')
    expect(listed.bundles.find((b) => b.trust_domain === 'partner.test')!.bundle).toBe(await readFile(pemFile, 'utf8'))
    expect(expectOk(await shared.cli('bundle', 'delete', '--id', 'partner.test')).stdout).toBe('Bundle deleted for partner.test\n')
  })

  it.concurrent('healthcheck, metrics and the audit trail', { timeout: 120_000 }, async () => {
    const [health, shallow, minted] = await Promise.all([
      shared.cli('healthcheck'),
      shared.cli('healthcheck', '--shallow', '--output', 'json'),
      shared.cli('jwt', 'mint', '--spiffe-id', `spiffe://${TD}/audit/job-42`, '--audience', 'queue'),
    ])
    expect(expectOk(health).stdout).toBe('Server is healthy.\n')
    expect(jsonOf<{ healthy: boolean; ready: boolean; trust_domain: string }>(shallow)).toMatchObject({ healthy: true, ready: true, trust_domain: TD })
    expectOk(minted)

    const audit = jsonOf<{ events: { action: string; actor: string; subject: string; details: Record<string, unknown> }[] }>(
      await shared.cli('audit', 'list', '--subject', `spiffe://${TD}/audit/job-42`, '--since', '10m', '--output', 'json'),
    )
    expect(audit.events).toHaveLength(1)
    expect(audit.events[0]).toMatchObject({ action: 'svid.jwt.sign', actor: `admin:uid:${process.getuid!()}`, details: { audience: ['queue'] } })

    const response = await fetch(`http://${shared.metricsAddress}/metrics`)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const metrics = await response.text()
    expect(Number(/^steeple_svids_signed_total\{type="jwt"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1)
    expect(metrics).toMatch(/^steeple_svids_signed_total\{type="x509"\} \d+$/m)
    expect(metrics).toMatch(/^steeple_node_attestations_total\{result="success"\} \d+$/m)
    expect(metrics).toMatch(/^steeple_entries \d+$/m)
    expect(metrics).toMatch(/^steeple_agents \d+$/m)
    const caExpiry = Number(/^steeple_ca_expiry_seconds (\d+)$/m.exec(metrics)?.[1])
    expect(caExpiry).toBeGreaterThan(3600)
    expect(caExpiry).toBeLessThanOrEqual(24 * 3600)
    expect((await fetch(`http://${shared.metricsAddress}/ready`)).status).toBe(200)
    expect((await fetch(`http://${shared.metricsAddress}/live`)).status).toBe(200)
  })

  it.concurrent('config errors stop start-up with a message naming the key or flag', { timeout: 120_000 }, async () => {
    const dir = await tempDir('steeple-cli-config-')
    const unknownKey = join(dir, 'unknown.yaml')
    const badValue = join(dir, 'bad-value.yaml')
    await writeFile(unknownKey, 'server:\n  trust_domian: example.org\n')
    await writeFile(badValue, 'server:\n  ca_ttl: soon\n')
    const data = ['--data-dir', join(dir, 'data')]
    const [unknown, value, flag, missing] = await Promise.all([
      runCli(['run', '--config', unknownKey, ...data]),
      runCli(['run', '--config', badValue, ...data]),
      runCli(['run', '--bind-port', 'eighty', ...data]),
      runCli(['run', '--config', join(dir, 'absent.yaml'), ...data]),
    ])
    for (const [r, expected] of [
      [unknown, /server\.trust_domian is not a known key/],
      [value, /server\.ca_ttl/],
      [flag, /--bind-port must be a port number/],
      [missing, /cannot read config file .*absent\.yaml/],
    ] as const) {
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(expected)
    }
  })
})

describe('steeple-server through its CLI: entries, agents, bad input, crashes', () => {
  it.concurrent('creates, shows, updates and deletes entries from flags and from --data batches', { timeout: 120_000 }, async () => {
    const created = jsonOf<EntryResultsJson>(
      await shared.cli(
        'entry', 'create', '--output', 'json',
        '--spiffe-id', `spiffe://${TD}/crud/web`, '--parent-id', SERVER_ID,
        '--selector', 'unix:uid:1000', '--selector', 'unix:gid:50',
        '--x509-svid-ttl', '600', '--jwt-svid-ttl', '60', '--dns', 'web.example.org',
        '--federates-with', 'partner.org', '--admin', '--downstream', '--store-svid',
        '--entry-expiry', String(Math.floor(Date.now() / 1000) + 86_400),
        '--hint', 'frontend', '--owner', 'team-web', '--description', 'serves the shop',
      ),
    )
    expect(created.results).toHaveLength(1)
    const web = created.results[0]!.entry!
    expect(created.results[0]!.status.code).toBe(0)
    expect(web).toMatchObject({
      spiffe_id: `spiffe://${TD}/crud/web`,
      parent_id: SERVER_ID,
      selectors: [{ type: 'unix', value: 'gid:50' }, { type: 'unix', value: 'uid:1000' }],
      x509_svid_ttl: 600,
      jwt_svid_ttl: 60,
      dns_names: ['web.example.org'],
      federates_with: ['partner.org'],
      admin: true,
      downstream: true,
      store_svid: true,
      hint: 'frontend',
      owner: 'team-web',
      description: 'serves the shop',
      revision_number: 0,
    })

    const batchFile = join(sharedDir, 'crud-batch.json')
    const batch = ['a', 'b', 'c'].map((n) => ({ spiffe_id: `spiffe://${TD}/crud/batch/${n}`, parent_id: `spiffe://${TD}/crud/web`, selectors: [`k8s:ns:${n}`] }))
    await writeFile(batchFile, JSON.stringify({ entries: batch }))
    const [batchCreated, nodeCreated, pretty] = await Promise.all([
      shared.cli('entry', 'create', '--data', batchFile, '--output', 'json'),
      shared.cli('entry', 'create', '--node', '--spiffe-id', `spiffe://${TD}/crud/node-group`, '--selector', 'x509pop:subject:cn:n1', '--output', 'json'),
      shared.cli('entry', 'show', '--entry-id', web.id),
    ])
    const batchIds = jsonOf<EntryResultsJson>(batchCreated).results.map((r) => {
      expect(r.status.code).toBe(0)
      return r.entry!.id
    })
    expect(batchIds).toHaveLength(3)
    // --node: the parent is the server ID, so the entry aliases matching agents.
    expect(jsonOf<EntryResultsJson>(nodeCreated).results[0]!.entry!.parent_id).toBe(SERVER_ID)
    expectOk(pretty)
    expect(pretty.stdout).toMatch(/^Found 1 entry\n/)
    expect(pretty.stdout).toMatch(/^Entry ID\s+: [0-9a-f-]{36}$/m)
    expect(pretty.stdout).toMatch(/^SPIFFE ID\s+: spiffe:\/\/example\.org\/crud\/web$/m)
    expect(pretty.stdout).toMatch(/^Selector\s+: unix:gid:50$/m)
    expect(pretty.stdout).toMatch(/^Selector\s+: unix:uid:1000$/m)
    expect(pretty.stdout).toMatch(/^X509-SVID TTL\s+: 600s$/m)

    // Filters, and the JSON of `entry show` fed back as an update batch.
    const [byParent, bySelector, count] = await Promise.all([
      shared.cli('entry', 'show', '--parent-id', `spiffe://${TD}/crud/web`, '--output', 'json'),
      shared.cli('entry', 'show', '--selector', 'unix:uid:1000', '--match', 'superset', '--output', 'json'),
      shared.cli('entry', 'count', '--parent-id', `spiffe://${TD}/crud/web`, '--output', 'json'),
    ])
    const children = jsonOf<{ entries: EntryJson[] }>(byParent).entries
    expect(children.map((e) => e.id).sort()).toEqual([...batchIds].sort())
    expect(jsonOf<{ entries: EntryJson[] }>(bySelector).entries.map((e) => e.id)).toEqual([web.id])
    expect(jsonOf<{ count: number }>(count).count).toBe(3)

    const edited = children.map((e) => ({ ...e, hint: `edited-${e.spiffe_id.slice(-1)}` }))
    await writeFile(batchFile, JSON.stringify({ entries: edited }))
    const [batchUpdated, flagUpdated] = await Promise.all([
      shared.cli('entry', 'update', '--data', batchFile, '--output', 'json'),
      // Full replacement: fields left out (DNS names, TTLs, flags) go back to their defaults.
      shared.cli('entry', 'update', '--entry-id', web.id, '--spiffe-id', `spiffe://${TD}/crud/web`, '--parent-id', SERVER_ID, '--selector', 'unix:uid:1001', '--output', 'json'),
    ])
    for (const r of jsonOf<EntryResultsJson>(batchUpdated).results) {
      expect(r.status.code).toBe(0)
      expect(r.entry!.hint).toBe(`edited-${r.entry!.spiffe_id.slice(-1)}`)
      expect(r.entry!.revision_number).toBe(1)
    }
    expect(jsonOf<EntryResultsJson>(flagUpdated).results[0]!.entry).toMatchObject({
      id: web.id,
      selectors: [{ type: 'unix', value: 'uid:1001' }],
      dns_names: [],
      x509_svid_ttl: 0,
      admin: false,
      hint: '',
      revision_number: 1,
    })

    const idsFile = join(sharedDir, 'crud-ids.json')
    await writeFile(idsFile, JSON.stringify({ ids: batchIds.slice(1) }))
    const [deletedOne, deletedBatch] = await Promise.all([
      shared.cli('entry', 'delete', '--entry-id', batchIds[0]!),
      shared.cli('entry', 'delete', '--data', idsFile, '--output', 'json'),
    ])
    expect(expectOk(deletedOne).stdout).toBe(`Deleted entry ${batchIds[0]}\n`)
    expect(jsonOf<EntryResultsJson>(deletedBatch).results.map((r) => r.status.code)).toEqual([0, 0])
    const after = await shared.cli('entry', 'count', '--parent-id', `spiffe://${TD}/crud/web`)
    expect(expectOk(after).stdout).toBe('0 registration entries\n')
  })

  it.concurrent('join token from `token generate`: one attestation only, agent commands, and no SVID outside the node', { timeout: 120_000 }, async () => {
    const alias = `spiffe://${TD}/agents/rack-7`
    const dataFile = join(sharedDir, 'agent-entries.json')
    await writeFile(
      dataFile,
      JSON.stringify({
        entries: [
          { spiffe_id: `spiffe://${TD}/agents/inside`, parent_id: alias, selectors: ['unix:uid:1'] },
          { spiffe_id: `spiffe://${TD}/agents/outside`, parent_id: `spiffe://${TD}/agents/rack-8`, selectors: ['unix:uid:1'] },
        ],
      }),
    )
    const [generated, entries, shown] = await Promise.all([
      shared.cli('token', 'generate', '--spiffe-id', alias, '--ttl', '120', '--output', 'json'),
      shared.cli('entry', 'create', '--data', dataFile, '--output', 'json'),
      shared.cli('bundle', 'show', '--format', 'spiffe'),
    ])
    const { token, agent_id: agentId } = jsonOf<{ token: string; agent_id: string }>(generated)
    expect(agentId).toMatch(new RegExp(`^spiffe://${TD}/steeple/agent/join_token/[0-9a-f]{32}$`))
    const [inside, outside] = jsonOf<EntryResultsJson>(entries).results.map((r) => r.entry!)

    const td = parseTrustDomain(TD)
    const client = new ServerClient({ address: shared.agentApiAddress, trustDomain: td, bundle: parseSpiffeBundle(td, expectOk(shown).stdout), callTimeoutMs: 10_000 })
    const reuse = new ServerClient({ address: shared.agentApiAddress, trustDomain: td, bundle: parseSpiffeBundle(td, shown.stdout), callTimeoutMs: 10_000 })
    try {
      const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      const session = () => new JoinTokenAgentPlugin({ token, token_path: undefined }).begin()
      const outcome = await client.attest('join_token', await session(), createCsr(key))
      expect(outcome.agentId.toString()).toBe(agentId)
      client.setSvid({ chainDer: outcome.svidChainDer, privateKey: key })

      const reused = await reuse.attest('join_token', await session(), createCsr(key)).catch((e: unknown) => e)
      expect(reused).toBeInstanceOf(SteepleError)
      expect(grpcStatusOf((reused as SteepleError))).toBe(status.PERMISSION_DENIED)
      expect((reused as SteepleError).message).toMatch(/join token is unknown, already used or expired/)

      const signed = await client.batchNewX509Svid([
        { entryId: inside!.id, csrDer: createCsr(key) },
        { entryId: outside!.id, csrDer: createCsr(key) },
      ])
      expect(signed[0]).toMatchObject({ ok: true })
      expect(signed[0]!.ok && signed[0]!.spiffeId.toString()).toBe(`spiffe://${TD}/agents/inside`)
      expect(signed[1]).toMatchObject({ ok: false })
      expect(!signed[1]!.ok && grpcStatusOf(signed[1]!.error)).toBe(status.PERMISSION_DENIED)
    } finally {
      client.close()
      reuse.close()
    }

    const [list, show] = await Promise.all([
      shared.cli('agent', 'list', '--attestation-type', 'join_token', '--output', 'json'),
      shared.cli('agent', 'show', '--spiffe-id', agentId),
    ])
    expect(jsonOf<{ agents: { spiffe_id: string }[] }>(list).agents.map((a) => a.spiffe_id)).toContain(agentId)
    expect(expectOk(show).stdout).toMatch(/^Attestation type\s+: join_token$/m)
    expect(show.stdout).toMatch(/^Banned\s+: false$/m)

    expect(expectOk(await shared.cli('agent', 'ban', '--spiffe-id', agentId)).stdout).toBe(`Agent banned: ${agentId}\n`)
    const [banned, bannedList] = await Promise.all([
      shared.cli('agent', 'show', '--spiffe-id', agentId, '--output', 'json'),
      shared.cli('agent', 'list', '--banned', '--output', 'json'),
    ])
    expect(jsonOf<{ banned: boolean }>(banned).banned).toBe(true)
    expect(jsonOf<{ agents: { spiffe_id: string }[] }>(bannedList).agents.map((a) => a.spiffe_id)).toEqual([agentId])
  })

  it.concurrent('bundle set with a damaged file exits 1 naming the member and the rule, never OpenSSL\'s text, and stores nothing', { timeout: 120_000 }, async () => {
    const damaged = damagedSpiffeBundles()
    const cases = ['x5c[0] whose certificate key is off its curve', 'x5c[0] that is not base64', 'an RSA key with garbage n'].map((name) => damaged.find((c) => c.name === name)!)
    const files = await Promise.all(
      cases.map(async (c, i) => {
        const path = join(sharedDir, `damaged-${i}.json`)
        await writeFile(path, c.json)
        return path
      }),
    )
    // The server's own CA certificate with its key pushed off the curve, as a PEM bundle file.
    const pemFile = join(sharedDir, 'damaged.pem')
    await writeFile(pemFile, certificatesToPem([withKeyOffCurve(pemDecodeAll(expectOk(await shared.cli('bundle', 'show')).stdout, 'CERTIFICATE')[0]!)]))
    const runs = [...files.map((path) => ['--path', path, '--format', 'spiffe']), ['--path', pemFile, '--format', 'pem']]
    const results = await inPool(runs, 2, (args) => shared.cli('bundle', 'set', '--id', 'damaged.test', ...args))
    const expected = [
      ...cases.map((c) => `Error: data: spiffebundle: ${c.member}: ${c.rule}\n`),
      'Error: data: x509bundle: certificate 0: certificate must hold a well-formed public key\n',
    ]
    results.forEach((result, i) => {
      expect([result.code, result.stdout]).toEqual([1, ''])
      expect(result.stderr).toContain(expected[i])
      expect(result.stderr).not.toMatch(OPENSSL_TEXT)
    })
    const listed = jsonOf<{ bundles: { trust_domain: string }[] }>(await shared.cli('bundle', 'list', '--output', 'json'))
    expect(listed.bundles.map((b) => b.trust_domain)).not.toContain('damaged.test')
  })

  it.concurrent('bad input: every invalid field gives a clear error naming it, and nothing is written', { timeout: 120_000 }, async () => {
    const dir = await tempDir('steeple-cli-bad-')
    const server = await ServerProcess.start(['--data-dir', join(dir, 'data'), '--bind-port', '0'])
    try {
      const dup = { spiffe_id: `spiffe://${TD}/bad/dup`, parent_id: SERVER_ID, selectors: ['unix:uid:7'] }
      expectOk(await server.cli('entry', 'create', '--spiffe-id', dup.spiffe_id, '--parent-id', dup.parent_id, '--selector', dup.selectors[0]!))
      const file = async (name: string, content: unknown) => {
        const path = join(dir, name)
        await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
        return path
      }
      const valid = (n: number) => ({ spiffe_id: `spiffe://${TD}/bad/${n}`, parent_id: SERVER_ID, selectors: ['unix:uid:1'] })

      // The server's rules, one broken per item of one batch: each item fails on its own, naming its field.
      const fieldCases: [string, Record<string, unknown>, RegExp][] = [
        ['missing SPIFFE ID', { ...valid(1), spiffe_id: undefined }, /spiffe_id: is required/],
        ['SPIFFE ID in another trust domain', { ...valid(1), spiffe_id: 'spiffe://other.org/x' }, /spiffe_id: must be in trust domain "example\.org", not "other\.org"/],
        ['SPIFFE ID with an empty segment', { ...valid(1), spiffe_id: `spiffe://${TD}/bad//1` }, /spiffe_id: spiffeid: path cannot contain empty segments/],
        ['SPIFFE ID without a path', { ...valid(1), spiffe_id: `spiffe://${TD}` }, /spiffe_id: must have a non-root path/],
        ['reserved SPIFFE ID', { ...valid(1), spiffe_id: `spiffe://${TD}/steeple/agent/x` }, /spiffe_id: path "\/steeple\/agent\/x" is reserved/],
        ['missing parent ID', { ...valid(1), parent_id: '' }, /parent_id: is required/],
        ['parent ID equal to the SPIFFE ID', { ...valid(1), parent_id: `spiffe://${TD}/bad/1` }, /parent_id: must differ from spiffe_id/],
        ['no selector', { ...valid(1), selectors: [] }, /selectors: at least one selector is required/],
        ['selector type in upper case', { ...valid(1), selectors: ['Unix:uid:1'] }, /selectors\[0\]: selector: type characters are limited/],
        ['selector without a value', { ...valid(1), selectors: [{ type: 'unix', value: '' }] }, /selectors\[0\]: selector: value must not be empty/],
        ['duplicate selector', { ...valid(1), selectors: ['unix:uid:1', 'unix:uid:1'] }, /selectors\[1\]: "unix:uid:1" duplicates selectors\[0\]/],
        ['negative X.509-SVID TTL', { ...valid(1), x509_svid_ttl: -1 }, /x509_svid_ttl: must be between 0 and \d+ seconds/],
        ['negative JWT-SVID TTL', { ...valid(1), jwt_svid_ttl: -1 }, /jwt_svid_ttl: must be between 0 and \d+ seconds/],
        ['malformed DNS name', { ...valid(1), dns_names: ['bad..name'] }, /dns_names\[0\]: "bad\.\.name" is not a valid DNS name/],
        ['federating with the own trust domain', { ...valid(1), federates_with: [TD] }, /federates_with\[0\]: "example\.org" must not be the server's own trust domain/],
        ['federating with a SPIFFE ID that has a path', { ...valid(1), federates_with: ['spiffe://other.org/x'] }, /federates_with\[0\]: "spiffe:\/\/other\.org\/x" must be a trust domain name/],
        ['expiry in the past', { ...valid(1), expires_at: 5 }, /expires_at: must not be in the past/],
        ['hint too long', { ...valid(1), hint: 'h'.repeat(1025) }, /hint: must not be longer than 1024 bytes/],
        ['owner too long', { ...valid(1), owner: 'o'.repeat(256) }, /owner: must not be longer than 255 bytes/],
        ['entry ID with a slash', { ...valid(1), id: 'a/b' }, /id: characters are limited to letters, numbers, dots, dashes, and underscores/],
        ['duplicate of an existing entry', dup, /entry: an entry with the same spiffe_id, parent_id and selectors already exists/],
      ]
      const batch = await file('fields.json', { entries: fieldCases.map(([, entry]) => entry) })

      // The CLI's own checks, each a command of its own: flags, files, other commands.
      const base = ['--spiffe-id', `spiffe://${TD}/bad/1`, '--parent-id', SERVER_ID, '--selector', 'unix:uid:1']
      const commandCases: [string, string[], RegExp][] = [
        ['missing SPIFFE ID flag', ['entry', 'create', '--parent-id', SERVER_ID, '--selector', 'unix:uid:1'], /^Error: spiffe_id: is required$/m],
        ['selector flag without a colon', ['entry', 'create', ...base, '--selector', 'uid'], /--selector: "uid" must have the form type:value/],
        ['non-numeric X.509-SVID TTL flag', ['entry', 'create', ...base, '--x509-svid-ttl', 'soon'], /option '--x509-svid-ttl <seconds>' argument 'soon' is invalid/],
        ['negative JWT-SVID TTL flag', ['entry', 'create', ...base, '--jwt-svid-ttl', '-5'], /option '--jwt-svid-ttl <seconds>' argument '-5' is invalid/],
        ['TTL flag beyond int32', ['entry', 'create', ...base, '--x509-svid-ttl', '99999999999'], /argument '99999999999' is invalid\. must be a whole number of seconds between 0 and 2147483647/],
        ['non-numeric expiry flag', ['entry', 'create', ...base, '--entry-expiry', 'tomorrow'], /option '--entry-expiry <unix-seconds>' argument 'tomorrow' is invalid/],
        ['unknown flag', ['entry', 'create', ...base, '--spiffe-idd', 'x'], /unknown option '--spiffe-idd'/],
        ['--node with --parent-id', ['entry', 'create', ...base, '--node'], /option '--node' cannot be used with option '--parent-id <id>'/],
        ['unknown output format', ['entry', 'count', '--output', 'xml'], /option '--output <format>' argument 'xml' is invalid/],
        ['--data with an unknown field', ['entry', 'create', '--data', await file('unknown.json', { entries: [valid(2), { ...valid(3), spife_id: 'x' }] })], /entries\[1\]\.spife_id: is not a registration entry field/],
        ['--data with a TTL that is not a number', ['entry', 'create', '--data', await file('ttl.json', { entries: [valid(2), { ...valid(3), x509_svid_ttl: 'soon' }] })], /entries\[1\]\.x509_svid_ttl: must be a whole number of seconds/],
        ['--data that is not JSON', ['entry', 'create', '--data', await file('broken.json', '{"entries": [')], /--data: .*broken\.json is not valid JSON/],
        ['--data combined with entry flags', ['entry', 'create', '--data', batch, '--hint', 'x'], /--data cannot be combined with entry flags/],
        ['update without an entry ID', ['entry', 'update', ...base], /--entry-id: is required/],
        ['update of an unknown entry', ['entry', 'update', '--entry-id', 'no-such-entry', ...base], /entry: no entry with id "no-such-entry"/],
        ['X.509-SVID for another trust domain', ['x509', 'mint', '--spiffe-id', 'spiffe://other.org/x'], /spiffe_id: must be in trust domain "example\.org"/],
        ['JWT-SVID without audience', ['jwt', 'mint', '--spiffe-id', `spiffe://${TD}/x`], /--audience: at least one is required/],
        ['join token TTL 0', ['token', 'generate', '--ttl', '0'], /option '--ttl <seconds>' argument '0' is invalid/],
        ['join token alias in another trust domain', ['token', 'generate', '--spiffe-id', 'spiffe://other.org/node'], /spiffe_id: must be in trust domain/],
      ]

      const before = jsonOf<{ count: number }>(await server.cli('entry', 'count', '--output', 'json')).count
      const [batchResult, ...results] = await inPool([['entry', 'create', '--data', batch], ...commandCases.map(([, args]) => args)], 3, (args) => server.cli(...args))
      expect(batchResult!.code).toBe(1)
      expect(batchResult!.stdout).toBe('')
      const errorLines = batchResult!.stderr.trimEnd().split('\n')
      expect(errorLines).toHaveLength(fieldCases.length)
      for (const [i, [name, , expected]] of fieldCases.entries()) {
        expect(errorLines[i], name).toMatch(new RegExp(`^Error: entries\\[${i}\\]: ${expected.source}`))
      }
      for (const [i, [name, , expected]] of commandCases.entries()) {
        const r = results[i]!
        expect({ name, code: r.code, stdout: r.stdout }).toEqual({ name, code: 1, stdout: '' })
        expect(r.stderr, name).toMatch(expected)
        expect(r.stderr, name).not.toMatch(/^\s+at /m)
      }
      const [after, audit] = await Promise.all([server.cli('entry', 'count', '--output', 'json'), server.cli('audit', 'list', '--output', 'json')])
      expect(jsonOf<{ count: number }>(after).count).toBe(before)
      // The duplicate's own creation is the only write; refused tokens and SVIDs leave no trace either.
      expect(jsonOf<{ events: { action: string }[] }>(audit).events.map((e) => e.action)).toEqual(['entry.create'])
    } finally {
      await server.stop('SIGKILL')
    }
  })

  it.concurrent('oversized entries and control characters: refused naming the field and the limit, per batch item, and nothing of them is stored or minted', { timeout: 120_000 }, async () => {
    const dir = await tempDir('steeple-cli-limits-')
    const server = await ServerProcess.start(['--data-dir', join(dir, 'data'), '--bind-port', '0'])
    try {
      const many = (n: number, item: (i: number) => string) => Array.from({ length: n }, (_, i) => item(i))
      const valid = (name: string) => ({ spiffe_id: `spiffe://${TD}/limits/${name}`, parent_id: SERVER_ID, selectors: ['unix:uid:1'] })
      const file = async (name: string, entries: unknown[]) => {
        const path = join(dir, name)
        await writeFile(path, JSON.stringify({ entries }))
        return path
      }
      const stored = jsonOf<EntryResultsJson>(
        await server.cli('entry', 'create', '--output', 'json', '--spiffe-id', `spiffe://${TD}/limits/stored`, '--parent-id', SERVER_ID, '--selector', 'unix:uid:2', '--hint', 'kept', '--dns', 'kept.example.org'),
      ).results[0]!.entry!

      // One batch: a good item among bad ones; each bad item fails on its own.
      const batchCases: [string, Record<string, unknown>, string][] = [
        ['10,000 selectors', { ...valid('s'), selectors: many(10_000, (i) => `unix:uid:${i}`) }, 'selectors: at most 64 selectors per entry (got 10000)'],
        ['10,000 DNS names', { ...valid('d'), dns_names: many(10_000, (i) => `h${i}.example.org`) }, 'dns_names: at most 32 DNS names (got 10000)'],
        ['a NUL in a selector value', { ...valid('v'), selectors: [{ type: 'unix', value: 'uid:1\0' }] }, 'selectors[0].value: must not contain control characters (NUL at byte 5)'],
        ['a NUL in the hint', { ...valid('h'), hint: 'abc\0' }, 'hint: must not contain control characters (NUL at byte 3)'],
        ['a NUL in the owner', { ...valid('o'), owner: 'team\0' }, 'owner: must not contain control characters (NUL at byte 4)'],
        ['a NUL in the description', { ...valid('n'), description: '\0' }, 'description: must not contain control characters (NUL at byte 0)'],
        ['an ESC in the description', { ...valid('e'), description: 'red \u001b[31m' }, 'description: must not contain control characters (ESC at byte 4)'],
      ]
      const batch = await file('batch.json', [valid('good'), ...batchCases.map(([, entry]) => entry)])
      const updateFile = await file('update.json', [{ ...valid('stored'), id: stored.id, selectors: ['unix:uid:2'], description: 'x\0' }])
      const [batchResult, flagSelectors, updateSelectors, updateNul, mintDns, mintAudience] = await inPool(
        [
          ['entry', 'create', '--data', batch, '--output', 'json'],
          ['entry', 'create', '--spiffe-id', `spiffe://${TD}/limits/flags`, '--parent-id', SERVER_ID, ...many(10_000, (i) => `--selector=unix:uid:${i}`)],
          // Rejected updates leave the stored entry as it was.
          ['entry', 'update', '--entry-id', stored.id, '--spiffe-id', stored.spiffe_id, '--parent-id', SERVER_ID, ...many(10_000, (i) => `--dns=h${i}.example.org`), '--selector', 'unix:uid:2'],
          ['entry', 'update', '--data', updateFile],
          ['x509', 'mint', '--spiffe-id', `spiffe://${TD}/limits/minted`, ...many(10_000, (i) => `--dns=h${i}.example.org`)],
          ['jwt', 'mint', '--spiffe-id', `spiffe://${TD}/limits/minted`, ...many(33, (i) => `--audience=a${i}`)],
        ],
        3,
        (args) => server.cli(...args),
      )

      expect(batchResult!.code).toBe(1)
      const results = (JSON.parse(batchResult!.stdout) as EntryResultsJson).results
      expect(results.map((r) => [r.status.code, r.status.message])).toEqual([[0, 'OK'], ...batchCases.map(([, , message]) => [status.INVALID_ARGUMENT, message])])
      expect(batchResult!.stderr.trimEnd().split('\n')).toEqual(batchCases.map(([, , message], i) => `Error: entries[${i + 1}]: ${message}`))
      for (const [name, r, message] of [
        ['10,000 --selector flags', flagSelectors, 'selectors: at most 64 selectors per entry (got 10000)'],
        ['update with 10,000 --dns flags', updateSelectors, 'dns_names: at most 32 DNS names (got 10000)'],
        ['update --data with a NUL in the description', updateNul, 'entries[0]: description: must not contain control characters (NUL at byte 1)'],
        ['x509 mint with 10,000 --dns', mintDns, 'dns_names: at most 32 DNS names (got 10000)'],
        ['jwt mint with 33 --audience', mintAudience, 'audience: at most 32 audience values (got 33)'],
      ] as const) {
        expect({ name, code: r!.code, stdout: r!.stdout, stderr: r!.stderr }).toEqual({ name, code: 1, stdout: '', stderr: `Error: ${message}\n` })
      }

      const [entries, shown, audit] = await Promise.all([
        server.cli('entry', 'show', '--output', 'json'),
        server.cli('entry', 'show', '--entry-id', stored.id, '--output', 'json'),
        server.cli('audit', 'list', '--output', 'json'),
      ])
      expect(jsonOf<{ entries: EntryJson[] }>(entries).entries.map((e) => e.spiffe_id).sort()).toEqual([`spiffe://${TD}/limits/good`, `spiffe://${TD}/limits/stored`])
      expect(jsonOf<{ entries: EntryJson[] }>(shown).entries).toEqual([stored])
      // Two creates, and no update, SVID or refused item in the audit trail.
      expect(jsonOf<{ events: { action: string }[] }>(audit).events.map((e) => e.action)).toEqual(['entry.create', 'entry.create'])
    } finally {
      await server.stop('SIGKILL')
    }
  })

  it.concurrent('kill -9 during entry creates: after a restart every acknowledged entry is there, with the same CA; SIGTERM exits 0', { timeout: 120_000 }, async () => {
    const dir = await tempDir('steeple-cli-kill-')
    const args = ['--data-dir', join(dir, 'data'), '--bind-port', '0']
    const first = await ServerProcess.start(args)
    const bundleBefore = expectOk(await first.cli('bundle', 'show')).stdout

    const acknowledged: string[] = []
    let batches = 0
    let killed = false
    const writer = async (worker: number) => {
      for (let round = 0; !killed; round++) {
        const path = join(dir, `batch-${worker}-${round}.json`)
        const entries = Array.from({ length: 25 }, (_, n) => ({
          spiffe_id: `spiffe://${TD}/kill/${worker}/${round}/${n}`,
          parent_id: SERVER_ID,
          selectors: [`unix:uid:${n}`],
        }))
        await writeFile(path, JSON.stringify({ entries }))
        const result = await first.cli('entry', 'create', '--data', path, '--output', 'json')
        if (result.code !== 0) return
        for (const r of jsonOf<EntryResultsJson>(result).results) if (r.status.code === 0) acknowledged.push(r.entry!.id)
        batches++
      }
    }
    const writers = [0, 1, 2].map(writer)
    while (batches < 4) await new Promise((r) => setTimeout(r, 25))
    killed = true
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' })
    await Promise.all(writers)
    expect(acknowledged.length).toBeGreaterThanOrEqual(100)

    // The socket the dead server left behind is replaced on restart.
    const second = await ServerProcess.start(args)
    const [shown, bundleAfter] = await Promise.all([second.cli('entry', 'show', '--output', 'json'), second.cli('bundle', 'show')])
    const present = new Set(jsonOf<{ entries: EntryJson[] }>(shown).entries.map((e) => e.id))
    expect(acknowledged.filter((id) => !present.has(id))).toEqual([])
    expect(expectOk(bundleAfter).stdout).toBe(bundleBefore)

    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    await expect(stat(second.socketPath)).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
