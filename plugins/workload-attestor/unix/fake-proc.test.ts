import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InternalError, NotFoundError, SteepleError, UnavailableError } from '../../../common/errors.js'
import { UnixAttestor, nodeUnixFs, parseIdNames, parseProcStatus, type UnixFs } from './index.js'

const PID = 4242

const PASSWD = [
  '# local users',
  'root:x:0:0:root:/root:/bin/bash',
  'alice:x:1000:1000:Alice:/home/alice:/bin/sh',
  'alias-of-alice:x:1000:1000::/home/alice:/bin/sh',
  '+nisuser::::::',
  'broken-line',
  'nonnumeric:x:abc:1::/:/bin/sh',
  '',
].join('\n')

const GROUP = ['root:x:0:', 'alice:x:1000:', 'docker:x:999:alice', 'sudo:x:27:alice', ''].join('\n')

function statusText(lines: { uid?: string; gid?: string; groups?: string | undefined }): string {
  return [
    'Name:\tworkload',
    'State:\tS (sleeping)',
    `Pid:\t${PID}`,
    ...(lines.uid === undefined ? [] : [`Uid:\t${lines.uid}`]),
    ...(lines.gid === undefined ? [] : [`Gid:\t${lines.gid}`]),
    'FDSize:\t64',
    ...(lines.groups === undefined ? [] : [`Groups:\t${lines.groups}`]),
    'VmPeak:\t  1000 kB',
    '',
  ].join('\n')
}

/** Counts the fs calls the attestor makes, passing them to the real file system. */
function countingFs(): UnixFs & { reads: Map<string, number>; hashes: number } {
  const counted = {
    reads: new Map<string, number>(),
    hashes: 0,
    readText: async (path: string) => {
      counted.reads.set(path, (counted.reads.get(path) ?? 0) + 1)
      return nodeUnixFs.readText(path)
    },
    readlink: (path: string) => nodeUnixFs.readlink(path),
    identify: (path: string) => nodeUnixFs.identify(path),
    openFile: async (path: string) => {
      const file = await nodeUnixFs.openFile(path)
      return {
        identify: () => file.identify(),
        close: () => file.close(),
        sha256: (signal: AbortSignal) => {
          counted.hashes++
          return file.sha256(signal)
        },
      }
    },
  }
  return counted
}

let root: string
let fs: ReturnType<typeof countingFs>
const signal = new AbortController().signal

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'steeple-fakeproc-'))
  await mkdir(join(root, 'proc', String(PID)), { recursive: true })
  await mkdir(join(root, 'etc'))
  await mkdir(join(root, 'bin'))
  await writeFile(join(root, 'etc', 'passwd'), PASSWD)
  await writeFile(join(root, 'etc', 'group'), GROUP)
  fs = countingFs()
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

function attestor(config: { discover_workload_path?: boolean; workload_size_limit?: number } = {}, fsOverride?: UnixFs): UnixAttestor {
  return new UnixAttestor(
    { discover_workload_path: config.discover_workload_path ?? false, workload_size_limit: config.workload_size_limit ?? 0 },
    { procRoot: join(root, 'proc'), passwdPath: join(root, 'etc', 'passwd'), groupPath: join(root, 'etc', 'group'), fs: fsOverride ?? fs },
  )
}

async function writeStatus(lines: Parameters<typeof statusText>[0]): Promise<void> {
  await writeFile(join(root, 'proc', String(PID), 'status'), statusText(lines))
}

/** Makes /proc/<pid>/exe a link to `name` under bin/, with `content`; returns the target path. */
async function writeExe(name: string, content: string): Promise<string> {
  const target = join(root, 'bin', name)
  await writeFile(target, content)
  await symlink(target, join(root, 'proc', String(PID), 'exe'))
  return target
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')

async function failure(promise: Promise<unknown>): Promise<SteepleError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(SteepleError)
  return err as SteepleError
}

