import { SteepleError, InternalError } from '../../../common/errors.js'
import { errnoCode, identityKey, type UnixFs } from './hooks.js'

/**
 * Reads `name:password:id:…` lines (the layout /etc/passwd and /etc/group share) into id → name.
 * Comments, blank lines, NIS compat lines (`+…`, `-…`) and lines without a numeric id are skipped;
 * when an id appears twice the first line wins, as getpwuid(3) and getgrgid(3) answer.
 */
export function parseIdNames(text: string): ReadonlyMap<number, string> {
  const names = new Map<number, string>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue
    const fields = line.split(':')
    const name = fields[0]!
    const id = fields[2]
    if (name === '' || id === undefined || !/^\d+$/.test(id)) continue
    const n = Number(id)
    if (Number.isSafeInteger(n) && !names.has(n)) names.set(n, name)
  }
  return names
}

const EMPTY: ReadonlyMap<number, string> = new Map()

/**
 * Names for ids from one database file, re-read only when the file changes (its inode, size or
 * times). Only the file is consulted, not other NSS sources (LDAP, sssd).
 */
export class IdNameFile {
  readonly #path: string
  readonly #fs: UnixFs
  readonly #what: string
  #cached: { key: string; names: ReadonlyMap<number, string> } | undefined
  #loading: { key: string; names: Promise<ReadonlyMap<number, string>> } | undefined

  /** `what` names the database in error messages (`user database`). */
  constructor(path: string, fs: UnixFs, what: string) {
    this.#path = path
    this.#fs = fs
    this.#what = what
  }

  /**
   * The name of `id`; undefined when the file has no line for it or does not exist.
   * @throws InternalError when the file exists but cannot be read.
   */
  async lookup(id: number): Promise<string | undefined> {
    return (await this.#names()).get(id)
  }

  async #names(): Promise<ReadonlyMap<number, string>> {
    let key: string
    try {
      key = identityKey(await this.#fs.identify(this.#path))
    } catch (err) {
      // A system without the file has no names, which is not a failure of the workload.
      if (errnoCode(err) === 'ENOENT') return EMPTY
      throw this.#readError(err)
    }
    if (this.#cached?.key === key) return this.#cached.names
    if (this.#loading?.key === key) return this.#loading.names
    const names = this.#load(key)
    this.#loading = { key, names }
    try {
      return await names
    } finally {
      if (this.#loading?.names === names) this.#loading = undefined
    }
  }

  async #load(key: string): Promise<ReadonlyMap<number, string>> {
    let text: string
    try {
      text = await this.#fs.readText(this.#path)
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return EMPTY
      throw this.#readError(err)
    }
    const names = parseIdNames(text)
    this.#cached = { key, names }
    return names
  }

  #readError(cause: unknown): SteepleError {
    return new InternalError(`cannot read the ${this.#what}`, { cause })
  }
}
