import { describe, expect, it } from 'vitest'
import { parseSince } from './audit.js'

describe('audit list --since', () => {
  const now = () => Date.UTC(2030, 0, 1, 12, 0, 0)
  it.each([
    ['1700000000', 1700000000],
    ['90s', now() / 1000 - 90],
    ['30m', now() / 1000 - 1800],
    ['12h', now() / 1000 - 43200],
    ['7d', now() / 1000 - 604800],
    ['2030-01-01T00:00:00Z', Date.UTC(2030, 0, 1) / 1000],
    ['2030-01-01T01:00:00+01:00', Date.UTC(2030, 0, 1) / 1000],
  ])('reads %s', (text, seconds) => {
    expect(parseSince(text, now)).toBe(seconds)
  })

  it.each(['yesterday', '-5', '5w', '2030-01-01'])('refuses %s', (text) => {
    expect(() => parseSince(text, now)).toThrow(/must be unix seconds, an RFC 3339 date-time, or a duration ago/)
  })
})
