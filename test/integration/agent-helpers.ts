import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, ServerProcess, jsonOf, runCommand, type CommandResult, type RunOptions } from './server-cli-helpers.js'

export const AGENT_BIN = join(ROOT, 'bin', 'steeple-agent.js')

/** The uid the "another caller" tests run as. */
export const NOBODY = 65534

/**
 * Whether a process of uid {@link NOBODY} can run the agent CLI from this checkout: needs root, and a
 * checkout that other users can read (a clone inside a 0700 directory is not).
 */
export const NOBODY_CAN_RUN_CLI =
  process.getuid?.() === 0 && spawnSync('/usr/bin/test', ['-r', AGENT_BIN], { uid: NOBODY, gid: NOBODY }).status === 0

/** Runs `steeple-agent <args…>` to completion (a workload using the agent CLI). */
export function agentCli(args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return runCommand(process.execPath, [AGENT_BIN, ...args], options)
}

/** The stdout lines of a child process, one at a time. */
export class LineReader {
  readonly #lines: string[] = []
  #buffer = ''
  stderr = ''
  readonly #exited: Promise<number | null>

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.#buffer += chunk
      const parts = this.#buffer.split('\n')
      this.#buffer = parts.pop()!
      this.#lines.push(...parts.filter((line) => line !== ''))
    })
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk))
    this.#exited = once(child, 'exit').then(([code]) => code as number | null)
  }

  /** The next line. @throws when none comes within `timeoutMs`. */
  async next(timeoutMs = 15_000): Promise<string> {
    return waitFor('a line from the child process', () => this.#lines.shift(), timeoutMs, 25)
  }

  exitCode(): Promise<number | null> {
    return this.#exited
  }
}

/** What {@link AgentProcess.start} needs. */
export interface AgentStartOptions {
  /** The agent's data directory (its socket is `<dataDir>/api.sock` unless `socketPath`). */
  readonly dataDir: string
  /** `host:port` of the server's agent API. */
  readonly serverAddress: string
  /** One-time join token (omit on a restart with a stored SVID, or with a config that attests otherwise). */
  readonly joinToken?: string
  /**
   * How the agent gets `joinToken`: a 0600 file given with `--join-token-file` (the default; removed
   * once the agent has started), the `STEEPLE_JOIN_TOKEN` variable, or `--join-token` on its command line.
   */
  readonly joinTokenVia?: 'file' | 'env' | 'argv'
  /** PEM bundle to trust the server with on first start; without it, `--insecure-bootstrap`. */
  readonly trustBundlePath?: string
  readonly socketPath?: string
  /** YAML config file (plugins); flags still override. */
  readonly configPath?: string
  readonly extraArgs?: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  /** How long to wait for "Agent started"; default 30 s. */
  readonly startTimeoutMs?: number
}

/** A JSON log line as the agent writes it. */
export type LogRecord = Record<string, unknown>

/**
 * A `steeple-agent run` child process, started (its "Agent started" line seen). Its log lines are
 * kept, parsed, for tests to wait on.
 */
export class AgentProcess {
  readonly #child: ChildProcess
  readonly #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly #records: LogRecord[] = []
  #stderr = ''
  /** Absolute path of the Workload API socket. */
  socketPath = ''
  agentId = ''