describe('unix attestor on a fake /proc', () => {
  it('emits every selector kind, sorted, with names from the databases', async () => {
    await writeStatus({ uid: '1000\t1000\t1000\t1000', gid: '1000\t1000\t1000\t1000', groups: '27 999 1000 ' })
    expect(await attestor().attest(PID, signal)).toEqual([
      'gid:1000',
      'group:alice',
      'supplementary_gid:1000',
      'supplementary_gid:27',
      'supplementary_gid:999',
      'supplementary_group:alice',
      'supplementary_group:docker',
      'supplementary_group:sudo',
      'uid:1000',
      'user:alice',
    ])
  })

  it('uses the effective ids, not the real ones (as SPIRE does)', async () => {
    await writeStatus({ uid: '1000\t0\t0\t0', gid: '1000\t27\t27\t27', groups: '' })
    expect(await attestor().attest(PID, signal)).toEqual(['gid:27', 'group:sudo', 'uid:0', 'user:root'])
  })

  it('a missing Groups line gives no supplementary selectors', async () => {
    await writeStatus({ uid: '0\t0\t0\t0', gid: '0\t0\t0\t0' })
    expect(await attestor().attest(PID, signal)).toEqual(['gid:0', 'group:root', 'uid:0', 'user:root'])
  })

  it('an empty Groups line gives no supplementary selectors', async () => {
    await writeStatus({ uid: '0\t0\t0\t0', gid: '0\t0\t0\t0', groups: ' ' })
    expect(await attestor().attest(PID, signal)).toEqual(['gid:0', 'group:root', 'uid:0', 'user:root'])
  })

  it('an id without a name gives only the number', async () => {
    await writeStatus({ uid: '5555\t5555\t5555\t5555', gid: '6666\t6666\t6666\t6666', groups: '7777' })
    expect(await attestor().attest(PID, signal)).toEqual(['gid:6666', 'supplementary_gid:7777', 'uid:5555'])
  })

  it('missing user and group databases give no names and no error', async () => {
    await rm(join(root, 'etc', 'passwd'))
    await rm(join(root, 'etc', 'group'))
    await writeStatus({ uid: '1000\t1000\t1000\t1000', gid: '1000\t1000\t1000\t1000', groups: '27' })
    expect(await attestor().attest(PID, signal)).toEqual(['gid:1000', 'supplementary_gid:27', 'uid:1000'])
  })

  it('an unreadable user database fails the attestation', async () => {
    await writeStatus({ uid: '0\t0\t0\t0', gid: '0\t0\t0\t0' })
    const denied: UnixFs = {
      ...fs,
      readText: async (path) => {
        if (path.endsWith('passwd')) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })
        return fs.readText(path)
      },
    }
    const err = await failure(attestor({}, denied).attest(PID, signal))
    expect(err).toBeInstanceOf(InternalError)
    expect(err.message).toBe('cannot read the user database')
  })

  it('a PID without a /proc entry is not running', async () => {
    const err = await failure(attestor().attest(PID + 1, signal))
    expect(err).toBeInstanceOf(NotFoundError)
    expect(err.message).toBe(`process ${PID + 1} is not running`)
  })

  it.each([
    ['no Uid line', { gid: '0\t0\t0\t0' }, `status of process ${PID} has no valid Uid line`],
    ['no Gid line', { uid: '0\t0\t0\t0' }, `status of process ${PID} has no valid Gid line`],
    ['a malformed Uid line', { uid: '0\tx\t0\t0', gid: '0\t0\t0\t0' }, `status of process ${PID} has no valid Uid line`],
    ['a malformed Groups line', { uid: '0\t0\t0\t0', gid: '0\t0\t0\t0', groups: '4 -1' }, `status of process ${PID} has a malformed Groups line`],
  ])('a status with %s fails', async (_title, lines, message) => {
    await writeStatus(lines)
    const err = await failure(attestor().attest(PID, signal))
    expect(err).toBeInstanceOf(InternalError)
    expect(err.message).toBe(message)
  })

  it('path and sha256 come from the exe link', async () => {
    await writeStatus({ uid: '0\t0\t0\t0', gid: '0\t0\t0\t0' })
    const target = await writeExe('app', 'binary v1')
    const values = await attestor({ discover_workload_path: true }).attest(PID, signal)
    expect(values).toContain(`path:${target}`)
    expect(values).toContain(`sha256:${sha256('binary v1')}`)
  })

  it('a deleted executable keeps the kernel\'s " (deleted)" suffix in its path', async () => {
    await writeStatus({ uid: '0\t0\t0\t0', gid: '0\t0\t0\t0' })
    // The kernel's link text for a removed file; here a file of that name stands in for the inode.
    const target = await writeExe('app (deleted)', 'old binary')
    const values = await attestor({ discover_workload_path: true }).attest(PID, signal)
    expect(values).toContain(`path:${target}`)
    expect(target.endsWith(' (deleted)')).toBe(true)
    expect(values).toContain(`sha256:${sha256('old binary')}`)
  })

  it('a process without an executable (a zombie) is not running', async () => {
    await writeStatus({ uid: '0\t0\t0\t0', gid: '0\t0\t0\t0' })
    const err = await failure(attestor({ discover_workload_path: true }).attest(PID, signal))
    expect(err).toBeInstanceOf(NotFoundError)
  })

  it('no permission to read the exe link names the fix', async () => {
    await writeStatus({ uid: '0\t0\t0\t0', gid: '0\t0\t0\t0' })
    const denied: UnixFs = {
      ...fs,
      readlink: async () => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })
      },
    }
    const err = await failure(attestor({ discover_workload_path: true }, denied).attest(PID, signal))
    expect(err).toBeInstanceOf(InternalError)
    expect(err.message).toBe(`no permission to read the executable path of process ${PID} (run the agent as root or as the workload's user)`)
  })

  it('an abort while hashing stops the attestation', async () => {
    await writeStatus({ uid: '0\t0\t0\t0', gid: '0\t0\t0\t0' })
    await writeExe('app', 'x'.repeat(3 << 20))
    const controller = new AbortController()
    const abortingFs: UnixFs = {
      ...fs,
      openFile: async (path) => {
        const file = await fs.openFile(path)
        return { ...file, identify: () => file.identify(), close: () => file.close(), sha256: (s) => (controller.abort(), file.sha256(s)) }
      },
    }
    const err = await failure(attestor({ discover_workload_path: true }, abortingFs).attest(PID, controller.signal))
    expect(err).toBeInstanceOf(UnavailableError)
    expect(err.message).toBe('attestation aborted')
  })
})

