import type { Database } from 'better-sqlite3'
import { FailedPreconditionError } from '../../../../common/errors.js'
import { initial } from './0001-initial.js'

/**
 * One schema step. Steps are applied in version order, each in the same transaction as its row
 * in `schema_version`, and never edited once released: a change is a new step.
 */
export interface Migration {
  /** 1, 2, 3, … without gaps. */
  readonly version: number
  readonly name: string
  /** SQL to run, or a function for steps that must move data in code. */
  readonly up: string | ((db: Database) => void)
}

/** Every step, oldest first. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([initial])

/** The schema version this code writes. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version

export interface MigrationResult {
  /** Version found when opening (0 for a new database). */
  readonly from: number
  /** Version after migrating. */
  readonly to: number
}

/**
 * Brings the database to {@link LATEST_SCHEMA_VERSION}. Runs in one IMMEDIATE transaction, so two
 * servers starting on the same file apply each step once. Safe to call on an up-to-date database.
 * @throws FailedPreconditionError when the database was written by a newer Steeple (a schema
 *   version this code does not know): opening it could corrupt data the newer code relies on.
 */
export function migrate(db: Database, now: () => Date, steps: readonly Migration[] = MIGRATIONS): MigrationResult {
  const latest = steps.length === 0 ? 0 : steps[steps.length - 1]!.version
  const run = db.transaction((): MigrationResult => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
      version    INTEGER PRIMARY KEY,
      name       TEXT    NOT NULL,
      applied_at INTEGER NOT NULL
    )`)
    const row = db.prepare('SELECT MAX(version) AS version FROM schema_version').get() as { version: number | null }
    const from = row.version ?? 0
    if (from > latest) {
      throw new FailedPreconditionError(
        `datastore: database schema version ${from} is newer than this version of Steeple supports (${latest}): ` +
          'run a Steeple release that knows it, or restore a backup taken before the upgrade',
      )
    }
    const record = db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)')
    for (const step of steps) {
      if (step.version <= from) continue
      if (typeof step.up === 'string') db.exec(step.up)
      else step.up(db)
      record.run(step.version, step.name, now().getTime())
    }
    return { from, to: Math.max(from, latest) }
  })
  return run.immediate()
}
