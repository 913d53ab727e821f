import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../common/errors.js'
import { LIMITS, checkAudience, checkCount, checkText, type Limit } from './limits.js'

const five: Limit = { field: 'f', max: 5, unit: 'bytes', reason: 'test' }

describe('checkText', () => {
  it.each([
    ['the empty string', ''],
    ['text at the byte limit', 'abcde'],
    ['two-byte characters at the limit (4 bytes)', 'éé'],
    ['space and NBSP (not controls)', ' \u00a0'],
  ])('accepts %s', (_name, value) => {
    expect(() => checkText(value, 'field', five)).not.toThrow()
  })

  it.each([
    ['6 ASCII bytes', 'abcdef', 'field: must not be longer than 5 bytes (got 6)'],
    ['3 two-byte characters', 'ééé', 'field: must not be longer than 5 bytes (got 6)'],
    ['NUL', 'ab\0', 'field: must not contain control characters (NUL at byte 2)'],
    ['SOH first', '\x01', 'field: must not contain control characters (SOH at byte 0)'],
    ['LF', 'a\nb', 'field: must not contain control characters (LF at byte 1)'],
    ['CR', 'a\rb', 'field: must not contain control characters (CR at byte 1)'],
    ['US (0x1f)', '\x1f', 'field: must not contain control characters (US at byte 0)'],
    ['DEL', '\x7f', 'field: must not contain control characters (DEL at byte 0)'],
    ['C1 U+0080', '\u0080', 'field: must not contain control characters (U+0080 at byte 0)'],
    ['C1 U+009F after a two-byte character', 'é\u009f', 'field: must not contain control characters (U+009F at byte 2)'],
  ])('refuses %s', (_name, value, message) => {
    expect(() => checkText(value, 'field', five)).toThrow(new InvalidArgumentError(message))
  })

  it('checks control characters without a length limit', () => {
    expect(() => checkText('x'.repeat(100_000), 'field')).not.toThrow()
    expect(() => checkText(`${'x'.repeat(1000)}\0`, 'field')).toThrow(new InvalidArgumentError('field: must not contain control characters (NUL at byte 1000)'))
  })

  it('reports the first control character', () => {
    expect(() => checkText('a\tb\0', 'field')).toThrow(new InvalidArgumentError('field: must not contain control characters (HT at byte 1)'))
  })
})

describe('checkCount', () => {
  const three: Limit = { field: 'l', max: 3, unit: 'things per entry', reason: 'test' }
  it('accepts up to the limit and refuses one more, with the count', () => {
    expect(() => checkCount([1, 2, 3], 'list', three)).not.toThrow()
    expect(() => checkCount([1, 2, 3, 4], 'list', three)).toThrow(new InvalidArgumentError('list: at most 3 things per entry (got 4)'))
  })
})

describe('checkAudience', () => {
  it.each<[string, string[]]>([
    ['one value', ['a']],
    ['32 values of 1024 bytes', Array.from({ length: 32 }, (_, i) => `${i}`.padEnd(1024, 'a'))],
  ])('accepts %s', (_name, audience) => {
    expect(() => checkAudience(audience)).not.toThrow()
  })

  it.each<[string, string[], string]>([
    ['no value', [], 'audience: at least one value is required'],
    ['33 values', Array.from({ length: 33 }, (_, i) => `a${i}`), 'audience: at most 32 audience values (got 33)'],
    ['10,000 values', Array.from({ length: 10_000 }, (_, i) => `a${i}`), 'audience: at most 32 audience values (got 10000)'],
    ['an empty value', ['a', ''], 'audience[1]: must not be empty'],
    ['a 1025-byte value', ['a'.repeat(1025)], 'audience[0]: must not be longer than 1024 bytes (got 1025)'],
    ['a NUL', ['spiffe://example.org/x\0'], 'audience[0]: must not contain control characters (NUL at byte 22)'],
  ])('refuses %s', (_name, audience, message) => {
    expect(() => checkAudience(audience)).toThrow(new InvalidArgumentError(message))
  })
})

describe('LIMITS', () => {
  it('every limit is a positive whole number with a unit and a reason', () => {
    for (const [name, limit] of Object.entries(LIMITS)) {
      expect(Number.isSafeInteger(limit.max) && limit.max > 0, name).toBe(true)
      expect(limit.unit, name).not.toBe('')
      expect(limit.reason, name).not.toBe('')
    }
  })

  it('the README table lists exactly these limits, in this order', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const start = readme.indexOf('### Limits of registration entries')
    expect(start).toBeGreaterThan(0)
    const section = readme.slice(start, readme.indexOf('\n## ', start))
    // The rows after the header and its separator line.
    const rows = section.split('\n').filter((line) => line.startsWith('| ')).slice(2)
    expect(rows).toEqual(Object.values(LIMITS).map((l) => `| ${l.field} | ${l.max} ${l.unit} | ${l.reason} |`))
  })
})
