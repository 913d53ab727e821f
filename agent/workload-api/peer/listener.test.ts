import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import { afterEach, describe, expect, it } from 'vitest'
import { FailedPreconditionError, UnavailableError } from '../../../common/errors.js'
import { toStatus } from '../../../common/grpc-status.js'
import { createLogger, type Logger } from '../../../common/logger.js'
import { loadWorkloadApi, protoPath } from '../../../proto/index.js'
import { loadPeercredAddon, type PeercredAddon } from '../../../common/peercred.js'
import { startWorkloadSocket, type WorkloadSocket } from './listener.js'
import { withLiveCaller, type CallerInfo } from './tracker.js'

const WorkloadApi = loadWorkloadApi()
const CALL_SCRIPT = fileURLToPath(new URL('./testdata/call-workload-api.mjs', import.meta.url))
const HAND_OFF_SCRIPT = fileURLToPath(new URL('./testdata/hand-off-connection.mjs', import.meta.url))

/** What the test service answers: the caller it found for the call, and the uid /proc showed. */
interface SeenCaller {
  peer: string
  token: string
  pid: number
  uid: number
  gid: number
  supplementaryGids: number[]
  procUid: number
}

/** A gRPC server with one Workload API method that attests its caller as the agent will. */
class Harness {
  readonly logs: Array<Record<string, unknown>> = []
  readonly log: Logger = createLogger({ level: 'debug', write: (line) => this.logs.push(JSON.parse(line) as Record<string, unknown>) })
  readonly server = new grpc.Server()
  readonly attestations: Array<Promise<SeenCaller>> = []
  readonly connections: CallerInfo[] = []
  /** Runs after /proc was read and before the pidfd is checked again. */
  duringAttestation: ((caller: CallerInfo) => Promise<void>) | undefined
  socket!: WorkloadSocket

  constructor(readonly dir: string) {
    this.server.addService(WorkloadApi.service, {
      FetchJWTSVID: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const attempt = this.#attest(call.getPeer())
        this.attestations.push(attempt)
        attempt.then(
          (seen) => callback(null, { svids: [{ spiffe_id: 'spiffe://example.org/peer-test', svid: JSON.stringify(seen), hint: '' }] }),
          (err: unknown) => callback(toStatus(err, this.log)),
        )
      },
    })
  }

  async #attest(peer: string): Promise<SeenCaller> {
    const caller = this.socket.tracker.lookup(peer)
    if (caller === undefined) throw new UnavailableError('workloadapi: unknown caller')
    const procStatus = await withLiveCaller(caller, async () => {
      const text = await readFile(`/proc/${caller.pid}/status`, 'utf8')
      await this.duringAttestation?.(caller)
      return text
    })
    const procUid = Number(/^Uid:\s+(\d+)/m.exec(procStatus)?.[1])
    const { token, pid, uid, gid } = caller
    return { peer, token, pid, uid, gid, supplementaryGids: [...caller.supplementaryGids], procUid }
  }

  async start(path = join(this.dir, 'api.sock'), addon?: PeercredAddon): Promise<WorkloadSocket> {
    this.socket = await startWorkloadSocket({
      path,
      server: this.server,
      log: this.log,
      onConnection: (caller) => this.connections.push(caller),
      ...(addon === undefined ? {} : { addon }),
    })
    return this.socket
  }

  async stop(): Promise<void> {
    await this.socket?.close()
    this.server.forceShutdown()
  }
}

const harnesses: Harness[] = []

async function harness(): Promise<Harness> {
  const h = new Harness(await mkdtemp(join(tmpdir(), 'steeple-wl-')))
  harnesses.push(h)
  return h
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    await h.stop()
    await rm(h.dir, { recursive: true, force: true })
  }
})

interface CallResult {
  code: number
  details?: string
  seen?: SeenCaller
}

/** One FetchJWTSVID call from this process, over plaintext HTTP/2 on the Unix socket. */
function callFromHere(path: string): Promise<CallResult> {
  const client = new WorkloadApi(`unix://${path}`, grpc.credentials.createInsecure())
  const metadata = new grpc.Metadata()
  metadata.set('workload.spiffe.io', 'true')
  return new Promise((resolve) => {
    client['FetchJWTSVID']!({ audience: ['test'] }, metadata, (err: grpc.ServiceError | null, response: { svids: Array<{ svid: string }> }) => {
      client.close()
      if (err !== null) resolve({ code: err.code, details: err.details })
      else resolve({ code: 0, seen: JSON.parse(response.svids[0]!.svid) as SeenCaller })
    })
  })
}

