import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { runCli } from './cli.js'
import { runFetch } from './fetch.js'
import { stopSharedPair } from './pair.js'
import { runPropagation } from './propagation.js'
import { runScale } from './scale.js'
import { runSign } from './sign.js'
import { runStreams } from './streams.js'
import { formatTable } from './table.js'
import type { BenchOptions, BenchResult } from './setup.js'

/**
 * Benchmark runner: `npm run bench -- [scenario…] [--quick] [--json FILE] [--cpu-prof DIR]`
 * (`npm run bench -- sign --quick`; the script builds dist/ first, which the Steeple processes
 * run). With no scenario it runs them all. Each scenario prints a summary line and returns flat
 * metrics (`<scenario>.<metric>`); at the end they are printed as a table with the goals
 * (table.ts) and merged into the `--json` file.
 * SPIRE (spire-server, spire-agent) is built once into .cache/tools by test/tools/spire.ts.
 * `BENCH_KEEP=1` keeps each scenario's directory with the processes' configs and logs.
 */

export type { BenchOptions, BenchResult } from './setup.js'

/** Scenario name → runner. Add new scenarios here. */
const SCENARIOS: Readonly<Record<string, (options: BenchOptions) => Promise<BenchResult>>> = {
  sign: runSign,
  fetch: runFetch,
  propagation: runPropagation,
  cli: runCli,
  scale: runScale,
  streams: runStreams,
}

/** Scenarios that run on the shared Steeple + SPIRE pair (pair.ts). */
const PAIR_SCENARIOS: ReadonlySet<string> = new Set(['fetch', 'propagation', 'cli'])

const USAGE = `usage: bench [${Object.keys(SCENARIOS).join('|')}]… [--quick] [--json FILE] [--cpu-prof DIR]`

function parseArgs(argv: readonly string[]): { scenarios: string[]; quick: boolean; jsonFile: string | undefined; cpuProfDir: string | undefined } {
  const scenarios: string[] = []
  let quick = false
  let jsonFile: string | undefined
  let cpuProfDir: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--quick') {
      quick = true
    } else if (arg === '--json') {
      jsonFile = argv[++i]
      if (jsonFile === undefined || jsonFile.startsWith('--')) throw new Error('--json needs a file name')
    } else if (arg.startsWith('--json=')) {
      jsonFile = arg.slice('--json='.length)
    } else if (arg === '--cpu-prof') {
      cpuProfDir = argv[++i]
      if (cpuProfDir === undefined || cpuProfDir.startsWith('--')) throw new Error('--cpu-prof needs a directory')
      cpuProfDir = resolve(cpuProfDir)
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE)
      process.exit(0)
    } else if (arg.startsWith('-')) {
      throw new Error(`unknown option ${arg}`)
    } else if (!Object.hasOwn(SCENARIOS, arg)) {
      throw new Error(`unknown scenario ${JSON.stringify(arg)}`)
    } else {
      scenarios.push(arg)
    }
  }
  return { scenarios: scenarios.length === 0 ? Object.keys(SCENARIOS) : scenarios, quick, jsonFile, cpuProfDir }
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseArgs>
  try {
    args = parseArgs(process.argv.slice(2))
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n${USAGE}`)
    process.exitCode = 2
    return
  }
  const metrics: BenchResult = {}
  try {
    for (const name of args.scenarios) {
      // The pair of deployments fetch and propagation share would only add noise to the others.
      if (!PAIR_SCENARIOS.has(name)) await stopSharedPair()
      Object.assign(metrics, await SCENARIOS[name]!({ quick: args.quick, ...(args.cpuProfDir !== undefined && { cpuProfDir: args.cpuProfDir }) }))
    }
  } finally {
    await stopSharedPair()
  }
  console.log(`\n${formatTable(metrics)}`)
  if (args.jsonFile !== undefined) writeFileSync(args.jsonFile, JSON.stringify(metrics, null, 2) + '\n')
}

await main()
