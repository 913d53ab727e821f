import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, readFileSync } from 'node:fs'

/**
 * A child process under measurement: its output goes to a log file (a pipe nobody reads would
 * stall it), its readiness is a line in that output, and its memory is read from /proc.
 */
export class BenchProcess {
  readonly name: string
  readonly logPath: string
  readonly #child: ChildProcess
  readonly #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #output = ''
  #pending = ''
  // Complete lines of the first 4 MiB of output, with the time each arrived (performance.now()).
  readonly #lines: { line: string; at: number }[] = []
  #waiters: (() => void)[] = []

  private constructor(name: string, child: ChildProcess, logPath: string) {
    this.name = name
    this.#child = child
    this.logPath = logPath
    this.#exit = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }))
    const log = createWriteStream(logPath)
    const onData = (chunk: string): void => {
      const at = performance.now()
      log.write(chunk)
      // Only the start of the output is searched for readiness lines; a busy server's log is long.
      if (this.#output.length < 4 * 1024 * 1024) {
        this.#output += chunk
        const parts = (this.#pending + chunk).split('\n')
        this.#pending = parts.pop()!
        for (const line of parts) this.#lines.push({ line, at })
      }
      for (const w of this.#waiters.splice(0)) w()
    }
    child.stdout!.setEncoding('utf8').on('data', onData)
    child.stderr!.setEncoding('utf8').on('data', onData)
    void this.#exit.then(() => {
      log.end()
      for (const w of this.#waiters.splice(0)) w()
    })
  }

  /** Spawns `command args…` with stdout and stderr to `logPath`; killed if this process exits first. */
  static start(name: string, command: string, args: readonly string[], options: { logPath: string; cwd?: string; env?: NodeJS.ProcessEnv }): BenchProcess {
    killChildrenOnExit()
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    live.add(child)
    child.once('exit', () => live.delete(child))
    return new BenchProcess(name, child, options.logPath)
  }

  get pid(): number {
    return this.#child.pid!
  }

  /** Everything logged so far (the first 4 MiB). */
  get output(): string {
    return this.#output
  }

  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null
  }

  /**
   * Waits for a line of output that `match` accepts and returns what it returned; `match` also
   * gets the time the line arrived (performance.now()). Lines already seen count.
   * @throws when the process exits first or `timeoutMs` passes, with the output's tail.
   */
  async waitForLine<T>(match: (line: string, at: number) => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs
    let scanned = 0
    for (;;) {
      for (; scanned < this.#lines.length; scanned++) {
        const { line, at } = this.#lines[scanned]!
        const hit = line === '' ? undefined : match(line, at)
        if (hit !== undefined) return hit
      }
      if (this.exited) throw new Error(`${this.name} exited before it was ready:\n${this.#output.slice(-3000)}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${this.name} not ready within ${timeoutMs} ms:\n${this.#output.slice(-3000)}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200))
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** Resident set size now, in MiB (from /proc/<pid>/status). */
  rssMb(): number {
    return procStatusKb(this.pid, 'VmRSS') / 1024
  }

  /** Peak resident set size so far, in MiB. */
  peakRssMb(): number {
    return procStatusKb(this.pid, 'VmHWM') / 1024
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (this.exited) return
    this.#child.kill(signal)
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs)
    await this.#exit
    clearTimeout(timer)
  }
}

const live = new Set<ChildProcess>()
let exitHooked = false

/** Servers and agents must not outlive an interrupted or failed run. */
function killChildrenOnExit(): void {
  if (exitHooked) return
  exitHooked = true
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL')
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
}

/** One `kB` field of /proc/<pid>/status. */
export function procStatusKb(pid: number, field: string): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)
  if (match === null) throw new Error(`/proc/${pid}/status has no ${field}`)
  return Number(match[1])
}

/** The JSON object on a log line, or undefined for other lines. */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const value: unknown = JSON.parse(line)
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
