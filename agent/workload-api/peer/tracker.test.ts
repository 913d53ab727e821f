import { status } from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { UnavailableError } from '../../../common/errors.js'
import { grpcStatusOf } from '../../../common/grpc-status.js'
import type { ProcessInspector, ProcessView } from './process.js'
import { CallerChangedError, PeerTracker, withLiveCaller, type PidfdOps } from './tracker.js'

/** Pidfds as a table of live flags; records every poll and close. */
class FakePidfds implements PidfdOps {
  readonly alive = new Map<number, boolean>()
  readonly polled: number[] = []
  readonly closed: number[] = []

  pidfdAlive(pidfd: number): boolean {
    this.polled.push(pidfd)
    const alive = this.alive.get(pidfd)
    if (alive === undefined) throw Object.assign(new Error('EBADF: bad file descriptor, poll'), { code: 'EBADF' })
    return alive
  }

  closeFd(fd: number): void {
    if (!this.alive.delete(fd)) throw Object.assign(new Error('EBADF: bad file descriptor, close'), { code: 'EBADF' })
    this.closed.push(fd)
  }
}

/** /proc as a table of views by pid, which a test changes as the process would; a missing pid is gone. */
class FakeProcesses implements ProcessInspector {
  readonly views = new Map<number, ProcessView>()

