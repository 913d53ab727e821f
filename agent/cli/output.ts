import { mkdir } from 'node:fs/promises'
import { writeFileAtomic as writeFileDurably } from '../../common/fs.js'
import { join, resolve } from 'node:path'
import { InvalidArgumentError, Option, type Command } from 'commander'
import { ENDPOINT_SOCKET_ENV, WorkloadApiClient } from '../../workloadapi/index.js'
import { AGENT_DEFAULTS } from '../config.js'
import { CliError, type OutputFormat } from '../../common/cli.js'

export { CliError, action, block, collect, emit, fail, plural, type OutputFormat } from '../../common/cli.js'

/**
 * What the agent's workload-side commands share: `--socket-path` and `--output`, one Workload API
 * client per command, rendering (aligned blocks for people, JSON for scripts), and the rule that
 * results go to stdout, errors to stderr with exit code 1.
 */


/** Options every `api` command and `healthcheck` has. */
export interface CommonOptions {
  /** Unset: SPIFFE_ENDPOINT_SOCKET, else {@link DEFAULT_SOCKET_PATH}. */
  readonly socketPath?: string
  readonly output: OutputFormat
  /** Seconds to wait for the agent's answer. */
  readonly timeout: number
}

/** The agent's default Workload API socket, relative to the working directory (as the agent's default is). */
export const DEFAULT_SOCKET_PATH = './' + join(AGENT_DEFAULTS.data_dir, AGENT_DEFAULTS.socket_path)

/** Seconds a command waits for the agent by default. */
export const DEFAULT_TIMEOUT_SECONDS = 10

function secondsFlag(value: string): number {
  const n = Number(value)
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0) || n > 3600) throw new InvalidArgumentError('must be a number of seconds above 0 and at most 3600')
  return n
}

/** Adds `--socket-path`, `--output` and `--timeout` to a command. */
export function withCommonOptions(command: Command, timeout = true): Command {
  command
    .option(
      '--socket-path <path>',
      `Workload API socket: a path or a unix:// or tcp:// address (default: $${ENDPOINT_SOCKET_ENV}, else ${DEFAULT_SOCKET_PATH})`,
    )
    .addOption(new Option('--output <format>', 'pretty for people, json for scripts').choices(['pretty', 'json']).default('pretty'))
  if (timeout) command.option('--timeout <seconds>', 'how long to wait for the agent', secondsFlag, DEFAULT_TIMEOUT_SECONDS)
  return command
}

/**
 * The Workload API address for `--socket-path`: an address (`unix:///…`, `tcp://…`) as given, a
 * path resolved against the working directory; without the flag `SPIFFE_ENDPOINT_SOCKET` (WEP-07),
 * else the agent's default socket.
 */
export function endpointAddress(socketPath: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): string {
  const fromEnv = env[ENDPOINT_SOCKET_ENV]
  const given = socketPath ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_SOCKET_PATH)
  if (/^(unix|tcp):/i.test(given)) return given
  // Percent-escaped, so a path with `%`, `?` or `#` survives as a URI path.
  return 'unix://' + resolve(cwd, given).split('/').map(encodeURIComponent).join('/')
}

/** A Workload API client for the command's socket. @throws the client's address error, as a CliError. */
export function connect(opts: CommonOptions): WorkloadApiClient {
  try {
    return WorkloadApiClient.connect({ address: endpointAddress(opts.socketPath) })
  } catch (err) {
    throw new CliError((err as Error).message, { cause: err })
  }
}

/**
 * Runs `call` with a client and an abort signal that fires after `--timeout`; a timeout becomes a
 * CliError naming the socket. The client is closed afterwards.
 */
export async function withClient<T>(opts: CommonOptions, call: (client: WorkloadApiClient, signal: AbortSignal) => Promise<T>): Promise<T> {
  const client = connect(opts)
  const signal = AbortSignal.timeout(opts.timeout * 1000)
  try {
    return await call(client, signal)
  } catch (err) {
    if (signal.aborted && err === signal.reason) {
      throw new CliError(`no answer from the agent at ${endpointAddress(opts.socketPath)} within ${opts.timeout} s`)
    }
    throw err
  } finally {
    client.close()
  }
}

/** A date as ISO 8601 UTC without milliseconds. */
export function formatTime(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z')
}

/**
 * Writes `data` to `path` atomically with `mode` (see common/fs.ts), so a key file never exists,
 * even briefly, with wider permissions or half written. @throws CliError naming the file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  try {
    await writeFileDurably(path, data, mode)
  } catch (err) {
    throw new CliError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
}

/** Creates a directory given by a flag (and its parents). @throws CliError naming the flag. */
export async function makeDirectory(flag: string, dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    throw new CliError(`${flag}: cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err })
  }
}
