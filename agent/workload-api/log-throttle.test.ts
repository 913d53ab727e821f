import { describe, expect, it } from 'vitest'
import { createLogger } from '../../common/logger.js'
import { WarnThrottle } from './log-throttle.js'

function setup() {
  const lines: Record<string, unknown>[] = []
  const log = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) })
  let nowMs = 1_000_000
  const throttle = new WarnThrottle(30_000, () => nowMs)
  return { lines, log, throttle, advance: (ms: number) => (nowMs += ms) }
}

describe('WarnThrottle', () => {
  it('lets one warning per key through per interval, writes the others at debug, and counts them on the next warning', () => {
    const { lines, log, throttle, advance } = setup()
    throttle.warn(log, 'a', 'No identity', { n: 1 })
    advance(10_000)
    throttle.warn(log, 'a', 'No identity', { n: 2 })
    throttle.warn(log, 'a', 'No identity', { n: 3 })
    advance(20_000)
    throttle.warn(log, 'a', 'No identity', { n: 4 })
    advance(30_000)
    throttle.warn(log, 'a', 'No identity', { n: 5 })
    expect(lines.map((l) => [l['level'], l['n'], l['suppressed']])).toEqual([
      ['warn', 1, undefined],
      ['debug', 2, undefined],
      ['debug', 3, undefined],
      ['warn', 4, 2],
      ['warn', 5, undefined],
    ])
  })

  it('keys are independent: one workload retrying does not hide another', () => {
    const { lines, log, throttle } = setup()
    throttle.warn(log, 'a', 'No identity', {})
    throttle.warn(log, 'b', 'No identity', {})
    throttle.warn(log, 'a', 'No identity', {})
    expect(lines.map((l) => l['level'])).toEqual(['warn', 'warn', 'debug'])
  })

  it('a key whose warnings held nothing back is forgotten after its interval, one that held some back is not', () => {
    const { lines, log, throttle, advance } = setup()
    throttle.warn(log, 'quiet', 'No identity', {})
    throttle.warn(log, 'busy', 'No identity', {})
    throttle.warn(log, 'busy', 'No identity', {})
    advance(60_000)
    // A warning for another key prunes what is over; 'busy' still owes its count.
    throttle.warn(log, 'other', 'No identity', {})
    throttle.warn(log, 'busy', 'No identity', {})
    throttle.warn(log, 'quiet', 'No identity', {})
    expect(lines.slice(3).map((l) => [l['level'], l['suppressed']])).toEqual([
      ['warn', undefined],
      ['warn', 1],
      ['warn', undefined],
    ])
  })
})
