import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, chown, copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LineReader, NOBODY, deploy, type Deployment } from './agent-helpers.js'

/**
 * The attack of a local user on the Workload API: connect as an unprivileged uid, hand the
 * connection to a child, then execute another program in the connecting process (a setuid-root
 * binary, or a binary that an entry binds by `unix:path` / `unix:sha256`). The kernel keeps the
 * connecting pid as the connection's peer, so an agent that attests that pid at call time would
 * describe the new program. Runs real processes: the agent as root (it reads /proc/<pid>/exe of
 * every caller), the attacker as uid 65534 through python3 (for execv) and a Node child.
 */
const IS_ROOT = process.getuid?.() === 0
const PYTHON = '/usr/bin/python3'
const ATTACKER = fileURLToPath(new URL('./testdata/exec-after-connect.py', import.meta.url))
const ATTACKER_CHILD = fileURLToPath(new URL('./testdata/exec-after-connect-child.mjs', import.meta.url))
/** The child's one import. */
const RAW_GRPC = fileURLToPath(new URL('./testdata/raw-grpc.mjs', import.meta.url))

interface CallResult {
  phase: 'before' | 'after'
  code?: number
  details?: string
  spiffeIds?: string[]
  error?: string
}

describe.skipIf(!IS_ROOT)('exec after connect (needs root: runs the attacker as uid 65534 and makes a setuid-root binary)', () => {
  let d: Deployment
  let setuidSleep: string
  let boundApp: string

  beforeAll(async () => {
    const configPath = join(await mkdtemp(join(tmpdir(), 'steeple-exec-config-')), 'agent.yaml')
    await writeFile(configPath, 'plugins:\n  NodeAttestor:\n    join_token:\n  WorkloadAttestor:\n    unix:\n      discover_workload_path: true\n')
    d = await deploy({ prefix: 'steeple-exec-after-connect-', agentConfigPath: configPath })
    // Everything the attacker runs lives in the deployment's directory (0755), so the test works
    // from a checkout that uid 65534 cannot read.
    for (const script of [ATTACKER, ATTACKER_CHILD, RAW_GRPC]) await copyFile(script, join(d.root, script.slice(script.lastIndexOf('/') + 1)))
    setuidSleep = join(d.root, 'setuid-sleep')
    await copyFile('/bin/sleep', setuidSleep)
    await chown(setuidSleep, 0, 0)
    await chmod(setuidSleep, 0o4755)
    boundApp = join(d.root, 'bound-app')
    await copyFile('/bin/sleep', boundApp)
    await chmod(boundApp, 0o755)
    const boundDigest = createHash('sha256').update(await readFile(boundApp)).digest('hex')

    await d.createEntry('spiffe://example.org/it/nobody', ['unix:uid:65534'])
    await d.createEntry('spiffe://example.org/it/root', ['unix:uid:0'])
    await d.createEntry('spiffe://example.org/it/bound-by-path', [`unix:path:${boundApp}`])
    await d.createEntry('spiffe://example.org/it/bound-by-sha256', [`unix:sha256:${boundDigest}`])
  }, 120_000)

  afterAll(async () => {
    await d?.stop()
  })

  /** Runs the attack once: the child's two results, and the agent's log lines about it. */
  async function attack(program: string): Promise<{ before: CallResult; after: CallResult }> {
    const child = spawn(
      PYTHON,
      [join(d.root, 'exec-after-connect.py'), d.agent.socketPath, process.execPath, join(d.root, 'exec-after-connect-child.mjs'), program, '30'],
      { uid: NOBODY, gid: NOBODY, cwd: d.root, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', HOME: '/tmp' } },
    )
    const lines = new LineReader(child)
    try {
      const before = JSON.parse(await lines.next(20_000)) as CallResult
      const after = JSON.parse(await lines.next(20_000)) as CallResult
      return { before, after }
    } finally {
      child.kill('SIGKILL')
    }
  }

  it('the program that connected is served as itself (the control: the connection works)', async () => {
    const { before } = await attack(setuidSleep)
    expect(before).toMatchObject({ phase: 'before', code: 0, spiffeIds: ['spiffe://example.org/it/nobody'] })
  })

  it('a caller that executes a setuid-root program after connecting gets PERMISSION_DENIED, not root\'s SVID', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { after } = await attack(setuidSleep)
      expect(after).toMatchObject({ phase: 'after', code: 7, details: 'no identity issued' })
    }
    const logged = await d.agent.waitForLog((r) => r['msg'] === 'Workload API caller changed since it connected')
    expect(logged['callerUid']).toBe(NOBODY)
    expect(logged['changes']).toEqual(expect.arrayContaining([{ field: 'uid', atConnect: '65534', now: '0' }]))
  })

  it('a caller that executes a binary bound by unix:path and unix:sha256 after connecting gets neither identity', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { after } = await attack(boundApp)
      expect(after).toMatchObject({ phase: 'after', code: 7, details: 'no identity issued' })
    }
    const logged = await d.agent.waitForLog(
      (r) => r['msg'] === 'Workload API caller changed since it connected' && !JSON.stringify(r['changes']).includes('"uid"'),
    )
    expect(logged['changes']).toEqual([expect.objectContaining({ field: 'executable' })])
  })
})