  inspect(pid: number): ProcessView {
    const view = this.views.get(pid)
    if (view === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '/proc/${pid}/status'`), { code: 'ENOENT' })
    return view
  }
}

const creds = { pid: 4242, uid: 1000, gid: 100 }
const asConnected: ProcessView = { uid: 1000, gid: 100, supplementaryGids: [], executable: '2049:1001' }

function setup(): { fds: FakePidfds; procs: FakeProcesses; tracker: PeerTracker } {
  const fds = new FakePidfds()
  fds.alive.set(7, true)
  fds.alive.set(8, true)
  const procs = new FakeProcesses()
  procs.views.set(4242, asConnected)
  procs.views.set(5, { uid: 0, gid: 0, supplementaryGids: [], executable: '2049:7' })
  return { fds, procs, tracker: new PeerTracker(fds, procs) }
}

describe('PeerTracker', () => {
  it('gives each connection its own token and finds the caller by it', () => {
    const { tracker } = setup()
    const a = tracker.add(creds, [10, 20], 7)
    const b = tracker.add({ pid: 5, uid: 0, gid: 0 }, [], 8)
    expect(a.token).toMatch(/^steeple-peer-[0-9a-f]{24}$/)
    expect(b.token).not.toBe(a.token)
    expect(tracker.lookup(a.token)).toBe(a)
    expect(tracker.lookup(b.token)).toBe(b)
    expect(a).toMatchObject({ pid: 4242, uid: 1000, gid: 100, supplementaryGids: [10, 20] })
    expect(Object.isFrozen(a.supplementaryGids)).toBe(true)
    expect(tracker.size).toBe(2)
  })

  it.each([
    ['a port suffix', (token: string) => `${token}:0`],
    ['a unix: prefix', (token: string) => `unix:${token}`],
    ['both', (token: string) => `unix:${token}:1234`],
  ])('lookup tolerates %s around the token', (_name, decorate) => {
    const { tracker } = setup()
    const caller = tracker.add(creds, [], 7)
    expect(tracker.lookup(decorate(caller.token))).toBe(caller)
  })

  it.each([['unknown'], ['127.0.0.1:5000'], ['steeple-peer-000000000000000000000000'], ['']])(
    'lookup of %j, which no accepted connection carries, is undefined',
    (peer) => {
      const { tracker } = setup()
      tracker.add(creds, [], 7)
      expect(tracker.lookup(peer)).toBeUndefined()
    },
  )

  it('remove closes the pidfd once; the caller is then unknown and dead without polling the old fd', () => {
    const { fds, tracker } = setup()
    const caller = tracker.add(creds, [], 7)
    fds.polled.length = 0
    tracker.remove(caller.token)
    tracker.remove(caller.token)
    expect(fds.closed).toEqual([7])
    expect(tracker.lookup(caller.token)).toBeUndefined()
    // The fd number may belong to an unrelated file now: it must not be polled.
    fds.alive.set(7, true)
    expect(caller.isAlive()).toBe(false)
    expect(fds.polled).toEqual([])
  })

  it('closeAll closes every pidfd', () => {
    const { fds, tracker } = setup()
    tracker.add(creds, [], 7)
    tracker.add(creds, [], 8)
    tracker.closeAll()
    expect(fds.closed.sort()).toEqual([7, 8])
    expect(tracker.size).toBe(0)
  })

  it('verify throws UNAVAILABLE "workloadapi: caller exited" once the pidfd reports an exit', () => {
    const { fds, tracker } = setup()
    const caller = tracker.add(creds, [], 7)
    expect(() => caller.verify()).not.toThrow()
    fds.alive.set(7, false)
    expect(caller.isAlive()).toBe(false)
    let thrown: unknown
    try {
      caller.verify()
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(UnavailableError)
    expect(thrown).toMatchObject({ code: 'UNAVAILABLE', message: 'workloadapi: caller exited' })
    expect(grpcStatusOf(thrown as UnavailableError)).toBe(status.UNAVAILABLE)
  })
})

describe('withLiveCaller', () => {
  it('returns what was read when the caller lives through the read', async () => {
    const { fds, tracker } = setup()
    const caller = tracker.add(creds, [], 7)
    fds.polled.length = 0
    await expect(withLiveCaller(caller, async () => 'selectors')).resolves.toBe('selectors')
    // Each check polls before and after reading /proc.
    expect(fds.polled).toEqual([7, 7, 7, 7])
  })

  it('refuses what was read when the caller exited during the read (its pid may name another process)', async () => {
    const { fds, tracker } = setup()
    const caller = tracker.add(creds, [], 7)
    const read = withLiveCaller(caller, async () => {
      fds.alive.set(7, false)
      return 'selectors of whoever has pid 4242 now'
    })
    await expect(read).rejects.toThrow(new UnavailableError('workloadapi: caller exited'))
  })

  it('does not read at all for a caller already gone', async () => {
    const { fds, tracker } = setup()
    const caller = tracker.add(creds, [], 7)
    fds.alive.set(7, false)
    let reads = 0
    await expect(
      withLiveCaller(caller, async () => {
        reads++
        return 'x'
      }),
    ).rejects.toThrow('workloadapi: caller exited')
    expect(reads).toBe(0)
  })
})

describe('a caller that changed since it connected (exec after connect)', () => {
  it.each<[string, Partial<ProcessView>, string]>([
    ['ran a setuid-root program', { uid: 0 }, 'uid 1000 -> 0'],
    ['ran a setgid program', { gid: 42 }, 'gid 100 -> 42'],
    ['changed its groups', { supplementaryGids: [27] }, 'supplementary_gids  -> 27'],
    ['executed another file', { executable: '2049:5555' }, 'executable 2049:1001 -> 2049:5555'],
    ['executed a file this agent may no longer look at', { executable: 'unreadable' }, 'executable 2049:1001 -> unreadable'],
  ])('is refused with PERMISSION_DENIED naming both values when it %s', (_what, change, named) => {
    const { procs, tracker } = setup()
    const caller = tracker.add(creds, [], 7)
    expect(() => caller.verify()).not.toThrow()
    procs.views.set(4242, { ...asConnected, ...change })
    let thrown: unknown
    try {
      caller.verify()
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(CallerChangedError)
    expect(thrown).toMatchObject({ code: 'PERMISSION_DENIED' })
    expect(grpcStatusOf(thrown as CallerChangedError)).toBe(status.PERMISSION_DENIED)
    expect((thrown as Error).message).toContain(named)
  })

  it('compares ids with the kernel record of connect(), so a change before accept is refused too', () => {
    const { procs, tracker } = setup()
    // The process ran a setuid program between connect() and the agent's accept.
    procs.views.set(4242, { ...asConnected, uid: 0 })
    const caller = tracker.add(creds, [], 7)
    expect(() => caller.verify()).toThrow('uid 1000 -> 0')
  })

  it('compares supplementary groups as sets', () => {
    const { procs, tracker } = setup()
    procs.views.set(4242, { ...asConnected, supplementaryGids: [10, 20] })
    const caller = tracker.add(creds, [20, 10, 20], 7)
    expect(() => caller.verify()).not.toThrow()
  })

  it('refuses facts read while the caller executed another program (the check after the read)', async () => {
    const { procs, tracker } = setup()
    const caller = tracker.add(creds, [], 7)
    const read = withLiveCaller(caller, async () => {
      procs.views.set(4242, { ...asConnected, executable: '2049:5555' })
      return 'selectors of the program it runs now'
    })
    await expect(read).rejects.toBeInstanceOf(CallerChangedError)
  })

  it('add refuses a caller gone before its executable could be read, and closes its pidfd', () => {
    const { fds, procs, tracker } = setup()
    procs.views.delete(4242)
    expect(() => tracker.add(creds, [], 7)).toThrow(new UnavailableError('workloadapi: caller exited'))
    expect(fds.closed).toEqual([7])
    expect(tracker.size).toBe(0)
  })
})
