import { ConfigError } from './errors.js'

/**
 * A tiny schema language for configuration: each schema parses an unknown value into a typed one
 * or throws a ConfigError naming the full key path and the rule. Defaults are applied here, and
 * unknown keys are errors, so a typo never passes silently.
 */
export interface Schema<T> {
  parse(value: unknown, path: string): T
  /** Text for documentation: type and default. */
  readonly describe: string
}

export type Infer<S> = S extends Schema<infer T> ? T : never

function fail(path: string, rule: string): never {
  throw new ConfigError(`${path} ${rule}`)
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return `a ${typeof value}`
}

export interface StringOptions {
  default?: string
  oneOf?: readonly string[]
  pattern?: RegExp
  patternRule?: string
  nonEmpty?: boolean
  check?: (value: string) => string | undefined
}

export function string(opts: StringOptions = {}): Schema<string> {
  return {
    describe: `string${opts.default !== undefined ? ` (default ${JSON.stringify(opts.default)})` : ''}`,
    parse(value, path) {
      if (value === undefined) {
        if (opts.default !== undefined) return opts.default
        fail(path, 'must be set')
      }
      if (typeof value !== 'string') fail(path, `must be a string, not ${typeName(value)}`)
      if (opts.nonEmpty && value === '') fail(path, 'must not be empty')
      if (opts.oneOf && !opts.oneOf.includes(value)) {
        fail(path, `must be one of ${opts.oneOf.map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(value)}`)
      }
      if (opts.pattern && !opts.pattern.test(value)) fail(path, opts.patternRule ?? `must match ${opts.pattern}`)
      const problem = opts.check?.(value)
      if (problem !== undefined) fail(path, problem)
      return value
    },
  }
}

export interface IntOptions {
  default?: number
  min?: number
  max?: number
}

export function int(opts: IntOptions = {}): Schema<number> {
  return {
    describe: `integer${opts.default !== undefined ? ` (default ${opts.default})` : ''}`,
    parse(value, path) {
      if (value === undefined) {
        if (opts.default !== undefined) return opts.default
        fail(path, 'must be set')
      }
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(path, `must be a whole number, not ${JSON.stringify(value)}`)
      if (opts.min !== undefined && value < opts.min) fail(path, `must be at least ${opts.min}, not ${value}`)
      if (opts.max !== undefined && value > opts.max) fail(path, `must be at most ${opts.max}, not ${value}`)
      return value
    },
  }
}

export function bool(opts: { default?: boolean } = {}): Schema<boolean> {
  return {
    describe: `boolean${opts.default !== undefined ? ` (default ${opts.default})` : ''}`,
    parse(value, path) {
      if (value === undefined) {
        if (opts.default !== undefined) return opts.default
        fail(path, 'must be set')
      }
      if (typeof value !== 'boolean') fail(path, `must be true or false, not ${JSON.stringify(value)}`)
      return value
    },
  }
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

/**
 * A duration in whole seconds: a number of seconds or a string such as `90s`, `5m`, `24h`, `1h30m`.
 */
export function durationSeconds(opts: { default?: number; min?: number; max?: number } = {}): Schema<number> {
  return {
    describe: `duration${opts.default !== undefined ? ` (default ${opts.default}s)` : ''}`,
    parse(value, path) {
      if (value === undefined) {
        if (opts.default !== undefined) return opts.default
        fail(path, 'must be set')
      }
      const seconds = parseDurationSeconds(value)
      if (seconds === undefined) fail(path, `must be a duration like "90s", "5m" or "24h" (or whole seconds), not ${JSON.stringify(value)}`)
      if (opts.min !== undefined && seconds < opts.min) fail(path, `must be at least ${opts.min}s, not ${seconds}s`)
      if (opts.max !== undefined && seconds > opts.max) fail(path, `must be at most ${opts.max}s, not ${seconds}s`)
      return seconds
    },
  }
}

/** Parses `90`, `90s`, `5m`, `1h30m`, `2d` into whole seconds; undefined when malformed. */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined
  if (typeof value !== 'string') return undefined
  if (/^\d+$/.test(value)) return Number(value)
  if (!/^(\d+[smhd])+$/.test(value)) return undefined
  let total = 0
  for (const m of value.matchAll(/(\d+)([smhd])/g)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!
  return Number.isSafeInteger(total) ? total : undefined
}

export function array<T>(item: Schema<T>, opts: { default?: T[]; minItems?: number } = {}): Schema<T[]> {
  return {
    describe: `list of ${item.describe}`,
    parse(value, path) {
      if (value === undefined) {
        if (opts.default !== undefined) return [...opts.default]
        fail(path, 'must be set')
      }
      if (!Array.isArray(value)) fail(path, `must be a list, not ${typeName(value)}`)
      if (opts.minItems !== undefined && value.length < opts.minItems) fail(path, `must have at least ${opts.minItems} item(s)`)
      return value.map((v, i) => item.parse(v, `${path}[${i}]`))
    },
  }
}

export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return {
    describe: `${inner.describe}, optional`,
    parse(value, path) {
      return value === undefined || value === null ? undefined : inner.parse(value, path)
    },
  }
}

export type Shape = Record<string, Schema<unknown>>
export type ObjectOf<S extends Shape> = { readonly [K in keyof S]: Infer<S[K]> }

/**
 * An object with exactly these keys (unknown keys are errors); absent keys take their defaults.
 * Only own keys count, on both sides: `toString`, `constructor` or `__proto__` in a config file are
 * unknown keys like any other, not members of Object.prototype.
 */
export function object<S extends Shape>(shape: S, opts: { optionalAsWhole?: boolean } = {}): Schema<ObjectOf<S>> {
  return {
    describe: 'section',
    parse(value, path) {
      if (value === undefined || value === null) {
        if (opts.optionalAsWhole === false) fail(path, 'must be set')
        value = {}
      }
      if (typeof value !== 'object' || Array.isArray(value)) fail(path, `must be a section (key: value pairs), not ${typeName(value)}`)
      const input = value as Record<string, unknown>
      for (const key of Object.keys(input)) {
        if (!Object.hasOwn(shape, key)) {
          const known = Object.keys(shape)
          fail(joinPath(path, key), `is not a known key${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`)
        }
      }
      const out: Record<string, unknown> = {}
      for (const [key, schema] of Object.entries(shape)) {
        out[key] = schema.parse(Object.hasOwn(input, key) ? input[key] : undefined, joinPath(path, key))
      }
      return Object.freeze(out) as ObjectOf<S>
    },
  }
}

/**
 * A map with free-form keys (checked by `key`) and values of one schema. A `__proto__` key stays an
 * own key of the result (a plain assignment would replace the result's prototype instead).
 */
export function record<T>(value: Schema<T>, key?: (k: string) => string | undefined): Schema<Record<string, T>> {
  return {
    describe: `map of ${value.describe}`,
    parse(input, path) {
      if (input === undefined || input === null) return {}
      if (typeof input !== 'object' || Array.isArray(input)) fail(path, `must be a section (key: value pairs), not ${typeName(input)}`)
      const out: Record<string, T> = {}
      for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
        const problem = key?.(k)
        if (problem !== undefined) fail(joinPath(path, k), problem)
        Object.defineProperty(out, k, { value: value.parse(v, joinPath(path, k)), enumerable: true, writable: true, configurable: true })
      }
      return Object.freeze(out)
    },
  }
}

function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}
