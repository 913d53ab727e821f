import { describe, expect, it } from 'vitest'
import { SpiffeError } from './errors.js'
import {
  MAX_SELECTOR_BYTES,
  Selector,
  SelectorSet,
  compareSelectors,
  formatSelectors,
  matchesSelectors,
  parseSelector,
  selectorFromParts,
  sortSelectors,
} from './selector.js'
import { thrown as caught } from './testdata/thrown.js'


const sels = (...s: string[]): Selector[] => s.map(parseSelector)

describe('parseSelector', () => {
  const accepted: [string, string, string][] = [
    ['unix:uid:1000', 'unix', 'uid:1000'],
    ['docker:label:app:web', 'docker', 'label:app:web'],
    ['k8s_psat:cluster:prod', 'k8s_psat', 'cluster:prod'],
    ['join-token:0f3e', 'join-token', '0f3e'],
    ['unix:path:/usr/bin/my app', 'unix', 'path:/usr/bin/my app'],
    ['x::', 'x', ':'],
    ['unix:ünïcode', 'unix', 'ünïcode'],
  ]
  it.each(accepted)('splits %j at the first colon', (input, type, value) => {
    const selector = parseSelector(input)
    expect(selector.type).toBe(type)
    expect(selector.value).toBe(value)
    expect(selector.toString()).toBe(input)
    expect(selector.toJSON()).toEqual({ type, value })
    expect(selector.equals(selectorFromParts(type, value))).toBe(true)
    expect(parseSelector(selector.toString()).equals(selector)).toBe(true)
  })

  const rejected: [string, string][] = [
    ['', 'must have the form type:value'],
    ['unix', 'must have the form type:value'],
    [':uid:1000', 'type must not be empty'],
    ['unix:', 'value must not be empty'],
    [' unix:uid:1000', 'type must not contain whitespace or control characters'],
    ['un ix:uid:1000', 'type must not contain whitespace or control characters'],
    ['unix\t:uid:1000', 'type must not contain whitespace or control characters'],
    ['unix\n:uid:1000', 'type must not contain whitespace or control characters'],
    ['\x00unix:uid:1000', 'type must not contain whitespace or control characters'],
    ['Unix:uid:1000', 'type characters are limited to lowercase letters, numbers, dashes, and underscores'],
    ['k8s.psat:x', 'type characters are limited to lowercase letters, numbers, dashes, and underscores'],
    ['ünix:uid:1', 'type characters are limited to lowercase letters, numbers, dashes, and underscores'],
    [`unix:${'a'.repeat(MAX_SELECTOR_BYTES - 4)}`, `must not be longer than ${MAX_SELECTOR_BYTES} bytes`],
    [`unix:${'é'.repeat(510)}`, `must not be longer than ${MAX_SELECTOR_BYTES} bytes`],
  ]
  it.each(rejected)('rejects %j', (input, rule) => {
    const err = caught(() => parseSelector(input))
    expect(err.code).toBe('INVALID_SELECTOR')
    expect(err.message).toBe(`selector: ${rule}`)
  })

  it('accepts exactly 1024 bytes', () => {
    const input = `unix:${'a'.repeat(MAX_SELECTOR_BYTES - 5)}`
    expect(Buffer.byteLength(input)).toBe(MAX_SELECTOR_BYTES)
    expect(parseSelector(input).toString()).toBe(input)
  })

  it('selectorFromParts applies the same rules', () => {
    expect(caught(() => selectorFromParts('unix', '')).message).toBe('selector: value must not be empty')
    expect(caught(() => selectorFromParts('un:ix', 'x')).message).toBe(
      'selector: type characters are limited to lowercase letters, numbers, dashes, and underscores',
    )
    expect(selectorFromParts('unix', 'uid:0').toString()).toBe('unix:uid:0')
  })

  it('a Selector cannot be built except by parsing', () => {
    expect(() => new Selector(Symbol('construct'), 'unix', 'uid:0')).toThrow(TypeError)
  })
})

