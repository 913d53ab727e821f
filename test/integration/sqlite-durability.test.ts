import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { openSqliteDataStore } from '../../plugins/data-store/sqlite/index.js'

const CHILD = fileURLToPath(new URL('./sqlite-child.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

/**
 * Runs the writer child until it has acknowledged `atLeast` entries, then SIGKILLs it mid-stream.
 * Returns every ID it printed: each was committed before it was printed.
 */
async function writeThenKill(path: string, atLeast: number): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'write', path], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = once(child, 'exit')
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      if (stdout.split('\n').length > atLeast) resolve()
    })
    child.on('exit', (code) => reject(new Error(`writer exited early (code ${code}): ${stderr}`)))
  })
  child.kill('SIGKILL')
  const [code, signal] = await exited
  expect([code, signal]).toEqual([null, 'SIGKILL'])
  // Only whole lines count: a line is written in one synchronous write after the commit.
  const lines = stdout.split('\n')
  return lines.slice(0, -1)
}

describe('sqlite durability', () => {
  it('every entry acknowledged before a kill -9 is there after reopening, and the database is sound', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steeple-durability-'))
    dirs.push(dir)
    const path = join(dir, 'datastore.sqlite3')
    const acknowledged: string[] = []
    // Two rounds: the second writer starts on a database left behind by a killed one.
    for (const atLeast of [300, 150]) {
      acknowledged.push(...(await writeThenKill(path, atLeast)))

      const raw = new Database(path)
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok')
      expect(raw.pragma('foreign_key_check')).toEqual([])
      raw.close()

      const store = openSqliteDataStore({ path })
      const present = new Set((await store.entries.list()).items.map((e) => e.id))
      expect(acknowledged.filter((id) => !present.has(id))).toEqual([])
      // Each entry came with its change event in the same transaction.
      const events = new Set((await store.events.listSince(0)).map((e) => e.key))
      expect([...present].filter((id) => !events.has(id))).toEqual([])
      expect(store.integrityCheck()).toEqual(['ok'])
      await store.close()
    }
    expect(acknowledged.length).toBeGreaterThanOrEqual(450)
    expect(new Set(acknowledged).size).toBe(acknowledged.length)
  })
})
