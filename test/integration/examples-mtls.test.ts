import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LineReader, deploy, waitFor, type Deployment } from './agent-helpers.js'
import { ROOT, runCommand } from './server-cli-helpers.js'

/**
 * examples/mtls: the greeter server and client, each with the SVID steeple-agent gives it (chosen
 * by hint, as both run under the same uid), talk mTLS and check each other's SPIFFE ID, for 20 s
 * with 10 s SVIDs, so both sides rotate while they talk.
 */

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const MY_UID = process.getuid!()
const SERVER_ID = 'spiffe://example.org/greeter-server'
const CLIENT_ID = 'spiffe://example.org/greeter-client'

let d: Deployment
let configPath: string
let greeter: LineReader
let port: number

beforeAll(async () => {
  configPath = join(process.env['TMPDIR'] ?? '/tmp', `steeple-mtls-${process.pid}.yaml`)
  await writeFile(configPath, ['server:', '  default_x509_svid_ttl: 10s', ''].join('\n'))
  d = await deploy({ serverArgs: ['--config', configPath], prefix: 'steeple-mtls-' })
  await d.createEntry(SERVER_ID, [`unix:uid:${MY_UID}`], ['--hint', 'greeter-server', '--x509-svid-ttl', '10'])
  await d.createEntry(CLIENT_ID, [`unix:uid:${MY_UID}`], ['--hint', 'greeter-client', '--x509-svid-ttl', '10'])
  greeter = new LineReader(
    spawn(process.execPath, ['--import', TSX, join(ROOT, 'examples/mtls/greeter-server.ts'), '--port', '0', '--hint', 'greeter-server', '--client-id', CLIENT_ID], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: d.agent.address },
    }),
  )
  port = await waitFor(
    'the greeter server to listen',
    async () => {
      const record = JSON.parse(await greeter.next(30_000)) as { event: string; port?: number }
      return record.event === 'listening' ? record.port : undefined
    },
    60_000,
  )
}, 120_000)

afterAll(async () => {
  greeter?.child.kill('SIGTERM')
  await d?.stop()
  if (d !== undefined) await rm(d.root, { recursive: true, force: true })
  if (configPath !== undefined) await rm(configPath, { force: true })
})

function greeterClient(args: readonly string[]) {
  return runCommand(process.execPath, ['--import', TSX, join(ROOT, 'examples/mtls/greeter-client.ts'), '--port', String(port), ...args], {
    env: { SPIFFE_ENDPOINT_SOCKET: d.agent.address },
    timeoutMs: 90_000,
  })
}

interface Exchange {
  ok: boolean
  server_id?: string
  greeting?: string
  client_serial: string
  server_serial?: string
  error?: string
}

describe('examples/mtls', () => {
  it('the two services authenticate each other by SPIFFE ID and keep doing so across SVID rotations', async () => {
    const result = await greeterClient(['--hint', 'greeter-client', '--server-id', SERVER_ID, '--count', '20', '--interval', '1000'])
    const exchanges = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Exchange)
    expect(exchanges.filter((e) => !e.ok), result.stderr).toEqual([])
    expect(result.code).toBe(0)
    expect(exchanges).toHaveLength(20)
    for (const e of exchanges) {
      expect(e.server_id).toBe(SERVER_ID)
      expect(e.greeting).toContain(`hello ${CLIENT_ID}`)
    }
    // 20 s with 10 s SVIDs rotated at about half-life: each side used at least three SVIDs.
    expect(new Set(exchanges.map((e) => e.client_serial)).size).toBeGreaterThanOrEqual(3)
    expect(new Set(exchanges.map((e) => e.server_serial)).size).toBeGreaterThanOrEqual(3)
  }, 90_000)

  it('a client expecting another server ID refuses the server; a client with another ID is refused by the server', async () => {
    const wrongServer = await greeterClient(['--hint', 'greeter-client', '--server-id', 'spiffe://example.org/someone-else', '--count', '1'])
    expect(wrongServer.code).toBe(1)
    expect(JSON.parse(wrongServer.stdout.trim())).toMatchObject({ ok: false, error: expect.stringMatching(/unexpected ID "spiffe:\/\/example.org\/greeter-server"/) })

    // Presenting the server's own SVID as a client: a valid SVID, but not the ID the server accepts.
    const wrongClient = await greeterClient(['--hint', 'greeter-server', '--server-id', SERVER_ID, '--count', '1'])
    expect(wrongClient.code).toBe(1)
    expect(JSON.parse(wrongClient.stdout.trim())).toMatchObject({ ok: false, error: expect.stringMatching(/did not accept this client/) })
  }, 60_000)
})