describe('SelectorSet', () => {
  it('removes duplicates and iterates sorted by type, then value', () => {
    const set = new SelectorSet(sels('unix:uid:1000', 'docker:label:app:web', 'unix:gid:0', 'unix:uid:1000', 'a-b:x', 'a:y'))
    expect(set.size).toBe(5)
    expect(set.toStrings()).toEqual(['a:y', 'a-b:x', 'docker:label:app:web', 'unix:gid:0', 'unix:uid:1000'])
    expect([...set].map(String)).toEqual(set.toStrings())
    expect(set.toJSON()[0]).toEqual({ type: 'a', value: 'y' })
  })

  it('has and includesAll compare by value, not by object', () => {
    const set = new SelectorSet(sels('unix:uid:1000', 'unix:gid:0'))
    expect(set.has(parseSelector('unix:uid:1000'))).toBe(true)
    expect(set.has(parseSelector('unix:uid:1001'))).toBe(false)
    expect(set.includesAll(sels('unix:gid:0', 'unix:uid:1000'))).toBe(true)
    expect(set.includesAll(sels('unix:gid:0', 'unix:uid:1'))).toBe(false)
    expect(set.includesAll([])).toBe(true)
    expect(set.equals(new SelectorSet(sels('unix:gid:0', 'unix:uid:1000', 'unix:gid:0')))).toBe(true)
    expect(set.equals(new SelectorSet(sels('unix:gid:0')))).toBe(false)
  })

  it('a type cannot absorb part of the value: unix:a:b differs from the type unix:a', () => {
    const set = new SelectorSet(sels('unix:a:b'))
    expect(set.has(selectorFromParts('unix', 'a:b'))).toBe(true)
    expect(() => selectorFromParts('unix:a', 'b')).toThrow(SpiffeError)
  })
})

describe('matchesSelectors (registration entry matching)', () => {
  const workload = new SelectorSet(sels('unix:uid:1000', 'unix:gid:1000', 'docker:label:app:web'))
  const cases: [string, string[], boolean][] = [
    ['all entry selectors present', ['unix:uid:1000'], true],
    ['several, all present', ['unix:uid:1000', 'docker:label:app:web'], true],
    ['exactly the workload set', ['unix:uid:1000', 'unix:gid:1000', 'docker:label:app:web'], true],
    ['duplicates in the entry', ['unix:uid:1000', 'unix:uid:1000'], true],
    ['one missing', ['unix:uid:1000', 'unix:uid:0'], false],
    ['value differs', ['unix:uid:100'], false],
    ['type differs', ['k8s:uid:1000'], false],
    ['more than the workload has', ['unix:uid:1000', 'unix:gid:1000', 'docker:label:app:web', 'docker:image:x'], false],
    ['no selectors matches nothing', [], false],
  ]
  it.each(cases)('%s', (_title, entry, expected) => {
    expect(matchesSelectors(sels(...entry), workload)).toBe(expected)
    expect(matchesSelectors(new SelectorSet(sels(...entry)), workload)).toBe(expected)
  })

  it('an entry without selectors does not match a workload without selectors either', () => {
    expect(matchesSelectors([], new SelectorSet())).toBe(false)
  })

  it('matches many entries against one workload', () => {
    const entries = Array.from({ length: 20_000 }, (_, i) => sels(`unix:uid:${i % 2000}`, `docker:label:app:${i % 7}`))
    const attested = new SelectorSet(sels('unix:uid:42', 'docker:label:app:0', 'unix:gid:0'))
    const matched = entries.filter((entry) => matchesSelectors(entry, attested)).length
    // uid 42 appears at i = 42 + 2000k (10 of them); app 0 needs i % 7 === 0: k ≡ 0 (mod 7) → k ∈ {0, 7}.
    expect(matched).toBe(2)
  })
})

describe('sorting and formatting', () => {
  it('compareSelectors orders by type first, then value', () => {
    const [a, b, c] = sels('a:z', 'a-b:a', 'a:a')
    expect(compareSelectors(a!, b!)).toBeLessThan(0)
    expect(compareSelectors(c!, a!)).toBeLessThan(0)
    expect(compareSelectors(a!, parseSelector('a:z'))).toBe(0)
  })

  it('sortSelectors dedups and sorts without changing its input', () => {
    const input = sels('unix:uid:1', 'docker:x', 'unix:uid:1')
    expect(sortSelectors(input).map(String)).toEqual(['docker:x', 'unix:uid:1'])
    expect(input.map(String)).toEqual(['unix:uid:1', 'docker:x', 'unix:uid:1'])
  })

  it('formatSelectors gives stable output whatever the order', () => {
    expect(formatSelectors(sels('unix:uid:1', 'docker:label:app:web'))).toBe('docker:label:app:web, unix:uid:1')
    expect(formatSelectors(sels('docker:label:app:web', 'unix:uid:1'))).toBe('docker:label:app:web, unix:uid:1')
    expect(formatSelectors([])).toBe('')
  })
})
