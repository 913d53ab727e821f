import { describe, expect, it } from 'vitest'
import { Backoff } from './backoff.js'

/** A random source that returns the given values in turn. */
function sequence(...values: number[]): () => number {
  let i = 0
  return () => {
    if (i >= values.length) throw new Error('test random source exhausted')
    return values[i++]!
  }
}

// Just below 1: Math.random() never returns 1.
const ALMOST_ONE = 1 - 2 ** -53

describe('Backoff', () => {
  // initial 100 ms, cap 1000 ms: ceilings 100, 200, 400, 800, then 1000 for good.
  const CEILINGS = [100, 200, 400, 800, 1000, 1000, 1000]

  it.each(CEILINGS.map((ceiling, i) => ({ attempt: i + 1, ceiling })))(
    'attempt $attempt waits between $ceiling/2 and $ceiling ms',
    ({ attempt, ceiling }) => {
      const low = new Backoff(100, 1000, () => 0)
      const high = new Backoff(100, 1000, () => ALMOST_ONE)
      const middle = new Backoff(100, 1000, () => 0.5)
      for (let i = 1; i < attempt; i++) {
        low.next()
        high.next()
        middle.next()
      }
      expect(low.next()).toBe(ceiling / 2)
      expect(high.next()).toBe(ceiling)
      expect(middle.next()).toBe((ceiling * 3) / 4)
    },
  )

  it('uses one random draw per attempt, scaled into the upper half of the ceiling', () => {
    const backoff = new Backoff(100, 1000, sequence(0.2, 0.9, 0.1))
    expect(backoff.next()).toBe(60) // 50 + 0.2·50
    expect(backoff.next()).toBe(190) // 100 + 0.9·100
    expect(backoff.next()).toBe(220) // 200 + 0.1·200
  })

  it('stays within [ceiling/2, ceiling] with the real random source', () => {
    const backoff = new Backoff(250, 5000)
    for (let attempt = 1; attempt <= 40; attempt++) {
      const ceiling = Math.min(5000, 250 * 2 ** (attempt - 1))
      const wait = backoff.next()
      expect(wait).toBeGreaterThanOrEqual(ceiling / 2)
      expect(wait).toBeLessThanOrEqual(ceiling)
    }
  })

  it('never exceeds the cap, even after very many failures (no overflow to Infinity or NaN)', () => {
    const backoff = new Backoff(1, 60_000, () => ALMOST_ONE)
    let wait = 0
    for (let i = 0; i < 2000; i++) wait = backoff.next()
    expect(wait).toBe(60_000)
    expect(backoff.failures).toBe(2000)
  })

  it('waits the initial time when initial equals the cap', () => {
    const backoff = new Backoff(500, 500, () => ALMOST_ONE)
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([500, 500, 500])
  })

  it('counts failures and starts over after reset', () => {
    const backoff = new Backoff(100, 1000, () => ALMOST_ONE)
    expect(backoff.failures).toBe(0)
    backoff.next()
    backoff.next()
    expect(backoff.next()).toBe(400)
    expect(backoff.failures).toBe(3)
    backoff.reset()
    expect(backoff.failures).toBe(0)
    expect(backoff.next()).toBe(100)
    expect(backoff.next()).toBe(200)
    expect(backoff.failures).toBe(2)
  })

  it.each([
    { initialMs: 0, maxMs: 1000 },
    { initialMs: -1, maxMs: 1000 },
    { initialMs: Number.NaN, maxMs: 1000 },
    { initialMs: 100, maxMs: 99 },
    { initialMs: 100, maxMs: Number.NaN },
  ])('refuses initialMs $initialMs with maxMs $maxMs', ({ initialMs, maxMs }) => {
    expect(() => new Backoff(initialMs, maxMs)).toThrow(/backoff needs 0 < initialMs <= maxMs/)
  })
})
