import { describe, expect, it } from 'vitest'
import { DueQueue } from './due-queue.js'

/** A deterministic generator (xorshift), so a failing sequence can be replayed. */
function random(seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

describe('DueQueue', () => {
  it('gives keys back earliest first, and keys due at the same time first in, first out', () => {
    const q = new DueQueue()
    q.set('c', 30)
    q.set('a', 10)
    q.set('b2', 20)
    q.set('b1', 20)
    q.set('d', 40)
    expect(q.size).toBe(5)
    expect(q.peekAt()).toBe(10)
    expect(q.popDue(Infinity)).toEqual(['a', 'b2', 'b1', 'c', 'd'])
    expect(q.size).toBe(0)
    expect(q.peekAt()).toBeUndefined()
  })

  it('pops only what is due by the given instant, and leaves the rest in order', () => {
    const q = new DueQueue()
    for (const [key, at] of [['x', 5], ['y', 15], ['z', 10], ['w', 20]] as const) q.set(key, at)
    expect(q.popDue(4)).toEqual([])
    expect(q.popDue(10)).toEqual(['x', 'z'])
    expect(q.has('x')).toBe(false)
    expect(q.peekAt()).toBe(15)
    expect(q.popDue(100)).toEqual(['y', 'w'])
  })

  it('holds a key once: setting it again moves it earlier or later', () => {
    const q = new DueQueue()
    q.set('a', 10)
    q.set('b', 20)
    q.set('c', 30)
    q.set('c', 5)
    expect(q.size).toBe(3)
    expect(q.dueAt('c')).toBe(5)
    q.set('a', 25)
    expect(q.popDue(Infinity)).toEqual(['c', 'b', 'a'])
  })

  it('removes a key from anywhere in the heap', () => {
    const q = new DueQueue()
    for (let i = 0; i < 10; i++) q.set(`k${i}`, i)
    expect(q.delete('k0')).toBe(true)
    expect(q.delete('k5')).toBe(true)
    expect(q.delete('k9')).toBe(true)
    expect(q.delete('k5')).toBe(false)
    expect(q.delete('never')).toBe(false)
    expect(q.dueAt('k5')).toBeUndefined()
    expect(q.popDue(Infinity)).toEqual(['k1', 'k2', 'k3', 'k4', 'k6', 'k7', 'k8'])
  })

  it('takes -Infinity (due since always) and refuses NaN', () => {
    const q = new DueQueue()
    q.set('later', 1)
    q.set('now', -Infinity)
    expect(q.popDue(0)).toEqual(['now'])
    expect(() => q.set('bad', Number.NaN)).toThrow(TypeError)
  })

  it('agrees with a sorted list over thousands of random sets, moves, deletes and pops', () => {
    const rand = random(0x5eed)
    const q = new DueQueue()
    const reference = new Map<string, number>()
    let now = 0
    for (let step = 0; step < 20_000; step++) {
      const op = rand()
      const key = `k${Math.floor(rand() * 500)}`
      if (op < 0.55) {
        const at = now + Math.floor(rand() * 1000)
        q.set(key, at)
        reference.set(key, at)
      } else if (op < 0.8) {
        expect(q.delete(key)).toBe(reference.delete(key))
      } else {
        now += Math.floor(rand() * 50)
        const popped = q.popDue(now)
        const expectedDue = [...reference].filter(([, at]) => at <= now)
        expect(popped.sort()).toEqual(expectedDue.map(([k]) => k).sort())
        for (const k of popped) reference.delete(k)
      }
      expect(q.size).toBe(reference.size)
    }
    // What is left comes out in due-time order.
    const rest = [...reference].sort((a, b) => a[1] - b[1])
    const times = q.popDue(Infinity).map((k) => reference.get(k)!)
    expect(times).toEqual(rest.map(([, at]) => at))
  })
})
