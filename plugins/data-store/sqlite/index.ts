import { isAbsolute, resolve } from 'node:path'
import * as s from '../../../common/schema.js'
import { definePlugin, type PluginHost } from '../../registry.js'
import { DEFAULT_BUSY_TIMEOUT_MS, IN_MEMORY, openSqliteDataStore } from './data-store.js'

export {
  DEFAULT_BUSY_TIMEOUT_MS,
  IN_MEMORY,
  openSqliteDataStore,
  SqliteDataStore,
  type SqliteDataStoreOptions,
  type SqliteSettings,
} from './data-store.js'
export { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate, type Migration, type MigrationResult } from './migrations/index.js'

/** Config section `plugins.DataStore.sqlite`; see README.md. */
export const sqliteConfigSchema = s.object({
  /** Database file; relative paths are under the server's data directory; `:memory:` keeps nothing. */
  path: s.string({ default: 'datastore.sqlite3', nonEmpty: true }),
  /** How long a write waits for another connection's lock before failing, in milliseconds. */
  busy_timeout_ms: s.int({ default: DEFAULT_BUSY_TIMEOUT_MS, min: 0, max: 600_000 }),
})

/** The data store plugin on an embedded SQLite database file. */
export const sqliteDataStore = definePlugin({
  kind: 'DataStore',
  name: 'sqlite',
  config: sqliteConfigSchema,
  create: (config, host: PluginHost) =>
    openSqliteDataStore({
      path: config.path === IN_MEMORY || isAbsolute(config.path) ? config.path : resolve(host.dataDir, config.path),
      busyTimeoutMs: config.busy_timeout_ms,
      clock: host.clock,
      log: host.log,
    }),
})