/** Runs a helper script under node and returns its one line of JSON output. */
async function runScript(script: string, args: string[]): Promise<{ childPid: number; output: Record<string, unknown> }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  // 'close' waits for stdout to end, which a grandchild holding it delays until it is done too.
  await once(child, 'close')
  return { childPid: child.pid!, output: JSON.parse(stdout.trim()) as Record<string, unknown> }
}

async function mode(path: string): Promise<number> {
  return (await lstat(path)).mode & 0o7777
}

/** How many pidfds this process holds open. */
async function openPidfds(): Promise<number> {
  let count = 0
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '')
    if (target.includes('pidfd')) count++
  }
  return count
}

describe('startWorkloadSocket', () => {
  it('WEP-01, WEP-03: serves on a local Unix socket of mode 0777, in directories it creates with mode 0755 whatever the umask', async () => {
    const h = await harness()
    const path = join(h.dir, 'run', 'agent', 'api.sock')
    const previous = process.umask(0o077)
    try {
      await h.start(path)
    } finally {
      process.umask(previous)
    }
    expect(h.socket.path).toBe(path)
    expect((await lstat(path)).isSocket()).toBe(true)
    expect(await mode(path)).toBe(0o777)
    expect(await mode(join(h.dir, 'run'))).toBe(0o755)
    expect(await mode(join(h.dir, 'run', 'agent'))).toBe(0o755)
    // The directory that existed before is not ours to change.
    expect(await mode(h.dir)).toBe(0o700)
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'Workload API listening', path, pidfdSource: h.socket.pidfdSource }))
  })

  it('leaves the mode of an existing directory alone, and warns when every user may write to it', async () => {
    const h = await harness()
    const open = join(h.dir, 'open')
    await mkdir(open)
    await chmod(open, 0o777)
    await h.start(join(open, 'api.sock'))
    expect(await mode(open)).toBe(0o777)
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'Workload API socket directory is writable by every user', path: open }))

    const h2 = await harness()
    await h2.start(join(h2.dir, 'api.sock'))
    expect(await mode(h2.dir)).toBe(0o700)
    expect(h2.logs.filter((l) => l['level'] === 'warn')).toEqual([])
  })

  it("WEP-06, WEP-11: a plaintext (h2c) client in this process is seen, from the kernel, with this process's pid, uid, gid and groups", async () => {
    const h = await harness()
    await h.start()
    const result = await callFromHere(h.socket.path)
    expect(result.code).toBe(0)
    const status = await readFile('/proc/self/status', 'utf8')
    const groups = (/^Groups:(.*)$/m.exec(status)?.[1] ?? '').trim()
    expect(result.seen).toEqual({
      peer: result.seen!.token,
      token: expect.stringMatching(/^steeple-peer-[0-9a-f]{24}$/),
      pid: process.pid,
      uid: process.getuid!(),
      gid: process.getgid!(),
      supplementaryGids: groups === '' ? [] : groups.split(/\s+/).map(Number),
      procUid: process.getuid!(),
    })
    // call.getPeer() gives the token exactly as set on the socket.
    expect(h.connections.map((c) => c.token)).toEqual([result.seen!.peer])
  })

  it("WEP-11: a client in a child process is seen with the child's pid, not ours", async () => {
    const h = await harness()
    await h.start()
    const { childPid, output } = await runScript(CALL_SCRIPT, [h.socket.path, protoPath('workload.proto')])
    expect(output).toMatchObject({ pid: childPid, code: 0 })
    const seen = JSON.parse(output['svid'] as string) as SeenCaller
    expect(seen.pid).toBe(childPid)
    expect(seen.pid).not.toBe(process.pid)
  })

  it('a caller killed while its call is being attested gets nothing: the check after reading /proc refuses it', async () => {
    const h = await harness()
    await h.start()
    const child = spawn(process.execPath, [CALL_SCRIPT, h.socket.path, protoPath('workload.proto')], { stdio: 'ignore' })
    const exited = once(child, 'exit')
    h.duringAttestation = async (caller) => {
      expect(caller.pid).toBe(child.pid)
      expect(caller.isAlive()).toBe(true)
      child.kill('SIGKILL')
      await exited
    }
    // A node child loading grpc-js takes over the 1 s default on a busy 2-core machine.
    await expect.poll(() => h.attestations.length, { timeout: 15_000 }).toBe(1)
    await expect(h.attestations[0]).rejects.toThrow(new UnavailableError('workloadapi: caller exited'))
  })

  it('a connection handed to another process still names the process that connected, and is refused once that one exited', async () => {
    const h = await harness()
    await h.start()
    const { childPid, output } = await runScript(HAND_OFF_SCRIPT, ['connect', h.socket.path])
    // The call came from the grandchild, over the connection its parent made and then died.
    expect(output['pid']).not.toBe(childPid)
    expect(output).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'workloadapi: caller exited' })
    expect(h.connections.map((c) => c.pid)).toEqual([childPid])
    await expect(h.attestations[0]).rejects.toThrow('workloadapi: caller exited')
  })

  it('with the pidfd_open fallback (kernels before 6.5), a handed-off connection is still refused once its caller exited', async () => {
    const real = loadPeercredAddon()
    const fallback: PeercredAddon = { ...real, hasSoPeerPidfd: false, peerPidfd: (fd) => real.peerPidfdFallback(fd) }
    const h = await harness()
    await h.start(undefined, fallback)
    expect(h.socket.pidfdSource).toBe('pidfd_open')
    expect((await callFromHere(h.socket.path)).seen?.pid).toBe(process.pid)
    const { childPid, output } = await runScript(HAND_OFF_SCRIPT, ['connect', h.socket.path])
    expect(output).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'workloadapi: caller exited' })
    expect(h.connections.map((c) => c.pid)).toEqual([process.pid, childPid])
  })

  const esrch = (): never => {
    throw Object.assign(new Error('ESRCH: no such process, getsockopt(SO_PEERPIDFD)'), { code: 'ESRCH' })
  }
  it.each([
    ['the caller exited before its pidfd was taken', { peerPidfd: esrch }, 'ESRCH: no such process, getsockopt(SO_PEERPIDFD)'],
    ['its pid is not visible from our pid namespace', { peerCred: () => ({ pid: 0, uid: 0, gid: 0 }) }, 'caller pid not visible'],
  ] as const)('closes a connection before gRPC sees it when %s', async (_name, override, reason) => {
    const real = loadPeercredAddon()
    const h = await harness()
    await h.start(undefined, { ...real, hasSoPeerPidfd: real.hasSoPeerPidfd, ...override })
    const result = await callFromHere(h.socket.path)
    expect(result.code).toBe(grpc.status.UNAVAILABLE)
    expect(h.attestations).toEqual([])
    expect(h.connections).toEqual([])
    expect(h.socket.tracker.size).toBe(0)
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'Workload API connection refused', reason }))
  })

  it('replaces a stale socket file that nobody listens on', async () => {
    const h = await harness()
    const path = join(h.dir, 'api.sock')
    // A process killed while listening leaves its socket file behind.
    const stale = spawn(process.execPath, ['-e', `require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))`, path], {
      stdio: 'ignore',
    })
    await once(stale, 'exit')
    expect((await lstat(path)).isSocket()).toBe(true)
    await h.start(path)
    expect((await callFromHere(path)).code).toBe(0)
  })

  it('refuses to start when another process serves the path, or when the path is not a socket', async () => {
    const h = await harness()
    const path = join(h.dir, 'api.sock')
    const other = net.createServer()
    await new Promise<void>((resolve) => other.listen(path, resolve))
    try {
      await expect(h.start(path)).rejects.toThrow(new FailedPreconditionError(`workloadapi: another process serves ${path}`))
      expect((await lstat(path)).isSocket()).toBe(true)
    } finally {
      await new Promise((resolve) => other.close(resolve))
    }

    const file = join(h.dir, 'not-a-socket')
    await writeFile(file, 'keep me')
    await expect(h.start(file)).rejects.toThrow(new FailedPreconditionError(`workloadapi: socket path ${file} exists and is not a socket`))
    expect(await readFile(file, 'utf8')).toBe('keep me')
  })

  it('close() stops listening, closes every connection and pidfd, and removes the socket file', async () => {
    const h = await harness()
    const path = join(h.dir, 'api.sock')
    const pidfdsBefore = await openPidfds()
    await h.start(path)
    const client = new WorkloadApi(`unix://${path}`, grpc.credentials.createInsecure())
    const metadata = new grpc.Metadata()
    metadata.set('workload.spiffe.io', 'true')
    const call = (): Promise<grpc.ServiceError | null> =>
      new Promise((resolve) => client['FetchJWTSVID']!({ audience: ['a'] }, metadata, (err: grpc.ServiceError | null) => resolve(err)))
    try {
      expect(await call()).toBeNull()
      expect(h.socket.tracker.size).toBe(1)
      expect(await openPidfds()).toBe(pidfdsBefore + 1)

      await h.socket.close()
      await h.socket.close()
      expect(h.socket.tracker.size).toBe(0)
      expect(await openPidfds()).toBe(pidfdsBefore)
      await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' })
      expect((await call())?.code).toBe(grpc.status.UNAVAILABLE)
    } finally {
      client.close()
    }
  })
})