  private constructor(child: ChildProcess) {
    this.#child = child
    this.#exit = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }))
    let pending = ''
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr += chunk
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) {
        try {
          const record: unknown = JSON.parse(line)
          if (record !== null && typeof record === 'object') this.#records.push(record as LogRecord)
        } catch {
          // Not a log line (a start-up error printed plainly): kept in stderr only.
        }
      }
    })
  }

  /**
   * Starts `steeple-agent run` with the options as flags and waits for "Agent started".
   * @throws with the agent's stderr when it exits first or takes too long.
   */
  static async start(opts: AgentStartOptions): Promise<AgentProcess> {
    const port = opts.serverAddress.slice(opts.serverAddress.lastIndexOf(':') + 1)
    const host = opts.serverAddress.slice(0, opts.serverAddress.lastIndexOf(':'))
    const via = opts.joinTokenVia ?? 'file'
    const tokenDir = opts.joinToken !== undefined && via === 'file' ? await mkdtemp(join(tmpdir(), 'steeple-join-token-')) : undefined
    try {
      if (tokenDir !== undefined) await writeFile(join(tokenDir, 'token'), `${opts.joinToken}\n`, { mode: 0o600 })
      const args = [
        AGENT_BIN,
        'run',
        '--data-dir',
        opts.dataDir,
        '--server-address',
        host,
        '--server-port',
        port,
        ...(opts.configPath !== undefined ? ['--config', opts.configPath] : []),
        ...(tokenDir !== undefined ? ['--join-token-file', join(tokenDir, 'token')] : []),
        ...(opts.joinToken !== undefined && via === 'argv' ? ['--join-token', opts.joinToken] : []),
        ...(opts.trustBundlePath !== undefined ? ['--trust-bundle', opts.trustBundlePath] : []),
        ...(opts.socketPath !== undefined ? ['--socket-path', opts.socketPath] : []),
        ...(opts.extraArgs ?? []),
      ]
      const env = { ...process.env, ...opts.env, ...(via === 'env' && opts.joinToken !== undefined && { STEEPLE_JOIN_TOKEN: opts.joinToken }) }
      return await AgentProcess.#spawn(args, env, opts.startTimeoutMs ?? 30_000)
    } finally {
      if (tokenDir !== undefined) await rm(tokenDir, { recursive: true, force: true })
    }
  }

  static async #spawn(args: readonly string[], env: NodeJS.ProcessEnv, startTimeoutMs: number): Promise<AgentProcess> {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env })
    const agent = new AgentProcess(child)
    const started = await agent.waitForLog((r) => r['msg'] === 'Agent started', startTimeoutMs).catch((err: unknown) => {
      child.kill('SIGKILL')
      throw err
    })
    agent.socketPath = String(started['socketPath'])
    agent.agentId = String(started['agentId'])
    return agent
  }

  /** Everything the agent logged so far. */
  get stderr(): string {
    return this.#stderr
  }

  get records(): readonly LogRecord[] {
    return this.#records
  }

  get pid(): number | undefined {
    return this.#child.pid
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null
  }

  /** `unix://<socket>`, for clients. */
  get address(): string {
    return `unix://${this.socketPath}`
  }

  /**
   * The first log record (from the start) matching `predicate`.
   * @throws when the agent exits or `timeoutMs` passes first, with its stderr.
   */
  async waitForLog(predicate: (record: LogRecord) => boolean, timeoutMs = 15_000): Promise<LogRecord> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.#records.find(predicate)
      if (found !== undefined) return found
      if (!this.running) {
        const { code, signal } = await this.#exit
        throw new Error(`agent exited (code ${code}, signal ${signal}):\n${this.#stderr}`)
      }
      if (Date.now() > deadline) throw new Error(`agent log line not seen within ${timeoutMs} ms:\n${this.#stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** Sends a signal and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.#child.kill(signal)
    return this.#exit
  }

  /** Resolves when the process exits by itself. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exit
  }
}

/**
 * Polls `probe` until it returns a value other than undefined.
 * @throws with `what` and the last error when `timeoutMs` passes.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last !== undefined ? ` (last error: ${String(last)})` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** A server and an agent joined to it, in a fresh temp directory that other uids can traverse. */
export interface Deployment {
  readonly root: string
  /** The running server (replaced by {@link Deployment.startServer}). */
  readonly server: ServerProcess
  /** The running agent (replaced by {@link Deployment.restartAgent}). */
  readonly agent: AgentProcess
  /** The agent's SPIFFE ID (parent of workload entries). */
  readonly agentId: string
  /** The server's bundle as PEM, in a file (the agent's bootstrap trust). */
  readonly bundlePath: string
  /** Starts the agent again on the same data directory (no token: it uses its stored SVID). */
  restartAgent(): Promise<AgentProcess>
  /** Stops the server (SIGTERM). */
  stopServer(): Promise<void>
  /** Starts the server again on the same data directory and agent API port. */
  startServer(): Promise<ServerProcess>
  /** Creates an entry through the CLI; returns its id. */
  createEntry(spiffeId: string, selectors: readonly string[], extra?: readonly string[]): Promise<string>
  deleteEntry(id: string): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts `steeple-server run` (free port, `serverArgs` added) and `steeple-agent run` joined with a
 * fresh token and the server's bundle.
 */
export async function deploy(options: { serverArgs?: readonly string[]; agentArgs?: readonly string[]; agentConfigPath?: string; prefix?: string } = {}): Promise<Deployment> {
  const root = await mkdtemp(join(tmpdir(), options.prefix ?? 'steeple-deploy-'))
  await chmod(root, 0o755)
  const server = await ServerProcess.start(['--data-dir', join(root, 'server'), ...(options.serverArgs ?? []), '--bind-port', '0'])
  const bundlePath = join(root, 'bundle.pem')
  let agent: AgentProcess
  try {
    const token = jsonOf<{ token: string; agent_id: string }>(await server.cli('token', 'generate', '--output', 'json'))
    await writeFile(bundlePath, expectOk(await server.cli('bundle', 'show')).stdout)
    agent = await AgentProcess.start({
      dataDir: join(root, 'agent'),
      serverAddress: server.agentApiAddress,
      joinToken: token.token,
      trustBundlePath: bundlePath,
      ...(options.agentArgs !== undefined && { extraArgs: options.agentArgs }),
      ...(options.agentConfigPath !== undefined && { configPath: options.agentConfigPath }),
    })
  } catch (err) {
    await server.stop()
    throw err
  }
  const serverArgs = ['--data-dir', join(root, 'server'), ...(options.serverArgs ?? [])]
  const deployment = {
    root,
    server,
    agent,
    agentId: agent.agentId,
    bundlePath,
    async restartAgent(): Promise<AgentProcess> {
      await deployment.agent.stop()
      deployment.agent = await AgentProcess.start({
        dataDir: join(root, 'agent'),
        serverAddress: server.agentApiAddress,
        ...(options.agentArgs !== undefined && { extraArgs: options.agentArgs }),
        ...(options.agentConfigPath !== undefined && { configPath: options.agentConfigPath }),
      })
      return deployment.agent
    },
    async stopServer(): Promise<void> {
      await deployment.server.stop()
    },
    async startServer(): Promise<ServerProcess> {
      const port = server.agentApiAddress.slice(server.agentApiAddress.lastIndexOf(':') + 1)
      deployment.server = await ServerProcess.start([...serverArgs, '--bind-port', port])
      return deployment.server
    },
    async createEntry(spiffeId: string, selectors: readonly string[], extra: readonly string[] = []): Promise<string> {
      const args = ['entry', 'create', '--spiffe-id', spiffeId, '--parent-id', deployment.agentId, ...selectors.flatMap((s) => ['--selector', s]), ...extra, '--output', 'json']
      const created = jsonOf<{ results: { status: { code: number; message: string }; entry?: { id: string } }[] }>(await deployment.server.cli(...args))
      const id = created.results[0]?.entry?.id
      if (id === undefined) throw new Error(`entry create printed no id: ${JSON.stringify(created)}`)
      return id
    },
    async deleteEntry(id: string): Promise<void> {
      expectOk(await deployment.server.cli('entry', 'delete', '--entry-id', id, '--output', 'json'))
    },
    async stop(): Promise<void> {
      await deployment.agent.stop()
      await deployment.server.stop()
    },
  }
  return deployment
}

function expectOk(result: CommandResult): CommandResult {
  if (result.code !== 0) throw new Error(`command failed (code ${result.code}):\n${result.stderr}`)
  return result
}
