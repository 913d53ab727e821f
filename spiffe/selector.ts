import { SpiffeError } from './errors.js'

/**
 * Selectors: `type:value` facts about a workload or node (`unix:uid:1000`,
 * `docker:label:app:web`), and the rule that matches registration entries to them.
 *
 * The type is the name of the attestor plugin that produced the fact, so it keeps to plugin-name
 * characters; the value is the plugin's own business and may contain further colons.
 */

/** Longest selector we accept, `type:value` in UTF-8 bytes. */
export const MAX_SELECTOR_BYTES = 1024

const TYPE_CHARS = /^[a-z0-9_-]+$/
// Whitespace and control characters get their own message: they are the usual copy-paste mistake.
const TYPE_SPACE_OR_CONTROL = /[\s\x00-\x1f\x7f]/

function selectorError(message: string): SpiffeError {
  return new SpiffeError('INVALID_SELECTOR', `selector: ${message}`)
}

const CONSTRUCT = Symbol('construct')

/** One valid selector. Compare with {@link Selector.equals}; `toString()` gives `type:value`. */
export class Selector {
  readonly #type: string
  readonly #value: string
  // Kept so set lookups during entry matching do not build a string per selector.
  readonly #key: string

  /** @internal use {@link parseSelector} or {@link selectorFromParts} */
  constructor(token: symbol, type: string, value: string) {
    if (token !== CONSTRUCT) throw new TypeError('use parseSelector() to create a Selector')
    this.#type = type
    this.#value = value
    this.#key = `${type}:${value}`
  }

  /** The attestor plugin name, e.g. `unix`. */
  get type(): string {
    return this.#type
  }

  /** What the plugin asserts, e.g. `uid:1000`. */
  get value(): string {
    return this.#value
  }

  equals(other: Selector): boolean {
    return this.#key === other.#key
  }

  /** `type:value`; {@link parseSelector} reads it back. */
  toString(): string {
    return this.#key
  }

  toJSON(): { type: string; value: string } {
    return { type: this.#type, value: this.#value }
  }
}

/**
 * Builds a selector from its two parts (as stored in a registration entry).
 * @throws SpiffeError `INVALID_SELECTOR` naming the broken rule.
 */
export function selectorFromParts(type: string, value: string): Selector {
  if (type === '') throw selectorError('type must not be empty')
  if (TYPE_SPACE_OR_CONTROL.test(type)) throw selectorError('type must not contain whitespace or control characters')
  if (!TYPE_CHARS.test(type)) {
    throw selectorError('type characters are limited to lowercase letters, numbers, dashes, and underscores')
  }
  if (value === '') throw selectorError('value must not be empty')
  if (Buffer.byteLength(type) + 1 + Buffer.byteLength(value) > MAX_SELECTOR_BYTES) {
    throw selectorError(`must not be longer than ${MAX_SELECTOR_BYTES} bytes`)
  }
  return new Selector(CONSTRUCT, type, value)
}

/**
 * Parses `type:value`, splitting at the first colon: `docker:label:app:web` has type `docker` and
 * value `label:app:web`.
 * @throws SpiffeError `INVALID_SELECTOR` naming the broken rule.
 */
export function parseSelector(s: string): Selector {
  const colon = s.indexOf(':')
  if (colon < 0) throw selectorError('must have the form type:value')
  return selectorFromParts(s.slice(0, colon), s.slice(colon + 1))
}

/** Orders selectors by type, then value (code unit order), for stable output. */
export function compareSelectors(a: Selector, b: Selector): number {
  if (a.type !== b.type) return a.type < b.type ? -1 : 1
  if (a.value !== b.value) return a.value < b.value ? -1 : 1
  return 0
}

/** The selectors sorted by {@link compareSelectors}, duplicates removed; the input is not changed. */
export function sortSelectors(selectors: Iterable<Selector>): Selector[] {
  return [...new SelectorSet(selectors)]
}

/** `type:value` strings, sorted and without duplicates, joined by `, ` (for logs and CLI output). */
export function formatSelectors(selectors: Iterable<Selector>): string {
  return sortSelectors(selectors).join(', ')
}

/**
 * An immutable set of selectors without duplicates. Iterates in {@link compareSelectors} order.
 * Membership is a string-set lookup, so matching many entries against one workload is cheap.
 */
export class SelectorSet implements Iterable<Selector> {
  readonly #byKey: ReadonlyMap<string, Selector>

  constructor(selectors: Iterable<Selector> = []) {
    const unique = new Map<string, Selector>()
    for (const selector of selectors) unique.set(selector.toString(), selector)
    this.#byKey = new Map([...unique].sort(([, a], [, b]) => compareSelectors(a, b)))
  }

  get size(): number {
    return this.#byKey.size
  }

  has(selector: Selector): boolean {
    return this.#byKey.has(selector.toString())
  }

  /** True when every selector of `other` is in this set (always true for an empty `other`). */
  includesAll(other: Iterable<Selector>): boolean {
    for (const selector of other) {
      if (!this.has(selector)) return false
    }
    return true
  }

  equals(other: SelectorSet): boolean {
    return this.size === other.size && this.includesAll(other)
  }

  [Symbol.iterator](): IterableIterator<Selector> {
    return this.#byKey.values()
  }

  /** The sorted `type:value` strings. */
  toStrings(): string[] {
    return [...this.#byKey.keys()]
  }

  toJSON(): { type: string; value: string }[] {
    return [...this].map((s) => s.toJSON())
  }
}

/**
 * The registration-entry matching rule: an entry applies to a workload (or node) when every one of
 * the entry's selectors is among the selectors attested for it. An entry without selectors matches
 * nothing, so a forgotten selector never hands an identity to every process.
 */
export function matchesSelectors(entrySelectors: Iterable<Selector>, workloadSelectors: SelectorSet): boolean {
  let any = false
  for (const selector of entrySelectors) {
    if (!workloadSelectors.has(selector)) return false
    any = true
  }
  return any
}
