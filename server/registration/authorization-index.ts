import type { AttestedNode, RegistrationEntry } from '../../plugins/data-store/types.js'
import { SelectorSet, matchesSelectors, type Selector, type SpiffeId } from '../../spiffe/index.js'

/** An entry with the keys and the instant that queries need, computed once. */
interface IndexedEntry {
  readonly entry: RegistrationEntry
  readonly spiffeKey: string
  readonly parentKey: string
  /** Live while now <= this (RegistrationEntry.expiresAt: "after this instant"); Infinity = never expires. */
  readonly expiresAtMs: number
}

interface IndexedNode {
  readonly node: AttestedNode
  readonly selectors: SelectorSet
}

/** Adds `value` to the set under `key`. */
function addTo<V>(index: Map<string, Set<V>>, key: string, value: V): void {
  let set = index.get(key)
  if (set === undefined) index.set(key, (set = new Set()))
  set.add(value)
}

/** Removes `value` from the set under `key`, dropping the set when it empties. */
function removeFrom<V>(index: Map<string, Set<V>>, key: string, value: V): void {
  const set = index.get(key)
  if (set === undefined) return
  set.delete(value)
  if (set.size === 0) index.delete(key)
}

/**
 * Entries and attested nodes indexed for the authorization rule (see AuthorizedEntryCache): by
 * parent ID, by SPIFFE ID, node entries and agents by selector. Synchronous and in memory only;
 * every change is one record put or removed. IDs are compared as strings (`toString()`).
 */
export class AuthorizationIndex {
  readonly #serverId: string
  readonly #entries = new Map<string, IndexedEntry>()
  /** Parent ID → the entries under it. */
  readonly #childrenByParent = new Map<string, Set<IndexedEntry>>()
  /** SPIFFE ID → the entries that give it (several entries may give one ID). */
  readonly #entriesBySpiffeId = new Map<string, Set<IndexedEntry>>()
  /** Selector → node entries having it, to find an agent's aliases without a scan. */
  readonly #nodeEntriesBySelector = new Map<string, Set<IndexedEntry>>()
  readonly #nodes = new Map<string, IndexedNode>()
  /** Selector → agent IDs having it, to find the agents a node entry aliases. */
  readonly #nodesBySelector = new Map<string, Set<string>>()

  /** `serverId`: the parent ID of node entries, `spiffe://<td>/steeple/server`. */
  constructor(serverId: string) {
    this.#serverId = serverId
  }

  get entryCount(): number {
    return this.#entries.size
  }

  get nodeCount(): number {
    return this.#nodes.size
  }

  entry(entryId: string): RegistrationEntry | undefined {
    return this.#entries.get(entryId)?.entry
  }

  node(agentKey: string): AttestedNode | undefined {
    return this.#nodes.get(agentKey)?.node
  }

