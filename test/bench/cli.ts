import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { ensureSpire } from '../tools/spire.js'
import type { BenchOptions, BenchResult } from './main.js'
import { sharedPair } from './pair.js'
import { DEFAULT_CONFIG, percentile } from './setup.js'
import { STEEPLE_AGENT_BIN, STEEPLE_SERVER_BIN } from './steeple.js'

/**
 * Start-up cost of an operator command: the wall time from spawning a CLI call to its exit, as a
 * script or a health probe pays it. `steeple-server entry count` and `spire-server entry count`
 * ask the running servers of the shared pair over their admin sockets; `steeple-agent healthcheck`
 * and `spire-agent healthcheck` ask the agents. The commands run in turn, one call at a time, so
 * each sample sees the same machine; the figure is the median. Goal: ≤ 300 ms for Steeple's two
 * (bin/ runs the compiled JavaScript in dist/, so no TypeScript is compiled at start).
 */
export async function runCli(options: BenchOptions): Promise<BenchResult> {
  const runs = options.quick ? 5 : 15
  const pair = await sharedPair(DEFAULT_CONFIG, options)
  const spire = await ensureSpire(['spire-server', 'spire-agent'])
  const steeple = pair.steepleDeployment
  const commands: Record<string, CliCommand> = {
    steeple_ms: { file: process.execPath, args: [STEEPLE_SERVER_BIN, 'entry', 'count', '--socket-path', steeple.socketPath] },
    spire_ms: { file: spire['spire-server']!, args: ['entry', 'count', '-socketPath', pair.spireDeployment.socketPath] },
    agent_healthcheck_ms: { file: process.execPath, args: [STEEPLE_AGENT_BIN, 'healthcheck', '--socket-path', steeple.workloadSocketPath] },
    spire_agent_healthcheck_ms: { file: spire['spire-agent']!, args: ['healthcheck', '-socketPath', pair.spireDeployment.workloadSocketPath] },
  }
  const medians = await timeCommands(commands, runs)
  const result: BenchResult = { 'cli.runs': runs }
  for (const [name, ms] of Object.entries(medians)) result[`cli.${name}`] = ms
  console.log(
    `cli: median of ${runs} calls: steeple-server entry count ${medians['steeple_ms']!.toFixed(0)} ms, ` +
      `spire-server entry count ${medians['spire_ms']!.toFixed(0)} ms, ` +
      `steeple-agent healthcheck ${medians['agent_healthcheck_ms']!.toFixed(0)} ms, ` +
      `spire-agent healthcheck ${medians['spire_agent_healthcheck_ms']!.toFixed(0)} ms`,
  )
  return result
}

/** A command line to time. */
export interface CliCommand {
  readonly file: string
  readonly args: readonly string[]
}

const execFileAsync = promisify(execFile)

/**
 * Runs every command once untimed (disk caches warm), then `runs` rounds of each command in turn;
 * returns the median wall time of each, in ms, by the same names.
 * @throws when a call fails (non-zero exit), with its stderr.
 */
export async function timeCommands(commands: Readonly<Record<string, CliCommand>>, runs: number): Promise<Record<string, number>> {
  const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, [] as number[]]))
  for (let round = -1; round < runs; round++) {
    for (const [name, { file, args }] of Object.entries(commands)) {
      const t0 = performance.now()
      try {
        await execFileAsync(file, args)
      } catch (err) {
        throw new Error(`cli: ${name} failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`)
      }
      if (round >= 0) samples[name]!.push(performance.now() - t0)
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, percentile(list, 50)]))
}
