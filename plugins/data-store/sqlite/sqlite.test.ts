import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger, silentLogger } from '../../../common/logger.js'
import { runDataStoreSuite } from '../../../test/conformance/data-store-suite.js'
import { buildEntry } from '../../../test/fixtures/entries.js'
import { Bundle, parseSelector, parseSpiffeId, parseTrustDomain } from '../../../spiffe/index.js'
import type { NewRegistrationEntry } from '../types.js'
import {
  IN_MEMORY,
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  openSqliteDataStore,
  sqliteDataStore,
  type Migration,
  SqliteDataStore,
  type SqliteDataStoreOptions,
} from './index.js'
import { selectorCondition } from './selectors.js'

const dirs: string[] = []
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'steeple-sqlite-'))
  dirs.push(dir)
  return dir
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

async function closeIfOpen(...stores: SqliteDataStore[]): Promise<void> {
  for (const s of stores) if (s.isOpen) await s.close()
}

runDataStoreSuite(
  'sqlite (file)',
  async ({ clock }) => {
    const dir = await tempDir()
    const path = join(dir, 'datastore.sqlite3')
    const opened: SqliteDataStore[] = [openSqliteDataStore({ path, clock })]
    return {
      store: opened[0]!,
      another: async () => {
        const store = openSqliteDataStore({ path, clock })
        opened.push(store)
        return store
      },
      cleanup: async () => {
        await closeIfOpen(...opened)
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
  { sharedDatabase: true },
)

runDataStoreSuite('sqlite (:memory:)', async ({ clock }) => {
  const store = openSqliteDataStore({ path: IN_MEMORY, clock })
  return { store, cleanup: () => closeIfOpen(store) }
})

function entry(n: number, fields: Partial<NewRegistrationEntry> = {}): NewRegistrationEntry {
  return buildEntry({
    spiffeId: parseSpiffeId(`spiffe://example.org/w/${n}`),
    parentId: parseSpiffeId('spiffe://example.org/agent/1'),
    selectors: [parseSelector(`unix:uid:${n}`)],
    ...fields,
  })
}

async function open(opts: Partial<SqliteDataStoreOptions> = {}): Promise<{ store: SqliteDataStore; path: string }> {
  const path = opts.path ?? join(await tempDir(), 'datastore.sqlite3')
  return { store: openSqliteDataStore({ ...opts, path }), path }
}

/** The error openSqliteDataStore throws (fails the test when it opens). */
function openError(opts: SqliteDataStoreOptions): { code?: string; message: string } {
  let store: SqliteDataStore
  try {
    store = openSqliteDataStore(opts)
  } catch (err) {
    return err as { code?: string; message: string }
  }
  void store.close()
  throw new Error('expected openSqliteDataStore to throw')
}

describe('sqlite data store', () => {
  it('runs in WAL mode with synchronous FULL, foreign keys on and the busy timeout set', async () => {
    const { store } = await open({ busyTimeoutMs: 1234 })
    expect(store.settings()).toEqual({ journalMode: 'wal', synchronous: 2, busyTimeoutMs: 1234, foreignKeys: true })
    await store.close()
  })

  it('defaults the busy timeout to 5000 ms', async () => {
    const { store } = await open()
    expect(store.settings().busyTimeoutMs).toBe(5000)
    await store.close()
  })

  it('creates the database file owner-only, and its directory when missing', async () => {
    const path = join(await tempDir(), 'nested', 'dir', 'datastore.sqlite3')
    const { store } = await open({ path })
    await store.entries.create(entry(1))
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    await store.close()
  })

  it('BUN-09: keeps data across a reopen (entries, nodes, bundles with their sequence, tokens, events, audit)', async () => {
    const { store, path } = await open()
    const created = await store.entries.create(entry(1, { dnsNames: ['a.example'], expiresAt: new Date(Date.UTC(2031, 0, 1)) }))
    await store.bundles.append(new Bundle(parseTrustDomain('example.org'), { sequenceNumber: 0n }))
    await store.bundles.set(new Bundle(parseTrustDomain('example.org'), { sequenceNumber: 2n ** 64n - 1n }))
    const agentId = parseSpiffeId('spiffe://example.org/agent/x')
    await store.nodes.create({
      spiffeId: agentId,
      attestationType: 'x509pop',
      selectors: [parseSelector('x509pop:subject:cn:x')],
      certSerial: '01',
      certNotAfter: new Date(Date.UTC(2031, 0, 1)),
      newCertSerial: '',
      newCertNotAfter: undefined,
      banned: false,
      canReattest: true,
      lastSeenAt: undefined,
    })
    await store.joinTokens.create({ tokenHash: 'aa', expiresAt: new Date(Date.UTC(2031, 0, 1)), aliasId: undefined })
    await store.audit.append([{ at: new Date(), action: 'entry.create', actor: 'server', subject: 'x', entryId: created.id, details: { a: 1 } }])
    const latest = await store.events.latestEventId()
    await store.close()

    const reopened = openSqliteDataStore({ path })
    expect((await reopened.entries.get(created.id))?.dnsNames).toEqual(['a.example'])
    expect((await reopened.nodes.get(agentId))?.selectors.map(String)).toEqual(['x509pop:subject:cn:x'])
    expect((await reopened.bundles.get(parseTrustDomain('example.org')))?.sequenceNumber).toBe(2n ** 64n - 1n)
    expect(await reopened.joinTokens.consume('aa', new Date(Date.UTC(2030, 0, 1)))).toBeDefined()
    expect((await reopened.audit.list())[0]?.details).toEqual({ a: 1 })
    expect(await reopened.events.latestEventId()).toBe(latest)
    expect(reopened.integrityCheck()).toEqual(['ok'])
    await reopened.close()
  })

  it('records each migration once in schema_version; reopening applies none again', async () => {
    const { store, path } = await open()
    expect(store.schemaVersion).toBe(LATEST_SCHEMA_VERSION)
    await store.close()
    await openSqliteDataStore({ path }).close()
    const db = new Database(path, { readonly: true })
    const rows = db.prepare('SELECT version, name FROM schema_version ORDER BY version').all()
    db.close()
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })))
  })

  it('applies a new migration step to an existing database once, keeping its data', async () => {
    const { store, path } = await open()
    await store.entries.create(entry(1, { id: 'kept' }))
    await store.close()
    const next: Migration = {
      version: LATEST_SCHEMA_VERSION + 1,
      name: 'test-step',
      up: (db) => db.prepare("UPDATE entries SET description = 'migrated'").run(),
    }
    const steps = [...MIGRATIONS, next]
    const lines: string[] = []
    const log = createLogger({ level: 'info', write: (line) => void lines.push(line) })
    const upgraded = openSqliteDataStore({ path, migrations: steps, log })
    expect(upgraded.schemaVersion).toBe(LATEST_SCHEMA_VERSION + 1)
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([
      { level: 'info', msg: 'Data store schema migrated', from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION + 1 },
    ])
    expect((await upgraded.entries.get('kept'))?.description).toBe('migrated')
    await upgraded.entries.update({ ...(await upgraded.entries.get('kept'))!, description: 'changed later' })
    await upgraded.close()
    // Again: nothing to apply, so the step does not overwrite the later change.
    const again = openSqliteDataStore({ path, migrations: steps })
    expect((await again.entries.get('kept'))?.description).toBe('changed later')
    await again.close()
  })

  it('refuses to open a database written by a newer schema, with a message saying what to do', async () => {
    const { store, path } = await open()
    await store.close()
    const db = new Database(path)
    db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST_SCHEMA_VERSION + 5, 'future', 0)
    db.close()
    const err = openError({ path })
    expect(err.code).toBe('FAILED_PRECONDITION')
    expect(err.message).toBe(
      `datastore: database schema version ${LATEST_SCHEMA_VERSION + 5} is newer than this version of Steeple supports ` +
        `(${LATEST_SCHEMA_VERSION}): run a Steeple release that knows it, or restore a backup taken before the upgrade`,
    )
  })

  it('refuses a file that is not a SQLite database with FailedPreconditionError', async () => {
    const path = join(await tempDir(), 'datastore.sqlite3')
    await writeFile(path, 'this is not a database, but it is long enough to have a header of sorts'.repeat(20))
    const err = openError({ path })
    expect(err.code).toBe('FAILED_PRECONDITION')
    expect(err.message).toBe(`datastore: ${path} is not a usable SQLite database`)
  })

  it('rolls a failed migration back whole', async () => {
    const path = join(await tempDir(), 'datastore.sqlite3')
    const broken: Migration = { version: LATEST_SCHEMA_VERSION + 1, name: 'broken', up: 'CREATE TABLE half (x INTEGER); SELECT no_such_function()' }
    expect(() => openSqliteDataStore({ path, migrations: [...MIGRATIONS, broken] })).toThrow(/no_such_function/)
    const db = new Database(path, { readonly: true })
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('half', 'entries', 'schema_version')").pluck().all()
    db.close()
    expect(tables).toEqual([])
  })

  it('maps a busy database to UnavailableError after the busy timeout', async () => {
    const { store, path } = await open({ busyTimeoutMs: 50 })
    const blocker = new Database(path)
    blocker.exec('BEGIN IMMEDIATE')
    try {
      const err = await store.entries.create(entry(1)).catch((e: unknown) => e)
      expect((err as { code?: string }).code).toBe('UNAVAILABLE')
      expect((err as Error).message).toBe('datastore: the database is busy (another writer holds the lock)')
    } finally {
      blocker.exec('ROLLBACK')
      blocker.close()
    }
    expect(await store.entries.count()).toBe(0)
    await store.close()
  })

  it('plugin: resolves a relative path under the data directory and validates its config', async () => {
    const dataDir = await tempDir()
    const config = sqliteDataStore.config.parse({ path: 'db/store.sqlite3', busy_timeout_ms: 250 }, 'plugins.DataStore.sqlite')
    const host = { log: silentLogger(), trustDomain: parseTrustDomain('example.org'), dataDir, clock: () => new Date() }
    const store = await sqliteDataStore.create(config, host)
    expect(store).toBeInstanceOf(SqliteDataStore)
    expect((store as SqliteDataStore).settings().busyTimeoutMs).toBe(250)
    await store.close()
    await stat(join(dataDir, 'db', 'store.sqlite3'))
    expect(sqliteDataStore.config.parse(undefined, 'p')).toEqual({ path: 'datastore.sqlite3', busy_timeout_ms: 5000 })
    expect(() => sqliteDataStore.config.parse({ journal_mode: 'delete' }, 'plugins.DataStore.sqlite')).toThrow(
      /plugins\.DataStore\.sqlite\.journal_mode is not a known key/,
    )
  })

  it('lists 100k entries with one query, and filters by selectors through the (type, value) index', async () => {
    const { store: fresh, path } = await open()
    await fresh.close()
    const seed = new Database(path)
    seed.exec(SEED_100K)
    seed.close()
    const statements: string[] = []
    const store = openSqliteDataStore({ path, trace: (sql) => statements.push(sql) })
    statements.length = 0
    const all = await store.entries.list()
    // One query for all 100k entries (never one per entry); speed is measured in benchmarks.
    expect(statements).toHaveLength(1)
    expect(all.items).toHaveLength(100_000)
    expect(all.items[41]!.selectors.map(String)).toEqual(['k8s:ns:5', 'unix:uid:42'])
    expect(all.items[41]!.parentId.toString()).toBe('spiffe://example.org/agent/42')

    statements.length = 0
    const match = await store.entries.list({ selectors: { match: 'subset', selectors: [parseSelector('unix:uid:42'), parseSelector('k8s:ns:5')] } })
    expect(match.items.map((e) => e.id)).toEqual(['e42'])
    expect(statements).toHaveLength(1)
    await store.close()

    const db = new Database(path, { readonly: true })
    const t = { table: 'entry_selectors', ownerColumn: 'entry_seq', ownerTable: 'entries', alias: 'e', hasCount: true }
    for (const mode of ['exact', 'subset', 'superset', 'any'] as const) {
      const c = selectorCondition(t, mode, [parseSelector('unix:uid:42'), parseSelector('k8s:ns:5')])
      const plan = (db.prepare(`EXPLAIN QUERY PLAN SELECT e.seq FROM entries e WHERE ${c.sql} ORDER BY e.seq`).all(...c.params) as { detail: string }[]).map(
        (r) => r.detail,
      )
      expect(plan.some((d) => d.includes('entry_selectors_type_value')), `${mode}: ${plan.join('; ')}`).toBe(true)
      // A bare "SCAN e" (or o, z) would read every entry.
      expect(plan.filter((d) => /^SCAN [eoz]$/.test(d)), `${mode}: ${plan.join('; ')}`).toEqual([])
    }
    db.close()
  })

  it('a join token consumed by four processes at once is handed to exactly one', async () => {
    const { store, path } = await open()
    const tokenHash = createHash('sha256').update('race').digest('hex')
    await store.joinTokens.create({ tokenHash, expiresAt: new Date(Date.now() + 600_000), aliasId: undefined })
    await store.close()
    const children = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ['--import', 'tsx', CHILD, 'consume', path, tokenHash], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] }),
    )
    const lines = children.map((child) => createInterface({ input: child.stdout })[Symbol.asyncIterator]())
    for (const line of lines) expect((await line.next()).value).toBe('ready')
    for (const child of children) child.stdin.write('go\n')
    const results = await Promise.all(lines.map(async (line) => (await line.next()).value as string))
    await Promise.all(children.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)))
    expect(results.sort()).toEqual(['lost', 'lost', 'lost', 'won'])
  })
})

const CHILD = fileURLToPath(new URL('../../../test/integration/sqlite-child.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

/** 100k entries e1…e100000 under 1000 agents, two selectors each, written as the store would. */
const SEED_100K = `
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO entries (seq, id, spiffe_id, parent_id, selectors_key, selector_count, x509_svid_ttl_seconds,
  jwt_svid_ttl_seconds, dns_names, federates_with, admin, downstream, expires_at, hint, store_svid,
  revision_number, created_at, owner, description)
SELECT i, 'e' || i, 'spiffe://example.org/w/' || i, 'spiffe://example.org/agent/' || (i % 1000),
  json_array('k8s:ns:' || (i % 37), 'unix:uid:' || i), 2, 0, 0, '[]', '[]', 0, 0, NULL, '', 0, 0, 0, '', ''
FROM n;
INSERT INTO entry_selectors (entry_seq, type, value) SELECT seq, 'k8s', 'ns:' || (seq % 37) FROM entries;
INSERT INTO entry_selectors (entry_seq, type, value) SELECT seq, 'unix', 'uid:' || seq FROM entries;
`
