/**
 * A separate process working on a SQLite data store, for tests that need real concurrency or a
 * real crash (`node --import tsx test/integration/sqlite-child.ts <mode> <db path> …`):
 *
 * - `write <path>`: creates entries in a loop, printing each ID on stdout once create() resolved
 *   (stdout to a pipe is synchronous on Linux, so a printed ID was committed before it was seen).
 * - `consume <path> <token hash>`: opens the store, prints `ready`, waits for a line on stdin (so
 *   that several children try at the same moment), consumes the token, prints `won` or `lost`.
 */
import { once } from 'node:events'
import { openSqliteDataStore } from '../../plugins/data-store/sqlite/index.js'
import { parseSelector, parseSpiffeId } from '../../spiffe/index.js'
import { buildEntry } from '../fixtures/entries.js'

const [mode, path, ...rest] = process.argv.slice(2)
if (path === undefined) throw new TypeError('usage: sqlite-child.ts write|consume <db path> …')

const store = openSqliteDataStore({ path, busyTimeoutMs: 10_000 })

if (mode === 'write') {
  const parentId = parseSpiffeId('spiffe://example.org/agent/writer')
  for (let i = 0; ; i++) {
    const entry = await store.entries.create(
      buildEntry({
        spiffeId: parseSpiffeId(`spiffe://example.org/workload/${process.pid}/${i}`),
        parentId,
        selectors: [parseSelector(`unix:uid:${i}`), parseSelector(`unix:pid:${process.pid}`)],
        dnsNames: [`w${i}.example`],
        owner: 'durability-test',
        description: 'x'.repeat(i % 500),
      }),
    )
    process.stdout.write(`${entry.id}\n`)
  }
} else if (mode === 'consume') {
  const [tokenHash] = rest
  process.stdout.write('ready\n')
  await once(process.stdin, 'data')
  process.stdin.destroy()
  const token = await store.joinTokens.consume(tokenHash!, new Date())
  process.stdout.write(token === undefined ? 'lost\n' : 'won\n')
  await store.close()
} else {
  throw new TypeError(`sqlite-child.ts: unknown mode ${JSON.stringify(mode)}`)
}
