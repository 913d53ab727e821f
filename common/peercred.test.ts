import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadPeercredAddon, type PeercredAddon } from './peercred.js'

// Server-side ends of connections from this process or from children, kept open by the test so
// their fds (and the pidfds taken from them) stay valid after the other end goes away.
let dir: string
let server: net.Server
let addon: PeercredAddon
const accepted: net.Socket[] = []
let nextAccept: ((socket: net.Socket) => void) | undefined

function fdOf(socket: net.Socket): number {
  return (socket as unknown as { _handle: { fd: number } })._handle.fd
}

function acceptOne(): Promise<net.Socket> {
  return new Promise((resolve) => {
    nextAccept = resolve
  })
}

/** A child node process connected to our socket, which stays alive until killed. */
async function connectedChild(): Promise<{ child: ChildProcess; socket: net.Socket }> {
  const accepting = acceptOne()
  const child = spawn(process.execPath, ['-e', `require('net').connect(process.argv[1]); setInterval(() => {}, 1000)`, join(dir, 'api.sock')], {
    stdio: 'ignore',
  })
  const socket = await accepting
  return { child, socket }
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

async function ownGroups(): Promise<number[]> {
  const status = await readFile('/proc/self/status', 'utf8')
  const line = /^Groups:(.*)$/m.exec(status)?.[1] ?? ''
  return line.trim() === '' ? [] : line.trim().split(/\s+/).map(Number)
}

beforeAll(async () => {
  addon = loadPeercredAddon()
  dir = await mkdtemp(join(tmpdir(), 'steeple-peercred-'))
  // allowHalfOpen: a peer that exits must not make Node close our end (and its fd) behind our back.
  server = net.createServer({ allowHalfOpen: true }, (socket) => {
    accepted.push(socket)
    nextAccept?.(socket)
  })
  await new Promise<void>((resolve) => server.listen(join(dir, 'api.sock'), resolve))
})

afterAll(async () => {
  for (const socket of accepted) socket.destroy()
  await new Promise((resolve) => server.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

describe('peercred addon', () => {
  it('peerCred and peerGroups report this process for a connection it made', async () => {
    const accepting = acceptOne()
    const client = net.connect(join(dir, 'api.sock'))
    const socket = await accepting
    const fd = fdOf(socket)
    expect(addon.peerCred(fd)).toEqual({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() })
    expect(addon.peerGroups(fd)).toEqual(await ownGroups())
    client.destroy()
  })

  it('peerPidfd names the connecting child: alive while it runs, dead once it is killed', async () => {
    const { child, socket } = await connectedChild()
    const fd = fdOf(socket)
    expect(addon.peerCred(fd).pid).toBe(child.pid)
    const pidfd = addon.peerPidfd(fd)
    try {
      expect(addon.pidfdAlive(pidfd)).toBe(true)
      await kill(child)
      expect(addon.pidfdAlive(pidfd)).toBe(false)
    } finally {
      addon.closeFd(pidfd)
    }
  })

  it('peerPidfdFallback (pidfd_open of the SO_PEERCRED pid) names the connecting child until it exits', async () => {
    const { child, socket } = await connectedChild()
    const fd = fdOf(socket)
    const pidfd = addon.peerPidfdFallback(fd)
    try {
      expect(addon.pidfdAlive(pidfd)).toBe(true)
      await kill(child)
      expect(addon.pidfdAlive(pidfd)).toBe(false)
    } finally {
      addon.closeFd(pidfd)
    }
    // The child is reaped now, so its pid names no process.
    expect(() => addon.peerPidfdFallback(fd)).toThrow(expect.objectContaining({ code: 'ESRCH', syscall: 'pidfd_open' }))
  })

  it('peerPidfd never yields a live pidfd for a caller that exited and was reaped before the call', async () => {
    const { child, socket } = await connectedChild()
    const fd = fdOf(socket)
    await kill(child)
    // Kernels with SO_PEERPIDFD give a pidfd of the exited process (6.16+) or refuse (EINVAL);
    // the fallback's pidfd_open finds no process (ESRCH). None may report a live process.
    let alive: boolean
    try {
      const pidfd = addon.peerPidfd(fd)
      alive = addon.pidfdAlive(pidfd)
      addon.closeFd(pidfd)
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toMatch(/^(EINVAL|ESRCH|ENODATA)$/)
      alive = false
    }
    expect(alive).toBe(false)
  })

  it('failures throw errors named by errno, with the system call', async () => {
    const file = await open(join(dir, 'not-a-socket'), 'w')
    try {
      expect(() => addon.peerCred(file.fd)).toThrow(
        expect.objectContaining({ code: 'ENOTSOCK', syscall: 'getsockopt(SO_PEERCRED)', message: 'ENOTSOCK: socket operation on non-socket, getsockopt(SO_PEERCRED)' }),
      )
      expect(() => addon.peerPidfd(file.fd)).toThrow(expect.objectContaining({ code: 'ENOTSOCK' }))
      expect(() => addon.peerGroups(file.fd)).toThrow(expect.objectContaining({ code: 'ENOTSOCK' }))
    } finally {
      await file.close()
    }
    const accepting = acceptOne()
    const client = net.connect(join(dir, 'api.sock'))
    const pidfd = addon.peerPidfd(fdOf(await accepting))
    client.destroy()
    addon.closeFd(pidfd)
    expect(() => addon.closeFd(pidfd)).toThrow(expect.objectContaining({ code: 'EBADF', errno: -9 }))
    expect(() => addon.pidfdAlive(pidfd)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'poll' }))
    expect(() => addon.peerCred(-1)).toThrow(new TypeError('peercred: fd must be a non-negative integer'))
    expect(() => addon.pidfdAlive('3' as unknown as number)).toThrow(new TypeError('peercred: pidfd must be a non-negative integer'))
  })

  it('loading fails with a message that says how to build the addon when it is missing', () => {
    expect(() => loadPeercredAddon(join(dir, 'missing.node'))).toThrow(/native addon .*missing\.node is missing; build it with `npm ci`/)
  })
})
