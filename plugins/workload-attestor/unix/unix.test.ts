import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createReadStream } from 'node:fs'
import { copyFile, mkdtemp, readFile, realpath, rm, stat, unlink } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FailedPreconditionError, NotFoundError } from '../../../common/errors.js'
import { runWorkloadAttestorSuite, type LiveProcess } from '../../../test/conformance/workload-attestor-suite.js'
import { UnixAttestor, unixWorkloadAttestor, type UnixAttestorConfig } from './index.js'

const SLEEP = '/bin/sleep'
const isRoot = process.geteuid?.() === 0

function config(overrides: Partial<UnixAttestorConfig> = {}): UnixAttestorConfig {
  return unixWorkloadAttestor.config.parse(overrides, 'plugins.WorkloadAttestor.unix')
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** The name getent(1) gives for an id, through the system's NSS (an independent lookup). */
function getentName(db: 'passwd' | 'group', id: number): string | undefined {
  try {
    return execFileSync('getent', [db, String(id)], { encoding: 'utf8' }).split(':')[0]
  } catch {
    return undefined
  }
}

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

/** Starts `file args` (optionally as another user) and resolves once it has exec'd. */
async function startProcess(file: string, args: string[], ids: { uid?: number; gid?: number } = {}): Promise<ChildProcess & { pid: number }> {
  const child = spawn(file, args, { stdio: 'ignore', ...ids })
  children.push(child)
  await once(child, 'spawn')
  return child as ChildProcess & { pid: number }
}

async function sleeper(): Promise<LiveProcess> {
  const child = await startProcess(SLEEP, ['30'])
  return {
    pid: child.pid,
    cleanup: async () => {
      child.kill('SIGKILL')
    },
  }
}

runWorkloadAttestorSuite({ name: 'unix', make: async () => new UnixAttestor(config()), expectSelectors: true })
runWorkloadAttestorSuite({
  name: 'unix',
  variant: 'discover_workload_path',
  make: async () => new UnixAttestor(config({ discover_workload_path: true })),
  liveProcess: sleeper,
  expectSelectors: true,
})

describe('unix workload attestor on real processes', () => {
  it('describes this process by its effective uid and gid, with names', async () => {
    const values = await new UnixAttestor(config()).attest(process.pid, new AbortController().signal)
    const uid = process.geteuid!()
    const gid = process.getegid!()
    expect(values).toContain(`uid:${uid}`)
    expect(values).toContain(`gid:${gid}`)
    expect(values).toContain(`user:${userInfo().username}`)
    const group = getentName('group', gid)
    expect(group, 'getent must know our primary group').toBeDefined()
    expect(values).toContain(`group:${group}`)
    // Node's getgroups() adds the effective gid; /proc's Groups line lists only supplementary ids.
    const supplementary = values.filter((v) => v.startsWith('supplementary_gid:')).map((v) => Number(v.split(':')[1]))
    const fromNode = process.getgroups!()
    for (const g of supplementary) expect(fromNode).toContain(g)
    for (const g of fromNode.filter((g) => g !== gid)) expect(supplementary).toContain(g)
    expect(values.some((v) => v.startsWith('path:') || v.startsWith('sha256:'))).toBe(false)
  })

  it.skipIf(!isRoot)('needs root: describes a child running as nobody (uid 65534)', async () => {
    const child = await startProcess(SLEEP, ['30'], { uid: 65534, gid: 65534 })
    const values = await new UnixAttestor(config()).attest(child.pid, new AbortController().signal)
    expect(values).toContain('uid:65534')
    expect(values).toContain('gid:65534')
    expect(values).not.toContain('uid:0')
    const user = getentName('passwd', 65534)
    const group = getentName('group', 65534)
    expect(values).toContain(`user:${user}`)
    expect(values).toContain(`group:${group}`)
  })

  it('gives path and sha256 of the node binary that runs this test', async () => {
    const values = await new UnixAttestor(config({ discover_workload_path: true })).attest(process.pid, new AbortController().signal)
    const exe = await realpath(process.execPath)
    expect(values).toContain(`path:${exe}`)
    expect(values).toContain(`sha256:${await sha256OfFile(exe)}`)
  })

  describe('with a copy of sleep(1) in a temp dir', () => {
    let dir: string | undefined
    afterEach(async () => {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true })
      dir = undefined
    })

    async function copyOfSleep(): Promise<{ path: string; digest: string; sizeBytes: number }> {
      dir = await mkdtemp(join(tmpdir(), 'steeple-unix-'))
      const path = join(dir, 'workload')
      await copyFile(SLEEP, path)
      return { path, digest: createHash('sha256').update(await readFile(path)).digest('hex'), sizeBytes: (await stat(path)).size }
    }

    it('keeps the kernel\'s " (deleted)" in the path and still hashes the running binary', async () => {
      const copy = await copyOfSleep()
      const child = await startProcess(copy.path, ['30'])
      await unlink(copy.path)
      const values = await new UnixAttestor(config({ discover_workload_path: true })).attest(child.pid, new AbortController().signal)
      expect(values).toContain(`path:${copy.path} (deleted)`)
      expect(values).toContain(`sha256:${copy.digest}`)
    })

    it.each([
      ['0 (no limit) hashes', 0, true],
      ['a limit of exactly the size hashes', 'size', true],
      ['a negative limit never hashes', -1, false],
    ] as const)('workload_size_limit: %s', async (_title, limit, hashed) => {
      const copy = await copyOfSleep()
      const child = await startProcess(copy.path, ['30'])
      const workload_size_limit = limit === 'size' ? copy.sizeBytes : limit
      const values = await new UnixAttestor(config({ discover_workload_path: true, workload_size_limit })).attest(
        child.pid,
        new AbortController().signal,
      )
      expect(values).toContain(`path:${copy.path}`)
      expect(values.includes(`sha256:${copy.digest}`)).toBe(hashed)
      expect(values.some((v) => v.startsWith('sha256:'))).toBe(hashed)
    })

    it('workload_size_limit: a binary one byte over the limit fails the attestation', async () => {
      const copy = await copyOfSleep()
      const child = await startProcess(copy.path, ['30'])
      const attestor = new UnixAttestor(config({ discover_workload_path: true, workload_size_limit: copy.sizeBytes - 1 }))
      const err = await attestor.attest(child.pid, new AbortController().signal).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(FailedPreconditionError)
      expect((err as Error).message).toBe(
        `executable of process ${child.pid} is ${copy.sizeBytes} bytes, over workload_size_limit (${copy.sizeBytes - 1})`,
      )
    })
  })

  it('a process that exited is not running', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    await once(child, 'exit')
    const err = await new UnixAttestor(config()).attest(child.pid!, new AbortController().signal).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NotFoundError)
    expect((err as Error).message).toBe(`process ${child.pid} is not running`)
  })
})

describe('unix workload attestor config', () => {
  const path = 'plugins.WorkloadAttestor.unix'

  it('defaults as SPIRE: no path discovery, no size limit', () => {
    expect(unixWorkloadAttestor.config.parse(undefined, path)).toEqual({ discover_workload_path: false, workload_size_limit: 0 })
  })

  it.each([
    [{ discoverWorkloadPath: true }, /plugins\.WorkloadAttestor\.unix\.discoverWorkloadPath is not a known key/],
    [{ discover_workload_path: 'yes' }, /plugins\.WorkloadAttestor\.unix\.discover_workload_path must be true or false/],
    [{ workload_size_limit: 1.5 }, /plugins\.WorkloadAttestor\.unix\.workload_size_limit must be a whole number/],
  ])('refuses %j', (section, message) => {
    expect(() => unixWorkloadAttestor.config.parse(section, path)).toThrow(message)
  })
})
