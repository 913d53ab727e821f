import { writeFileSync } from 'node:fs'
import { runSign } from './sign.js'

/**
 * Benchmark runner: `node --import tsx test/bench/main.ts [scenario…] [--quick] [--json FILE]`
 * (`npm run bench -- sign --quick`). With no scenario it runs them all. Each scenario prints one
 * summary line and returns flat metrics (`<scenario>.<metric>`), merged into the `--json` file.
 */

/** Options every scenario gets. */
export interface BenchOptions {
  /** Shorter warm-up and rounds, for smoke runs; numbers are noisier. */
  readonly quick: boolean
}

/** Metric name → value. */
export type BenchResult = Record<string, number>

/** Scenario name → runner. Add new scenarios here. */
const SCENARIOS: Readonly<Record<string, (options: BenchOptions) => Promise<BenchResult>>> = {
  sign: runSign,
}

const USAGE = `usage: bench [${Object.keys(SCENARIOS).join('|')}]… [--quick] [--json FILE]`

function parseArgs(argv: readonly string[]): { scenarios: string[]; quick: boolean; jsonFile: string | undefined } {
  const scenarios: string[] = []
  let quick = false
  let jsonFile: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--quick') {
      quick = true
    } else if (arg === '--json') {
      jsonFile = argv[++i]
      if (jsonFile === undefined || jsonFile.startsWith('--')) throw new Error('--json needs a file name')
    } else if (arg.startsWith('--json=')) {
      jsonFile = arg.slice('--json='.length)
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
  return { scenarios: scenarios.length === 0 ? Object.keys(SCENARIOS) : scenarios, quick, jsonFile }
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
  for (const name of args.scenarios) Object.assign(metrics, await SCENARIOS[name]!({ quick: args.quick }))
  if (args.jsonFile !== undefined) writeFileSync(args.jsonFile, JSON.stringify(metrics, null, 2) + '\n')
}

await main()
