import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, type CommandResult } from './server-cli-helpers.js'

const MY_UID = process.getuid!()

/**
 * `npm run quickstart -- --once` on a fresh directory, then again on the same one. It uses the
 * processes' defaults, so the server listens on 127.0.0.1:8081 while it runs.
 */
describe('quickstart', () => {
  const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
  const QUICKSTART = join(ROOT, 'test', 'quickstart.ts')
  let cwd: string

  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'steeple-quickstart-'))
  })
  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true })
  })

  async function quickstart(): Promise<CommandResult> {
    const child = spawn(process.execPath, ['--import', TSX, QUICKSTART, '--once'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null]
    clearTimeout(timer)
    return { code, signal, stdout, stderr }
  }

  it('brings up server and agent, fetches and verifies both SVIDs, prints how to watch, and exits 0 with --once; a second run reuses everything', async () => {
    const first = await quickstart()
    expect(first.code, first.stdout + first.stderr).toBe(0)
    expect(first.stdout).toContain(`SPIFFE ID : spiffe://example.org/quickstart/uid-${MY_UID}`)
    expect(first.stdout).toMatch(/openssl verify: OK|openssl is not installed/)
    expect(first.stdout).toContain(`export SPIFFE_ENDPOINT_SOCKET=unix://${join(cwd, '.steeple', 'agent', 'api.sock')}`)
    expect(first.stdout).toContain('api watch')
    expect((await stat(join(cwd, '.steeple', 'quickstart', 'svid.0.key'))).mode & 0o777).toBe(0o600)
    // The agent attested with the token from a file, not from its command line, and the file is gone.
    const agentLog = await readFile(join(cwd, '.steeple', 'quickstart', 'agent.log'), 'utf8')
    expect(agentLog).toContain('"msg":"Node attested"')
    expect(agentLog).not.toContain('Join token given with --join-token')
    await expect(stat(join(cwd, '.steeple', 'quickstart', 'join-token'))).rejects.toThrow(/ENOENT/)

    const second = await quickstart()
    expect(second.code, second.stdout + second.stderr).toBe(0)
    expect(second.stdout).toContain('already registered')
    expect(second.stdout).toContain(`SPIFFE ID : spiffe://example.org/quickstart/uid-${MY_UID}`)
  }, 300_000)
})
