/** Log levels in increasing severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/** Structured logger: a constant message plus fields. Children add context fields once. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
  isLevelEnabled(level: LogLevel): boolean
}

/** Field names whose values are never written, whatever the caller passes (a backstop). */
const REDACTED_FIELDS = new Set(['token', 'joinToken', 'join_token', 'privateKey', 'svid', 'jwtSvid', 'password', 'secret'])

export interface JsonLoggerOptions {
  level?: LogLevel
  /** Where lines go; defaults to stderr. */
  write?: (line: string) => void
  fields?: Record<string, unknown>
  clock?: () => Date
}

class JsonLogger implements Logger {
  readonly #threshold: number
  readonly #write: (line: string) => void
  readonly #fields: Record<string, unknown>
  readonly #clock: () => Date
  readonly #level: LogLevel

  constructor(opts: JsonLoggerOptions) {
    this.#level = opts.level ?? 'info'
    this.#threshold = LEVELS[this.#level]
    this.#write = opts.write ?? ((line) => process.stderr.write(line))
    this.#fields = opts.fields ?? {}
    this.#clock = opts.clock ?? (() => new Date())
  }

  isLevelEnabled(level: LogLevel): boolean {
    return LEVELS[level] >= this.#threshold
  }

  #log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS[level] < this.#threshold) return
    const record: Record<string, unknown> = { time: this.#clock().toISOString(), level, msg, ...this.#fields }
    if (fields !== undefined) {
      for (const [key, value] of Object.entries(fields)) {
        if (value === undefined) continue
        record[key] = REDACTED_FIELDS.has(key) ? '[redacted]' : value
      }
    }
    this.#write(JSON.stringify(record, jsonReplacer) + '\n')
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.#log('debug', msg, fields)
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.#log('info', msg, fields)
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.#log('warn', msg, fields)
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.#log('error', msg, fields)
  }

  child(fields: Record<string, unknown>): Logger {
    return new JsonLogger({
      level: this.#level,
      write: this.#write,
      fields: { ...this.#fields, ...fields },
      clock: this.#clock,
    })
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Error) return value.message
  return value
}

/** A logger writing one JSON object per line (to stderr unless told otherwise). */
export function createLogger(opts: JsonLoggerOptions = {}): Logger {
  return new JsonLogger(opts)
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return createLogger({ level: 'error', write: () => {} })
}
