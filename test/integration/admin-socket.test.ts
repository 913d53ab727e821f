import { spawn } from 'node:child_process'
import { chmod, copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LineReader, NOBODY } from './agent-helpers.js'
import { ServerProcess, jsonOf } from './server-cli-helpers.js'

/**
 * The admin socket attacked by another local user: the server started under umask 000 with its
 * socket in a world-writable directory while uid 65534 tries to connect and mint a JWT-SVID; and
 * the peer-credential check with `admin.allowed_uids`. Real server processes; the attacker is plain
 * Node run as uid 65534 from a directory it can read.
 */
const IS_ROOT = process.getuid?.() === 0
const ADMIN_CALL = fileURLToPath(new URL('./testdata/admin-call.mjs', import.meta.url))
/** The script's one import. */
const RAW_GRPC = fileURLToPath(new URL('./testdata/raw-grpc.mjs', import.meta.url))

interface RaceSummary {
  attempts: number
  connected: number
  minted: number
  codes: Record<string, number>
}

interface CallResult {
  connected: boolean
  code?: number | null
  details?: string
  minted?: boolean
}

describe.skipIf(!IS_ROOT)('admin socket against another uid (needs root: runs the attacker as uid 65534)', () => {
  let root: string
  let script: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'steeple-admin-socket-'))
    await chmod(root, 0o755)
    script = join(root, 'admin-call.mjs')
    await copyFile(ADMIN_CALL, script)
    await copyFile(RAW_GRPC, join(root, 'raw-grpc.mjs'))
  })

  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  function runAsNobody(args: readonly string[]): LineReader {
    return new LineReader(spawn(process.execPath, [script, ...args], { uid: NOBODY, gid: NOBODY, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }))
  }

  it('started under umask 000 in a world-writable directory, the socket is never open to another uid (3 starts, raced)', { timeout: 180_000 }, async () => {
    for (let start = 0; start < 3; start++) {
      const shared = join(root, `shared-${start}`)
      await mkdir(shared)
      // World-writable, no sticky bit: a shared directory as the attack found it.
      await chmod(shared, 0o777)
      const socketPath = join(shared, 'admin.sock')
      const stopFile = join(root, `stop-${start}`)
      const racer = runAsNobody(['race', socketPath, stopFile])
      expect(await racer.next(20_000)).toBe('started')
      const server = await ServerProcess.start(['--data-dir', join(root, `data-${start}`), '--socket-path', socketPath, '--bind-port', '0'], { umask: 0 })
      try {
        expect((await stat(socketPath)).mode & 0o777).toBe(0o600)
        // Keep trying a little after the server is up: the window was right after the bind.
        await new Promise((resolve) => setTimeout(resolve, 300))
        await writeFile(stopFile, '')
        const summary = JSON.parse(await racer.next(20_000)) as RaceSummary
        expect(summary.attempts).toBeGreaterThan(0)
        expect(summary).toMatchObject({ connected: 0, minted: 0 })
        // The operator (root here) still gets in.
        expect((await server.cli('entry', 'count')).code).toBe(0)
      } finally {
        await server.stop()
      }
    }
  })

  it('a uid in admin.allowed_uids may call and is the audit actor; a uid not allowed is refused on a 0666 socket', { timeout: 120_000 }, async () => {
    const dir = join(root, 'allowed')
    await mkdir(dir)
    await chmod(dir, 0o755)
    const allowed = join(dir, 'allowed.yaml')
    await writeFile(allowed, `admin:\n  allowed_uids: [${NOBODY}]\n`)
    const socketPath = join(dir, 'admin.sock')
    let server = await ServerProcess.start(['--config', allowed, '--data-dir', join(root, 'data-allowed'), '--socket-path', socketPath, '--bind-port', '0'])
    try {
      expect((await stat(socketPath)).mode & 0o777).toBe(0o666)
      const ok = JSON.parse(await runAsNobody(['once', socketPath]).next(20_000)) as CallResult
      expect(ok).toMatchObject({ connected: true, code: 0, minted: true })
      const audit = jsonOf<{ events: { actor: string; action: string; subject: string }[] }>(
        await server.cli('audit', 'list', '--subject', 'spiffe://example.org/stolen', '--output', 'json'),
      )
      expect(audit.events.map((e) => e.actor)).toEqual([`admin:uid:${NOBODY}`])
    } finally {
      await server.stop()
    }

    const other = join(dir, 'other.yaml')
    await writeFile(other, 'admin:\n  allowed_uids: [12345]\n')
    server = await ServerProcess.start(['--config', other, '--data-dir', join(root, 'data-other'), '--socket-path', socketPath, '--bind-port', '0'])
    try {
      const refused = JSON.parse(await runAsNobody(['once', socketPath]).next(20_000)) as CallResult
      expect(refused.minted).toBe(false)
      expect(refused.code).not.toBe(0)
      expect(server.stderr).toContain('Admin connection refused')
      expect(server.stderr).toContain(`"callerUid":${NOBODY}`)
    } finally {
      await server.stop()
    }
  })
})