  nodeIds(): SpiffeId[] {
    return [...this.#nodes.values()].map((n) => n.node.spiffeId)
  }

  /** Adds or replaces an entry (by id). */
  putEntry(entry: RegistrationEntry): void {
    this.removeEntry(entry.id)
    const indexed: IndexedEntry = {
      entry,
      spiffeKey: entry.spiffeId.toString(),
      parentKey: entry.parentId.toString(),
      expiresAtMs: entry.expiresAt === undefined ? Infinity : entry.expiresAt.getTime(),
    }
    this.#entries.set(entry.id, indexed)
    addTo(this.#childrenByParent, indexed.parentKey, indexed)
    addTo(this.#entriesBySpiffeId, indexed.spiffeKey, indexed)
    if (indexed.parentKey === this.#serverId) {
      for (const selector of entry.selectors) addTo(this.#nodeEntriesBySelector, selector.toString(), indexed)
    }
  }

  removeEntry(entryId: string): void {
    const indexed = this.#entries.get(entryId)
    if (indexed === undefined) return
    this.#entries.delete(entryId)
    removeFrom(this.#childrenByParent, indexed.parentKey, indexed)
    removeFrom(this.#entriesBySpiffeId, indexed.spiffeKey, indexed)
    if (indexed.parentKey === this.#serverId) {
      for (const selector of indexed.entry.selectors) removeFrom(this.#nodeEntriesBySelector, selector.toString(), indexed)
    }
  }

  /** Adds or replaces an attested node (by SPIFFE ID). */
  putNode(node: AttestedNode): void {
    const key = node.spiffeId.toString()
    this.removeNode(key)
    const selectors = new SelectorSet(node.selectors)
    this.#nodes.set(key, { node, selectors })
    for (const selector of selectors) addTo(this.#nodesBySelector, selector.toString(), key)
  }

  removeNode(agentKey: string): void {
    const indexed = this.#nodes.get(agentKey)
    if (indexed === undefined) return
    this.#nodes.delete(agentKey)
    for (const selector of indexed.selectors) removeFrom(this.#nodesBySelector, selector.toString(), agentKey)
  }

  /** The entries the agent may receive at `nowMs`, in no particular order; [] for an unknown or banned agent. */
  authorizedEntries(agentKey: string, nowMs: number): RegistrationEntry[] {
    const node = this.#nodes.get(agentKey)
    if (node === undefined || node.node.banned) return []
    const roots = [agentKey, ...this.#aliasIds(node, nowMs)]
    // The server ID counts as visited so node entries are never handed out, even when an entry's
    // ID names the server (not possible through validation, but the store is the authority here).
    const visited = new Set([this.#serverId, ...roots])
    const queue: Set<IndexedEntry>[] = []
    for (const root of roots) {
      const children = this.#childrenByParent.get(root)
      if (children !== undefined) queue.push(children)
    }
    const out: RegistrationEntry[] = []
    for (let children = queue.pop(); children !== undefined; children = queue.pop()) {
      for (const child of children) {
        if (child.expiresAtMs < nowMs) continue
        out.push(child.entry)
        // Only IDs that are parents themselves are remembered: most entries are leaves.
        const grandchildren = this.#childrenByParent.get(child.spiffeKey)
        if (grandchildren !== undefined && !visited.has(child.spiffeKey)) {
          visited.add(child.spiffeKey)
          queue.push(grandchildren)
        }
      }
    }
    return out
  }

  /** The entry if the agent may receive it at `nowMs` (see {@link authorizedEntries}), else undefined. */
  authorizedEntry(agentKey: string, entryId: string, nowMs: number): RegistrationEntry | undefined {
    const node = this.#nodes.get(agentKey)
    if (node === undefined || node.node.banned) return undefined
    const indexed = this.#entries.get(entryId)
    if (indexed === undefined || indexed.expiresAtMs < nowMs) return undefined
    const roots = new Set([agentKey, ...this.#aliasIds(node, nowMs)])
    // Walk up from the entry's parent through live entries until a root is found; cheaper than
    // computing the whole authorized set when an agent has many entries.
    const stack = [indexed.parentKey]
    const visited = new Set<string>()
    for (let parent = stack.pop(); parent !== undefined; parent = stack.pop()) {
      if (roots.has(parent)) return indexed.entry
      if (parent === this.#serverId || visited.has(parent)) continue
      visited.add(parent)
      for (const ancestor of this.#entriesBySpiffeId.get(parent) ?? []) {
        if (ancestor.expiresAtMs >= nowMs) stack.push(ancestor.parentKey)
      }
    }
    return undefined
  }

  /**
   * Adds to `out` the attested agents that reach the entry with this ID as indexed now (their
   * authorized set changes when it does). Expiry is ignored: telling an agent too much only costs
   * a recomputation.
   */
  agentsAffectedByEntry(entryId: string, out: Set<string>): void {
    const indexed = this.#entries.get(entryId)
    if (indexed === undefined) return
    if (indexed.parentKey === this.#serverId) {
      this.#agentsMatching(indexed.entry.selectors, out)
      return
    }
    const stack = [indexed.parentKey]
    const visited = new Set<string>([this.#serverId])
    for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
      if (visited.has(id)) continue
      visited.add(id)
      if (this.#nodes.has(id)) out.add(id)
      for (const ancestor of this.#entriesBySpiffeId.get(id) ?? []) {
        if (ancestor.parentKey === this.#serverId) this.#agentsMatching(ancestor.entry.selectors, out)
        else stack.push(ancestor.parentKey)
      }
    }
  }

  /** Alias IDs of the live node entries whose selectors are all among the agent's. */
  #aliasIds(node: IndexedNode, nowMs: number): string[] {
    const out: string[] = []
    const checked = new Set<IndexedEntry>()
    for (const selector of node.selectors) {
      for (const nodeEntry of this.#nodeEntriesBySelector.get(selector.toString()) ?? []) {
        if (checked.has(nodeEntry)) continue
        checked.add(nodeEntry)
        if (nodeEntry.expiresAtMs >= nowMs && matchesSelectors(nodeEntry.entry.selectors, node.selectors)) {
          out.push(nodeEntry.spiffeKey)
        }
      }
    }
    return out
  }

  /** Adds to `out` the agents whose node selectors include all of `selectors`. */
  #agentsMatching(selectors: readonly Selector[], out: Set<string>): void {
    let smallest: Set<string> | undefined
    for (const selector of selectors) {
      const agents = this.#nodesBySelector.get(selector.toString())
      if (agents === undefined) return
      if (smallest === undefined || agents.size < smallest.size) smallest = agents
    }
    for (const key of smallest ?? []) {
      if (matchesSelectors(selectors, this.#nodes.get(key)!.selectors)) out.add(key)
    }
  }
}