describe('unix attestor caches', () => {
  it('hashes an executable once for repeated calls, and again after it changes', async () => {
    await writeStatus({ uid: '0\t0\t0\t0', gid: '0\t0\t0\t0' })
    const target = await writeExe('app', 'binary v1')
    const a = attestor({ discover_workload_path: true })
    const first = await a.attest(PID, signal)
    const second = await a.attest(PID, signal)
    expect(second).toEqual(first)
    expect(fs.hashes).toBe(1)

    await writeFile(target, 'binary v2, longer')
    expect(await a.attest(PID, signal)).toContain(`sha256:${sha256('binary v2, longer')}`)
    expect(fs.hashes).toBe(2)
  })

  it('a same-size rewrite with the mtime set back is still noticed (ctime is part of the key)', async () => {
    await writeStatus({ uid: '0\t0\t0\t0', gid: '0\t0\t0\t0' })
    const target = await writeExe('app', 'binary v1')
    // Whole seconds, so setting the mtime back restores it to the nanosecond.
    const mtimeSeconds = 1_700_000_000
    await utimes(target, mtimeSeconds, mtimeSeconds)
    const a = attestor({ discover_workload_path: true })
    await a.attest(PID, signal)
    // The ctime comes from a clock with coarse ticks; let one pass.
    await new Promise((r) => setTimeout(r, 20))
    await writeFile(target, 'binary v9')
    await utimes(target, mtimeSeconds, mtimeSeconds)
    expect((await stat(target, { bigint: true })).mtimeNs).toBe(BigInt(mtimeSeconds) * 1_000_000_000n)
    expect(await a.attest(PID, signal)).toContain(`sha256:${sha256('binary v9')}`)
    expect(fs.hashes).toBe(2)
  })

  it('reads the user database once while it is unchanged, and again after it changes', async () => {
    await writeStatus({ uid: '1000\t1000\t1000\t1000', gid: '1000\t1000\t1000\t1000' })
    const passwd = join(root, 'etc', 'passwd')
    const a = attestor()
    expect(await a.attest(PID, signal)).toContain('user:alice')
    expect(await a.attest(PID, signal)).toContain('user:alice')
    expect(fs.reads.get(passwd)).toBe(1)

    await writeFile(passwd, 'bob:x:1000:1000::/home/bob:/bin/sh\n')
    const values = await a.attest(PID, signal)
    expect(values).toContain('user:bob')
    expect(values).not.toContain('user:alice')
    expect(fs.reads.get(passwd)).toBe(2)
  })
})

describe('parsers', () => {
  it('parseIdNames skips comments, NIS lines and malformed lines; the first line for an id wins', () => {
    expect([...parseIdNames(PASSWD)]).toEqual([
      [0, 'root'],
      [1000, 'alice'],
    ])
  })

  it('parseProcStatus reads effective ids and the Groups line', () => {
    expect(parseProcStatus(statusText({ uid: '1\t2\t3\t4', gid: '5\t6\t7\t8', groups: '9 10' }), PID)).toEqual({
      uid: 2,
      gid: 6,
      supplementaryGids: [9, 10],
    })
  })

  it('parseProcStatus takes the only id of a one-id line', () => {
    expect(parseProcStatus(statusText({ uid: '7', gid: '8' }), PID)).toEqual({ uid: 7, gid: 8, supplementaryGids: [] })
  })
})
