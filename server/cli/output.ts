import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidArgumentError, Option, type Command } from 'commander'
import { SERVER_DEFAULTS } from '../config.js'
import { CliError, type OutputFormat } from '../../common/cli.js'

export { CliError, action, block, collect, emit, fail, plural, type OutputFormat } from '../../common/cli.js'

/**
 * What every operator command shares: the admin socket and output options, flag parsers whose
 * errors name the flag, rendering (aligned blocks for people, JSON for scripts) and the rule that
 * results go to stdout, errors to stderr with exit code 1.
 */


/** Options every command has. */
export interface CommonOptions {
  readonly socketPath: string
  readonly output: OutputFormat
}

/** The server's default admin socket, relative to the working directory (as the server's default is). */
export const DEFAULT_SOCKET_PATH = './' + join(SERVER_DEFAULTS.data_dir, SERVER_DEFAULTS.socket_path)

/** Adds `--socket-path` and `--output` to a command. */
export function withCommonOptions(command: Command): Command {
  return command
    .option('--socket-path <path>', 'admin API socket of the server', DEFAULT_SOCKET_PATH)
    .addOption(new Option('--output <format>', 'pretty for people, json for scripts').choices(['pretty', 'json']).default('pretty'))
}

/** Unix seconds (number or decimal string) as an ISO 8601 UTC time; `never` for 0. */
export function formatUnixTime(seconds: number | string): string {
  const n = Number(seconds)
  return n === 0 ? 'never' : new Date(n * 1000).toISOString().replace('.000Z', 'Z')
}

/**
 * A parser for a whole-number flag between `min` and `max`; commander reports a failure as
 * `option '--flag <…>' argument 'x' is invalid. <rule>`, naming the flag.
 */
export function wholeNumber(min: number, max: number, unit = ''): (value: string) => number {
  const rule = `must be a whole number${unit === '' ? '' : ` of ${unit}`} between ${min} and ${max}`
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(rule)
    const n = Number(value.trim())
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(rule)
    return n
  }
}

/** Largest value of an int32 proto field. */
export const INT32_MAX = 2 ** 31 - 1

/** Reads a file named by a flag. @throws CliError naming the flag and the file. */
export async function readFlagFile(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (err) {
    throw new CliError(`${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err })
  }
}

/** Parses a JSON file named by a flag. @throws CliError naming the flag when it is not JSON. */
export async function readJsonFile(flag: string, path: string): Promise<unknown> {
  const text = (await readFlagFile(flag, path)).toString('utf8')
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new CliError(`${flag}: ${path} is not valid JSON: ${(err as Error).message}`, { cause: err })
  }
}
