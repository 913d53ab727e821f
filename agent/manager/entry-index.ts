import { matchesSelectors, type SelectorSet } from '../../spiffe/index.js'
import type { AgentEntry } from './types.js'

/**
 * The agent's authorized entries, indexed by selector: a workload's matching entries are found from
 * the entries that share at least one selector with it, not by scanning every entry, so a node with
 * thousands of entries answers each call in time proportional to what matches.
 */
export class EntryIndex {
  readonly #entries = new Map<string, AgentEntry>()
  /** Selector string → ids of entries that have it. */
  readonly #bySelector = new Map<string, Set<string>>()

  get size(): number {
    return this.#entries.size
  }

  get(id: string): AgentEntry | undefined {
    return this.#entries.get(id)
  }

  ids(): IterableIterator<string> {
    return this.#entries.keys()
  }

  values(): IterableIterator<AgentEntry> {
    return this.#entries.values()
  }

  /** Adds or replaces an entry; returns the one it replaced. */
  set(entry: AgentEntry): AgentEntry | undefined {
    const previous = this.delete(entry.id)
    this.#entries.set(entry.id, entry)
    for (const selector of entry.selectors) {
      const key = selector.toString()
      let ids = this.#bySelector.get(key)
      if (ids === undefined) this.#bySelector.set(key, (ids = new Set()))
      ids.add(entry.id)
    }
    return previous
  }

  /** Removes an entry; returns it, or undefined when it was not there. */
  delete(id: string): AgentEntry | undefined {
    const entry = this.#entries.get(id)
    if (entry === undefined) return undefined
    this.#entries.delete(id)
    for (const selector of entry.selectors) {
      const key = selector.toString()
      const ids = this.#bySelector.get(key)
      ids?.delete(id)
      if (ids?.size === 0) this.#bySelector.delete(key)
    }
    return entry
  }

  /**
   * Entries whose selectors are all among `selectors`, oldest first (creation time, then id), so the
   * default identity (the first) stays the same from one update to the next (WAPI-13).
   */
  matching(selectors: SelectorSet): AgentEntry[] {
    const seen = new Set<string>()
    const matched: AgentEntry[] = []
    for (const selector of selectors) {
      const ids = this.#bySelector.get(selector.toString())
      if (ids === undefined) continue
      for (const id of ids) {
        if (seen.has(id)) continue
        seen.add(id)
        const entry = this.#entries.get(id)!
        if (matchesSelectors(entry.selectors, selectors)) matched.push(entry)
      }
    }
    return matched.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }
}
