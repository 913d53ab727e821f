/**
 * `npm run conformance`: which CONFORMANCE.md requirements are named by a passing test
 * (`it('X509-07: …')`) and which are not. Titles come from a vitest JSON results file
 * (`--results FILE`, as .ci/run writes one), else from a fresh `vitest run`; many titles are built
 * at run time from the vector tables, so reading the source would miss them. Interop scenario
 * files (test/interop/<lang>/scenarios.*) are read as text.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

// Piped into `head`: stop quietly when the reader goes away.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

const root = fileURLToPath(new URL('../..', import.meta.url))
const checklist = readFileSync(join(root, 'test/conformance/CONFORMANCE.md'), 'utf8')

interface Requirement {
  id: string
  level: string
  who: string
  text: string
}

const requirements: Requirement[] = []
for (const line of checklist.split('\n')) {
  // `- **ID** · LEVEL · WHO — text`; the interop profile items have no level.
  const m = /^- \*\*([A-Z0-9]+-\d+)\*\* · (?:([^·]+) · )?([^—]+) — (.*)$/.exec(line)
  if (m) {
    const text = m[4]!.split(' *Src:*')[0]!.trim()
    requirements.push({ id: m[1]!, level: (m[2] ?? 'interop').trim(), who: m[3]!.trim(), text })
  }
}

// A title names IDs before its first colon: 'X509-02, X509-21: …'.
const TITLE_IDS = /^((?:[A-Z][A-Z0-9]*-\d{2}\s*[,/]\s*)*[A-Z][A-Z0-9]*-\d{2})\s*:/
const coveredBy = new Map<string, Set<string>>()
function record(title: string, file: string): void {
  const m = TITLE_IDS.exec(title)
  if (m === null) return
  for (const id of m[1]!.split(/[,/]/).map((x) => x.trim())) {
    let files = coveredBy.get(id)
    if (!files) coveredBy.set(id, (files = new Set()))
    files.add(relative(root, file))
  }
}

interface VitestResults {
  testResults: { name: string; assertionResults: { title: string; status: string }[] }[]
}

function loadResults(): VitestResults {
  const i = process.argv.indexOf('--results')
  let path = i >= 0 ? process.argv[i + 1] : undefined
  if (path === undefined) {
    path = join(mkdtempSync(join(tmpdir(), 'steeple-conformance-')), 'vitest.json')
    console.error('Running the test suite to collect test titles (pass --results FILE to reuse a run)…')
    spawnSync('npx', ['vitest', 'run', '--reporter=json', `--outputFile=${path}`], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
  }
  return JSON.parse(readFileSync(path, 'utf8')) as VitestResults
}

for (const file of loadResults().testResults) {
  for (const test of file.assertionResults) if (test.status === 'passed') record(test.title, file.name)
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.steeple', '.cache', 'build'])
function* scenarioFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* scenarioFiles(path)
    else if (/^scenarios\.(ts|mjs|go|py|java)$/.test(name)) yield path
  }
}
const QUOTED_TITLE = /['"`]((?:[A-Z][A-Z0-9]*-\d{2}\s*[,/]\s*)*[A-Z][A-Z0-9]*-\d{2}\s*:)/g
for (const file of scenarioFiles(join(root, 'test'))) {
  for (const m of readFileSync(file, 'utf8').matchAll(QUOTED_TITLE)) record(m[1]!, file)
}

const known = new Set(requirements.map((r) => r.id))
const covered = requirements.filter((r) => coveredBy.has(r.id))
const missing = requirements.filter((r) => !coveredBy.has(r.id))
const asJson = process.argv.includes('--json')

if (asJson) {
  console.log(
    JSON.stringify(
      {
        total: requirements.length,
        covered: covered.map((r) => ({ id: r.id, files: [...coveredBy.get(r.id)!] })),
        missing: missing.map((r) => ({ id: r.id, who: r.who, level: r.level })),
        unknownIdsInTests: [...coveredBy.keys()].filter((id) => !known.has(id)),
      },
      null,
      2,
    ),
  )
} else {
  console.log(`SPIFFE conformance: ${covered.length} of ${requirements.length} requirements named by a passing test\n`)
  console.log('Covered:')
  for (const r of covered) console.log(`  ${r.id.padEnd(11)} ${[...coveredBy.get(r.id)!].join(', ')}`)
  console.log('\nNot covered yet (who it binds: iss issuer, reg registration, wl Workload API, val validator, pub publisher, fedc federation client, cli client):')
  for (const r of missing) console.log(`  ${r.id.padEnd(11)} ${r.who.padEnd(14)} ${r.level.padEnd(12)} ${r.text.slice(0, 90)}`)
  const unknown = [...coveredBy.keys()].filter((id) => !known.has(id))
  if (unknown.length > 0) console.log(`\nIDs named in tests but absent from the checklist: ${unknown.join(', ')}`)
}
