import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { FailedPreconditionError } from '../../../common/errors.js'
import type { Logger } from '../../../common/logger.js'
import type { DataStore } from '../types.js'
import { SqliteAuditStore } from './audit.js'
import { SqliteBundleStore } from './bundles.js'
import { Connection } from './connection.js'
import { SqliteEntryStore } from './entries.js'
import { SqliteEventStore } from './events.js'
import { SqliteJoinTokenStore } from './join-tokens.js'
import { migrate, type Migration, MIGRATIONS } from './migrations/index.js'
import { SqliteNodeStore } from './nodes.js'

/** `path` for a database that lives in memory only (tests). */
export const IN_MEMORY = ':memory:'

/** Default for {@link SqliteDataStoreOptions.busyTimeoutMs}. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000

export interface SqliteDataStoreOptions {
  /** Database file (absolute, or relative to the working directory), or {@link IN_MEMORY}. */
  readonly path: string
  /** How long a write waits for another connection's lock; {@link DEFAULT_BUSY_TIMEOUT_MS} when absent. */
  readonly busyTimeoutMs?: number
  /** Stamps createdAt and change-event times; the current time when absent. */
  readonly clock?: () => Date
  readonly log?: Logger
  /** Schema steps; the released ones when absent (tests pass others). */
  readonly migrations?: readonly Migration[]
  /** Called with the SQL of every statement run (debugging, and tests that count queries). */
  readonly trace?: (sql: string) => void
}

/** Connection settings as SQLite reports them (for health output and tests). */
export interface SqliteSettings {
  readonly journalMode: string
  /** 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
  readonly synchronous: number
  readonly busyTimeoutMs: number
  readonly foreignKeys: boolean
}

/**
 * Opens (creating if needed) a SQLite data store: WAL journal, `synchronous = FULL`, foreign
 * keys on, schema migrated to the latest version.
 * @throws FailedPreconditionError when the file is not a SQLite database, is not in WAL mode after
 *   asking for it, or has a schema newer than this code.
 */
export function openSqliteDataStore(options: SqliteDataStoreOptions): SqliteDataStore {
  const inMemory = options.path === IN_MEMORY
  if (!inMemory) createPrivateFile(options.path)
  const db = new Database(options.path, {
    timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    ...(options.trace === undefined ? {} : { verbose: (sql: unknown) => options.trace!(String(sql)) }),
  })
  try {
    const journalMode = String(db.pragma('journal_mode = WAL', { simple: true }))
    // A database in memory has no journal file; every other must be in WAL mode.
    if (!inMemory && journalMode !== 'wal') {
      throw new FailedPreconditionError(`datastore: the database could not be switched to WAL journal mode (it is in ${journalMode} mode)`)
    }
    // FULL: in WAL mode every commit fsyncs the WAL, so a write we acknowledged survives a power
    // loss; NORMAL syncs only at checkpoints and can lose the last commits.
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    const clock = options.clock ?? (() => new Date())
    const result = migrate(db, clock, options.migrations ?? MIGRATIONS)
    if (result.from !== result.to) options.log?.info('Data store schema migrated', { from: result.from, to: result.to })
    options.log?.debug('Data store opened', { path: options.path, schemaVersion: result.to })
    return new SqliteDataStore(new Connection(db, clock), result.to)
  } catch (err) {
    db.close()
    if (err instanceof Error && 'code' in err && (err.code === 'SQLITE_NOTADB' || err.code === 'SQLITE_CORRUPT')) {
      throw new FailedPreconditionError(`datastore: ${options.path} is not a usable SQLite database`, { cause: err })
    }
    throw err
  }
}

/** Creates the file owner-only before SQLite does (its default honours the umask, often 0644). */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  closeSync(openSync(path, 'a', 0o600))
}

/** The DataStore on one SQLite connection; see plugins/data-store/types.ts for the contract. */
export class SqliteDataStore implements DataStore {
  readonly entries: SqliteEntryStore
  readonly nodes: SqliteNodeStore
  readonly bundles: SqliteBundleStore
  readonly joinTokens: SqliteJoinTokenStore
  readonly events: SqliteEventStore
  readonly audit: SqliteAuditStore
  /** Schema version of the open database. */
  readonly schemaVersion: number
  readonly #c: Connection

  /** @internal use {@link openSqliteDataStore} */
  constructor(conn: Connection, schemaVersion: number) {
    this.#c = conn
    this.schemaVersion = schemaVersion
    this.entries = new SqliteEntryStore(conn)
    this.nodes = new SqliteNodeStore(conn)
    this.bundles = new SqliteBundleStore(conn)
    this.joinTokens = new SqliteJoinTokenStore(conn)
    this.events = new SqliteEventStore(conn)
    this.audit = new SqliteAuditStore(conn)
  }

  /** False once closed. */
  get isOpen(): boolean {
    return !this.#c.closed
  }

  /** The connection's journal mode, sync level, busy timeout and foreign-key setting. */
  settings(): SqliteSettings {
    return this.#c.read(() => ({
      journalMode: String(this.#c.db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.#c.db.pragma('synchronous', { simple: true })),
      busyTimeoutMs: Number(this.#c.db.pragma('busy_timeout', { simple: true })),
      foreignKeys: Number(this.#c.db.pragma('foreign_keys', { simple: true })) === 1,
    }))
  }

  /** `PRAGMA integrity_check`: `['ok']` for a sound database, else the problems found. */
  integrityCheck(): string[] {
    return this.#c.read(() => (this.#c.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check))
  }

  async close(): Promise<void> {
    this.#c.close()
  }
}
