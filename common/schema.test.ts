import { describe, expect, it } from 'vitest'
import { parseConfigText } from './config-file.js'
import { ConfigError } from './errors.js'
import * as s from './schema.js'

const section = s.object({ name: s.string({ default: 'x' }), inner: s.object({ port: s.int({ default: 1 }) }) })

describe('object: keys named like Object.prototype members', () => {
  const builtIns = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']

  it.each(builtIns)('refuses %s at the top, from YAML and from JSON, naming the key path', (key) => {
    expect(() => section.parse(parseConfigText(`${key}: 1\n`, 'test.yaml'), '')).toThrow(new ConfigError(`${key} is not a known key (known: name, inner)`))
    expect(() => section.parse(JSON.parse(`{"${key}": {"polluted": true}}`), '')).toThrow(new ConfigError(`${key} is not a known key (known: name, inner)`))
  })

  it.each(builtIns)('refuses %s in a nested section, naming the key path', (key) => {
    expect(() => section.parse(parseConfigText(`inner:\n  ${key}: {}\n`, 'test.yaml'), 'root')).toThrow(new ConfigError(`root.inner.${key} is not a known key (known: port)`))
  })

  it('reads known keys from the input only, never from its prototype', () => {
    const input = Object.create({ name: 'inherited' }) as Record<string, unknown>
    expect(section.parse(input, '').name).toBe('x')
  })
})

describe('record: a __proto__ key', () => {
  it('stays an own key of the result, and the prototype is unchanged', () => {
    const parsed = s.record(s.record(s.int())).parse(parseConfigText('__proto__:\n  polluted: 1\nok:\n  a: 2\n', 'test.yaml'), 'plugins.Kind')
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
    expect(Object.keys(parsed)).toEqual(['__proto__', 'ok'])
    expect((parsed as Record<string, unknown>)['polluted']).toBeUndefined()
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual({ polluted: 1 })
    expect(Object.isFrozen(parsed)).toBe(true)
  })

  it('checks the __proto__ key and its value like any other', () => {
    const names = s.record(s.int(), (k) => (/^[a-z_]+$/.test(k) && !k.startsWith('_') ? undefined : 'must be a lower-case name'))
    expect(() => names.parse(JSON.parse('{"__proto__": 1}'), 'plugins')).toThrow(new ConfigError('plugins.__proto__ must be a lower-case name'))
    expect(() => s.record(s.int()).parse(JSON.parse('{"__proto__": "x"}'), 'plugins')).toThrow(new ConfigError('plugins.__proto__ must be a whole number, not "x"'))
  })
})
