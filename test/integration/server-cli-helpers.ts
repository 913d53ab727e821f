import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Repository root and the server binary, run the way operators run it. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const SERVER_BIN = join(ROOT, 'bin', 'steeple-server.js')

/** What a finished command printed and how it exited. */
export interface CommandResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** How to run a command in {@link runCommand}. */
export interface RunOptions {
  readonly cwd?: string
  readonly env?: NodeJS.ProcessEnv
  readonly uid?: number
  /** Defaults to `uid`. */
  readonly gid?: number
  /** Killed after this long; default 30 s. */
  readonly timeoutMs?: number
}

/** Runs a command to completion, collecting its output (stdin closed). */
export async function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
    ...(options.uid !== undefined && { uid: options.uid, gid: options.gid ?? options.uid }),
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
  try {
    // `once` rejects when the command cannot be started (ENOENT, EACCES).
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null]
    return { code, signal, stdout, stderr }
  } finally {
    clearTimeout(timer)
  }
}

/** Runs `steeple-server <args…>` to completion. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return runCommand(process.execPath, [SERVER_BIN, ...args], options)
}

/** Runs tasks with at most `limit` at a time (each CLI run is a Node process start). */
export async function inPool<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await run(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** A temporary directory, removed by {@link removeTempDirs}. */
const tempDirs: string[] = []
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}
export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
}

/** A `steeple-server run` child process, started and ready. */
export class ServerProcess {
  readonly #child: ChildProcess
  readonly #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #stderr = ''
  /** `127.0.0.1:<port>` of the agent API. */
  agentApiAddress = ''
  socketPath = ''
  /** `127.0.0.1:<port>` of the metrics endpoint, '' when off. */
  metricsAddress = ''

  private constructor(child: ChildProcess) {
    this.#child = child
    this.#exit = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }))
  }

  /**
   * Starts `steeple-server run <args…>` (under `options.umask` when given) and waits for its
   * "Server started" log line.
   * @throws with the server's stderr when it exits or takes longer than 20 s.
   */
  static async start(args: readonly string[], options: { umask?: number } = {}): Promise<ServerProcess> {
    const command = [process.execPath, SERVER_BIN, 'run', ...args]
    // A umask is set by a shell that then becomes the server (Node cannot set one for a child).
    const child =
      options.umask === undefined
        ? spawn(command[0]!, command.slice(1), { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
        : spawn('/bin/sh', ['-c', `umask ${options.umask.toString(8).padStart(3, '0')} && exec "$@"`, 'sh', ...command], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
    const server = new ServerProcess(child)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`server did not start within 20 s:\n${server.#stderr}`))
      }, 20_000)
      let pending = ''
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        server.#stderr += chunk
        pending += chunk
        const lines = pending.split('\n')
        pending = lines.pop()!
        for (const line of lines) {
          const record = parseLogLine(line)
          if (record?.['msg'] !== 'Server started') continue
          server.agentApiAddress = String(record['agentApiAddress'])
          server.socketPath = String(record['socketPath'])
          server.metricsAddress = String(record['metricsAddress'] ?? '')
          clearTimeout(timer)
          resolve()
        }
      })
      void server.#exit.then(({ code, signal }) => {
        clearTimeout(timer)
        reject(new Error(`server exited during start-up (code ${code}, signal ${signal}):\n${server.#stderr}`))
      })
    })
    return server
  }

  /** `--socket-path <socket>`, for CLI commands. */
  get socketArgs(): string[] {
    return ['--socket-path', this.socketPath]
  }

  /** Everything the server logged so far. */
  get stderr(): string {
    return this.#stderr
  }

  /** Runs a CLI command against this server. */
  cli(...args: string[]): Promise<CommandResult> {
    return runCli([...args, ...this.socketArgs])
  }

  /** Sends a signal and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal)
    return this.#exit
  }
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line)
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** Parses a command's JSON stdout, with the whole result in the failure message. */
export function jsonOf<T>(result: CommandResult): T {
  if (result.code !== 0) throw new Error(`command failed (code ${result.code}):\n${result.stderr}`)
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`command printed no JSON:\n${result.stdout}\n${result.stderr}`)
  }
}
