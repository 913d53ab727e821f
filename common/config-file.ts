import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import { ConfigError } from './errors.js'

/**
 * Reads a YAML config file (comments allowed) into a plain value. Duplicate keys, anchors/aliases
 * and anything that is not plain data are errors, reported with the file name and line.
 */
export function readConfigFile(path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err })
  }
  return parseConfigText(text, path)
}

/** Parses YAML config text (see {@link readConfigFile}); `source` names it in errors. */
export function parseConfigText(text: string, source: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true })
  const problem = doc.errors[0]
  if (problem !== undefined) {
    const line = problem.linePos?.[0]
    const where = line ? `${source}:${line.line}:${line.col}` : source
    throw new ConfigError(`${where}: ${problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`)
  }
  try {
    return doc.toJS({ maxAliasCount: 0 }) ?? {}
  } catch (err) {
    throw new ConfigError(`${source}: ${(err as Error).message} (YAML anchors and aliases are not supported)`, { cause: err })
  }
}
