import type Database from 'better-sqlite3'
import { AlreadyExistsError, InvalidArgumentError, UnavailableError } from '../../../common/errors.js'
import type { ChangeKind } from '../types.js'

type Statement = Database.Statement<unknown[], unknown>

/**
 * One open database shared by the narrow stores: prepared statements (each SQL text prepared
 * once), transactions, change events, the closed state and the mapping of SQLite errors.
 */
export class Connection {
  readonly db: Database.Database
  readonly clock: () => Date
  readonly #statements = new Map<string, Statement>()
  readonly #transaction: Database.Transaction<(fn: () => unknown) => unknown>
  #closed = false

  constructor(db: Database.Database, clock: () => Date) {
    this.db = db
    this.clock = clock
    this.#transaction = db.transaction((fn: () => unknown) => fn())
  }

  get closed(): boolean {
    return this.#closed
  }

  /**
   * The prepared statement for `sql`, prepared on first use. Values always travel as parameters,
   * so the texts come from a small fixed set (one per filter shape) and the cache stays small.
   */
  statement<Result = unknown>(sql: string): Database.Statement<unknown[], Result> {
    let stmt = this.#statements.get(sql)
    if (stmt === undefined) {
      stmt = this.db.prepare(sql)
      this.#statements.set(sql, stmt)
    }
    return stmt as Database.Statement<unknown[], Result>
  }

  /**
   * Runs `fn` in an IMMEDIATE transaction: the write lock is taken at BEGIN, so a check followed
   * by a write (uniqueness, one-time tokens, read-modify-write of bundles) is atomic even against
   * other processes on the same file.
   */
  write<T>(fn: () => T): T {
    this.assertOpen()
    try {
      return this.#transaction.immediate(fn) as T
    } catch (err) {
      throw mapSqliteError(err)
    }
  }

  /** Runs a read; one statement sees one snapshot, several need {@link readSnapshot}. */
  read<T>(fn: () => T): T {
    this.assertOpen()
    try {
      return fn()
    } catch (err) {
      throw mapSqliteError(err)
    }
  }

  /** Runs several reads on one snapshot (a DEFERRED transaction that never writes). */
  readSnapshot<T>(fn: () => T): T {
    this.assertOpen()
    try {
      return this.#transaction.deferred(fn) as T
    } catch (err) {
      throw mapSqliteError(err)
    }
  }

  /** Appends a change event; call inside {@link write}, so it commits with the change. */
  appendEvent(kind: ChangeKind, key: string, atMs: number): void {
    this.statement('INSERT INTO change_events (kind, key, at) VALUES (?, ?, ?)').run(kind, key, atMs)
  }

  close(): void {
    this.assertOpen()
    this.#closed = true
    this.#statements.clear()
    // Lets SQLite refresh statistics the query planner uses, as its documentation advises
    // before closing a connection that ran many queries.
    this.db.pragma('optimize')
    this.db.close()
  }

  /** @throws UnavailableError once closed. */
  assertOpen(): void {
    if (this.#closed) throw new UnavailableError('datastore: the store is closed')
  }
}

interface SqliteErrorLike {
  readonly code: string
}

function isSqliteError(err: unknown): err is Error & SqliteErrorLike {
  return err instanceof Error && err.name === 'SqliteError' && typeof (err as Partial<SqliteErrorLike>).code === 'string'
}

/**
 * SQLite errors become our own where a caller can act on them. Each store checks uniqueness
 * itself to name the record in its message; the constraint mapping here is the backstop, and like
 * every message here it never carries SQL or table names.
 */
function mapSqliteError(err: unknown): unknown {
  if (!isSqliteError(err)) return err
  if (err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new AlreadyExistsError('datastore: the record already exists', { cause: err })
  }
  if (err.code.startsWith('SQLITE_BUSY') || err.code.startsWith('SQLITE_LOCKED')) {
    return new UnavailableError('datastore: the database is busy (another writer holds the lock)', { cause: err })
  }
  return err
}

/** Milliseconds since the epoch of a Date, checked (an invalid Date would store NULL). */
export function toMs(date: Date): number {
  const ms = date.getTime()
  if (Number.isNaN(ms)) throw new TypeError('datastore: invalid Date')
  return ms
}

export function toMsOrNull(date: Date | undefined): number | null {
  return date === undefined ? null : toMs(date)
}

export function fromMsOrUndefined(ms: number | null): Date | undefined {
  return ms === null ? undefined : new Date(ms)
}

/** SQLite has no booleans: 0/1. */
export function toFlag(value: boolean): number {
  return value ? 1 : 0
}

// Page tokens are the internal sequence of the last record returned; opaque to callers.
const PAGE_TOKEN = /^[0-9]{1,15}$/

/**
 * Reads a page request: `after` is the sequence to continue after, `limit` the SQL LIMIT (one
 * more than the page size, to learn whether another page follows; -1 = no limit).
 * @throws InvalidArgumentError for a token this store did not make.
 */
export function readPage(page: { pageToken?: string; pageSize?: number } | undefined): { after: number; size: number; limit: number } {
  const token = page?.pageToken ?? ''
  if (token !== '' && !PAGE_TOKEN.test(token)) throw new InvalidArgumentError('page_token: is not a token from a previous page')
  const size = page?.pageSize ?? 0
  if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgumentError('page_size: must be a whole number, 0 or more')
  return { after: token === '' ? 0 : Number(token), size, limit: size > 0 ? size + 1 : -1 }
}

/** Cuts the extra row off a page and makes the token for the next one. */
export function finishPage<R extends { seq: number }, T>(rows: R[], size: number, convert: (row: R) => T): { items: T[]; nextPageToken?: string } {
  if (size > 0 && rows.length > size) {
    const page = rows.slice(0, size)
    return { items: page.map(convert), nextPageToken: String(page[page.length - 1]!.seq) }
  }
  return { items: rows.map(convert) }
}
