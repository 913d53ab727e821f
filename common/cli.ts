/**
 * What the command lines of steeple-server and steeple-agent share: the error whose message is shown
 * as is, the rule that a failed command prints `Error: <message>` and exits 1, and rendering
 * (aligned blocks for people, JSON for scripts).
 */

/** `--output`: pretty for people, json for scripts. */
export type OutputFormat = 'pretty' | 'json'

/** An error whose message is shown to the user as is. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliError'
  }
}

/**
 * Wraps a command's action: an error is printed to stderr as `Error: <message>` and the exit code
 * set to 1; output already written stays.
 */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await run(...args)
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err))
    }
  }
}

/** Prints `Error: <message>` to stderr and makes the process exit with 1. */
export function fail(message: string): void {
  process.stderr.write(`Error: ${message}\n`)
  process.exitCode = 1
}

/** Writes the result: `pretty()` text or `json` (two-space indented), with a final newline. */
export function emit(format: OutputFormat, json: unknown, pretty: () => string): void {
  const text = format === 'json' ? JSON.stringify(json, null, 2) : pretty()
  process.stdout.write(text.endsWith('\n') ? text : text + '\n')
}

/** Rows as `Label : value` with the colons aligned; rows with an undefined value are left out. */
export function block(rows: readonly (readonly [string, string | undefined])[]): string {
  const shown = rows.filter((r): r is readonly [string, string] => r[1] !== undefined)
  const width = Math.max(0, ...shown.map(([label]) => label.length))
  return shown.map(([label, value]) => `${label.padEnd(width)} : ${value}`).join('\n') + '\n'
}

/** `n thing` / `n things`. */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : pluralForm}`
}

/** For repeatable flags: collects every value given. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}
