import { describe, expect, it } from 'vitest'
import { createLogger } from '../../common/logger.js'
import { EventCursor } from './event-cursor.js'

describe('EventCursor', () => {
  function cursor(start: number, gapTimeoutMs = 1000) {
    let now = 0
    const lines: string[] = []
    const c = new EventCursor(start, { gapTimeoutMs, nowMs: () => now, log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) })
    return { c, lines, tick: (ms: number) => (now += ms) }
  }

  it('moves to the highest event applied when there is no gap', () => {
    const { c } = cursor(10)
    c.advance([11, 12, 13])
    expect(c.position).toBe(13)
    expect(c.isApplied(13)).toBe(false)
  })

  it('stays below a missing ID and remembers what it applied above it', () => {
    const { c } = cursor(10)
    c.advance([11, 13, 14])
    expect(c.position).toBe(11)
    expect(c.isApplied(13)).toBe(true)
    c.advance([12])
    expect(c.position).toBe(14)
  })

  it('gives a missing ID up after the timeout', () => {
    const { c, tick } = cursor(0, 1000)
    c.advance([2])
    tick(999)
    c.advance([])
    expect(c.position).toBe(0)
    tick(1)
    c.advance([])
    expect(c.position).toBe(2)
  })

  it('does not wait for a jump of more than 10000 IDs, and says so', () => {
    const { c, lines } = cursor(0)
    c.advance([20_000])
    expect(c.position).toBe(20_000)
    expect(lines.some((l) => l.includes('Change events skipped'))).toBe(true)
  })

  it('starts over on reset', () => {
    const { c } = cursor(0)
    c.advance([2])
    c.reset(50)
    expect(c.position).toBe(50)
    expect(c.isApplied(2)).toBe(false)
  })
})
