import { status } from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { UnavailableError } from '../../../common/errors.js'
import { PeerTracker, withLiveCaller, type PidfdOps } from './tracker.js'

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

const creds = { pid: 4242, uid: 1000, gid: 100 }

function setup(): { fds: FakePidfds; tracker: PeerTracker } {
  const fds = new FakePidfds()
  fds.alive.set(7, true)
  fds.alive.set(8, true)
  return { fds, tracker: new PeerTracker(fds) }
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
    expect(thrown).toMatchObject({ code: 'UNAVAILABLE', grpcStatus: status.UNAVAILABLE, message: 'workloadapi: caller exited' })
  })
})

describe('withLiveCaller', () => {
  it('returns what was read when the caller lives through the read', async () => {
    const { fds, tracker } = setup()
    const caller = tracker.add(creds, [], 7)
    await expect(withLiveCaller(caller, async () => 'selectors')).resolves.toBe('selectors')
    expect(fds.polled).toEqual([7, 7])
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
