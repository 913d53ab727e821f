import { randomUUID, X509Certificate } from 'node:crypto'
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, UnavailableError } from '../../common/errors.js'
import type {
  AttestedNode,
  AuditEvent,
  AuditFilter,
  AuditStore,
  BundleStore,
  ChangeEvent,
  ChangeKind,
  DataStore,
  EntryFilter,
  EntryStore,
  EventStore,
  JoinToken,
  JoinTokenStore,
  NewRegistrationEntry,
  NodeFilter,
  NodeStore,
  Page,
  PageOf,
  RegistrationEntry,
} from '../../plugins/data-store/types.js'
import {
  Bundle,
  SelectorSet,
  sortSelectors,
  type Selector,
  type SpiffeId,
  type TrustDomain,
} from '../../spiffe/index.js'

/**
 * An in-memory DataStore that keeps the whole contract of plugins/data-store/types.ts: change
 * events appended with every entry, node and bundle write, the entry uniqueness rule,
 * NotFoundError / AlreadyExistsError, page tokens, copies on the way in and out (so a caller
 * mutating a Date cannot change stored state), and failure after close(). For tests of code
 * that depends on the DataStore interface only.
 */
export class MemoryDataStore implements DataStore {
  readonly entries: EntryStore
  readonly nodes: NodeStore
  readonly bundles: BundleStore
  readonly joinTokens: JoinTokenStore
  readonly events: EventStore
  readonly audit: AuditStore
  readonly #state: State

  /** `clock` stamps createdAt and event times; defaults to the current time. */
  constructor(opts: { clock?: () => Date } = {}) {
    this.#state = new State(opts.clock ?? (() => new Date()))
    this.entries = new MemoryEntryStore(this.#state)
    this.nodes = new MemoryNodeStore(this.#state)
    this.bundles = new MemoryBundleStore(this.#state)
    this.joinTokens = new MemoryJoinTokenStore(this.#state)
    this.events = new MemoryEventStore(this.#state)
    this.audit = new MemoryAuditStore(this.#state)
  }

  async close(): Promise<void> {
    this.#state.open()
    this.#state.closed = true
  }
}

class State {
  closed = false
  readonly events: ChangeEvent[] = []
  #lastEventId = 0
  #seq = 0

  constructor(readonly clock: () => Date) {}

  open(): void {
    if (this.closed) throw new UnavailableError('datastore(memory): the store is closed')
  }

  appendEvent(kind: ChangeKind, key: string): void {
    this.#lastEventId += 1
    this.events.push(Object.freeze({ eventId: this.#lastEventId, kind, key, at: this.clock() }))
  }

  get lastEventId(): number {
    return this.#lastEventId
  }

  nextSeq(): number {
    return ++this.#seq
  }
}

/** Records in insertion order, each with a sequence number that page tokens refer to. */
function paginate<T>(rows: Iterable<{ seq: number; value: T }>, page: Page | undefined, copy: (v: T) => T): PageOf<T> {
  const after = page?.pageToken === undefined || page.pageToken === '' ? 0 : Number(page.pageToken)
  if (!Number.isSafeInteger(after) || after < 0) throw new InvalidArgumentError('page_token: is not a token from a previous page')
  const size = page?.pageSize ?? 0
  const items: T[] = []
  let last = 0
  let more = false
  for (const row of rows) {
    if (row.seq <= after) continue
    if (size > 0 && items.length === size) {
      more = true
      break
    }
    items.push(copy(row.value))
    last = row.seq
  }
  return more ? { items, nextPageToken: String(last) } : { items }
}

function selectorKey(selectors: readonly Selector[]): string {
  return sortSelectors(selectors).join('\n')
}

function uniquenessKey(e: { spiffeId: SpiffeId; parentId: SpiffeId; selectors: readonly Selector[] }): string {
  return `${e.spiffeId.toString()}\n${e.parentId.toString()}\n${selectorKey(e.selectors)}`
}

function copyDate(d: Date): Date
function copyDate(d: Date | undefined): Date | undefined
function copyDate(d: Date | undefined): Date | undefined {
  return d === undefined ? undefined : new Date(d.getTime())
}

function copyEntry(e: RegistrationEntry): RegistrationEntry {
  return Object.freeze({
    ...e,
    selectors: Object.freeze([...e.selectors]),
    dnsNames: Object.freeze([...e.dnsNames]),
    federatesWith: Object.freeze([...e.federatesWith]),
    expiresAt: copyDate(e.expiresAt),
    createdAt: copyDate(e.createdAt),
  })
}

function matchesEntryFilter(e: RegistrationEntry, f: EntryFilter | undefined): boolean {
  if (f === undefined) return true
  if (f.spiffeId !== undefined && !e.spiffeId.equals(f.spiffeId)) return false
  if (f.parentId !== undefined && !e.parentId.equals(f.parentId)) return false
  if (f.hint !== undefined && e.hint !== f.hint) return false
  if (f.owner !== undefined && e.owner !== f.owner) return false
  if (f.downstream !== undefined && e.downstream !== f.downstream) return false
  if (f.federatesWith !== undefined && !e.federatesWith.some((td) => td.equals(f.federatesWith as TrustDomain))) return false
  if (f.selectors !== undefined) {
    const entrySet = new SelectorSet(e.selectors)
    const given = new SelectorSet(f.selectors.selectors)
    switch (f.selectors.match) {
      case 'exact':
        return entrySet.equals(given)
      case 'subset':
        return given.includesAll(entrySet)
      case 'superset':
        return entrySet.includesAll(given)
      case 'any':
        return [...given].some((s) => entrySet.has(s))
    }
  }
  return true
}

class MemoryEntryStore implements EntryStore {
  readonly #rows = new Map<string, { seq: number; value: RegistrationEntry }>()
  readonly #byUniqueKey = new Map<string, string>()

  constructor(readonly state: State) {}

  #assertUnique(e: RegistrationEntry | NewRegistrationEntry, selfId: string | undefined): void {
    const other = this.#byUniqueKey.get(uniquenessKey(e))
    if (other !== undefined && other !== selfId) {
      throw new AlreadyExistsError(
        `entry: an entry with the same spiffe_id, parent_id and selectors already exists (id "${other}")`,
      )
    }
  }

  async create(entry: NewRegistrationEntry): Promise<RegistrationEntry> {
    this.state.open()
    const id = entry.id === undefined || entry.id === '' ? randomUUID() : entry.id
    if (this.#rows.has(id)) throw new AlreadyExistsError(`entry: id "${id}" is already taken`)
    this.#assertUnique(entry, undefined)
    const stored = copyEntry({
      ...entry,
      id,
      selectors: sortSelectors(entry.selectors),
      revisionNumber: 0,
      createdAt: this.state.clock(),
    })
    this.#rows.set(id, { seq: this.state.nextSeq(), value: stored })
    this.#byUniqueKey.set(uniquenessKey(stored), id)
    this.state.appendEvent('entry', id)
    return copyEntry(stored)
  }

  async get(id: string): Promise<RegistrationEntry | undefined> {
    this.state.open()
    const row = this.#rows.get(id)
    return row === undefined ? undefined : copyEntry(row.value)
  }

  async list(filter?: EntryFilter, page?: Page): Promise<PageOf<RegistrationEntry>> {
    this.state.open()
    const rows = [...this.#rows.values()].filter((r) => matchesEntryFilter(r.value, filter))
    return paginate(rows, page, copyEntry)
  }

  async count(filter?: EntryFilter): Promise<number> {
    this.state.open()
    let n = 0
    for (const row of this.#rows.values()) if (matchesEntryFilter(row.value, filter)) n++
    return n
  }

  async update(entry: Omit<RegistrationEntry, 'revisionNumber' | 'createdAt'>): Promise<RegistrationEntry> {
    this.state.open()
    const row = this.#rows.get(entry.id)
    if (row === undefined) throw new NotFoundError(`entry: no entry with id "${entry.id}"`)
    this.#assertUnique(entry, entry.id)
    const old = row.value
    const stored = copyEntry({
      ...entry,
      selectors: sortSelectors(entry.selectors),
      revisionNumber: old.revisionNumber + 1,
      createdAt: old.createdAt,
    })
    this.#byUniqueKey.delete(uniquenessKey(old))
    this.#byUniqueKey.set(uniquenessKey(stored), stored.id)
    row.value = stored
    this.state.appendEvent('entry', stored.id)
    return copyEntry(stored)
  }

  async delete(id: string): Promise<RegistrationEntry> {
    this.state.open()
    const row = this.#rows.get(id)
    if (row === undefined) throw new NotFoundError(`entry: no entry with id "${id}"`)
    this.#remove(row.value)
    return copyEntry(row.value)
  }

  #remove(e: RegistrationEntry): void {
    this.#rows.delete(e.id)
    this.#byUniqueKey.delete(uniquenessKey(e))
    this.state.appendEvent('entry', e.id)
  }

  async pruneExpired(before: Date): Promise<number> {
    this.state.open()
    let n = 0
    for (const { value } of [...this.#rows.values()]) {
      if (value.expiresAt !== undefined && value.expiresAt.getTime() < before.getTime()) {
        this.#remove(value)
        n++
      }
    }
    return n
  }
}

function copyNode(n: AttestedNode): AttestedNode {
  return Object.freeze({
    ...n,
    selectors: Object.freeze(sortSelectors(n.selectors)),
    certNotAfter: copyDate(n.certNotAfter),
    newCertNotAfter: copyDate(n.newCertNotAfter),
    createdAt: copyDate(n.createdAt),
    lastSeenAt: copyDate(n.lastSeenAt),
  })
}

function matchesNodeFilter(n: AttestedNode, f: NodeFilter | undefined): boolean {
  if (f === undefined) return true
  if (f.attestationType !== undefined && n.attestationType !== f.attestationType) return false
  if (f.banned !== undefined && n.banned !== f.banned) return false
  if (f.selectors !== undefined && !new SelectorSet(n.selectors).includesAll(f.selectors)) return false
  if (f.expiresBefore !== undefined && !(n.certNotAfter.getTime() < f.expiresBefore.getTime())) return false
  return true
}

class MemoryNodeStore implements NodeStore {
  readonly #rows = new Map<string, { seq: number; value: AttestedNode }>()

  constructor(readonly state: State) {}

  async create(node: Omit<AttestedNode, 'createdAt'>): Promise<AttestedNode> {
    this.state.open()
    const key = node.spiffeId.toString()
    if (this.#rows.has(key)) throw new AlreadyExistsError(`node: agent "${key}" is already attested`)
    const stored = copyNode({ ...node, createdAt: this.state.clock() })
    this.#rows.set(key, { seq: this.state.nextSeq(), value: stored })
    this.state.appendEvent('node', key)
    return copyNode(stored)
  }

  async get(spiffeId: SpiffeId): Promise<AttestedNode | undefined> {
    this.state.open()
    const row = this.#rows.get(spiffeId.toString())
    return row === undefined ? undefined : copyNode(row.value)
  }

  async list(filter?: NodeFilter, page?: Page): Promise<PageOf<AttestedNode>> {
    this.state.open()
    return paginate([...this.#rows.values()].filter((r) => matchesNodeFilter(r.value, filter)), page, copyNode)
  }

  async count(filter?: NodeFilter): Promise<number> {
    this.state.open()
    let n = 0
    for (const row of this.#rows.values()) if (matchesNodeFilter(row.value, filter)) n++
    return n
  }

  async update(node: Omit<AttestedNode, 'createdAt'>): Promise<AttestedNode> {
    this.state.open()
    const key = node.spiffeId.toString()
    const row = this.#rows.get(key)
    if (row === undefined) throw new NotFoundError(`node: no attested agent "${key}"`)
    row.value = copyNode({ ...node, createdAt: row.value.createdAt })
    this.state.appendEvent('node', key)
    return copyNode(row.value)
  }

  async delete(spiffeId: SpiffeId): Promise<AttestedNode> {
    this.state.open()
    const key = spiffeId.toString()
    const row = this.#rows.get(key)
    if (row === undefined) throw new NotFoundError(`node: no attested agent "${key}"`)
    this.#rows.delete(key)
    this.state.appendEvent('node', key)
    return copyNode(row.value)
  }
}

function sameDer(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}

/** A bundle whose DER bytes are not shared with the caller's. */
function copyBundle(bundle: Bundle): Bundle {
  return bundle.with({ x509Authorities: bundle.x509Authorities.map((der) => new Uint8Array(der)) })
}

class MemoryBundleStore implements BundleStore {
  readonly #bundles = new Map<string, Bundle>()

  constructor(readonly state: State) {}

  #put(bundle: Bundle): Bundle {
    this.#bundles.set(bundle.trustDomain.name, copyBundle(bundle))
    this.state.appendEvent('bundle', bundle.trustDomain.name)
    return copyBundle(bundle)
  }

  async set(bundle: Bundle): Promise<Bundle> {
    this.state.open()
    return this.#put(bundle)
  }

  async append(bundle: Bundle): Promise<Bundle> {
    this.state.open()
    const stored = this.#bundles.get(bundle.trustDomain.name)
    // A new bundle starts from the given refresh hint; an existing one keeps its own.
    const current = stored ?? new Bundle(bundle.trustDomain, { sequenceNumber: 0n, refreshHintSeconds: bundle.refreshHintSeconds })
    const x509 = [...current.x509Authorities]
    for (const der of bundle.x509Authorities) if (!x509.some((d) => sameDer(d, der))) x509.push(der)
    const jwt = new Map(current.jwtAuthorities)
    for (const [kid, authority] of bundle.jwtAuthorities) if (!jwt.has(kid)) jwt.set(kid, authority)
    const added = x509.length > current.x509Authorities.length || jwt.size > current.jwtAuthorities.size
    if (!added && this.#bundles.has(bundle.trustDomain.name)) return current
    return this.#put(
      current.with({
        x509Authorities: x509,
        jwtAuthorities: [...jwt.values()],
        sequenceNumber: (current.sequenceNumber ?? 0n) + (added ? 1n : 0n),
      }),
    )
  }

  async get(trustDomain: TrustDomain): Promise<Bundle | undefined> {
    this.state.open()
    const bundle = this.#bundles.get(trustDomain.name)
    return bundle === undefined ? undefined : copyBundle(bundle)
  }

  async list(): Promise<Bundle[]> {
    this.state.open()
    return [...this.#bundles.values()].map(copyBundle)
  }

  async delete(trustDomain: TrustDomain): Promise<void> {
    this.state.open()
    if (!this.#bundles.delete(trustDomain.name)) throw new NotFoundError(`bundle: no bundle for trust domain "${trustDomain.name}"`)
    this.state.appendEvent('bundle', trustDomain.name)
  }

  async pruneAuthorities(trustDomain: TrustDomain, before: Date, expiredJwtKids: readonly string[]): Promise<Bundle | undefined> {
    this.state.open()
    const current = this.#bundles.get(trustDomain.name)
    if (current === undefined) return undefined
    const x509 = current.x509Authorities.filter((der) => new Date(new X509Certificate(der).validTo).getTime() >= before.getTime())
    const jwt = [...current.jwtAuthorities.values()].filter((a) => !expiredJwtKids.includes(a.kid))
    if (x509.length === current.x509Authorities.length && jwt.length === current.jwtAuthorities.size) return current
    return this.#put(
      current.with({ x509Authorities: x509, jwtAuthorities: jwt, sequenceNumber: (current.sequenceNumber ?? 0n) + 1n }),
    )
  }
}

class MemoryJoinTokenStore implements JoinTokenStore {
  readonly #tokens = new Map<string, JoinToken>()

  constructor(readonly state: State) {}

  async create(token: Omit<JoinToken, 'createdAt'>): Promise<JoinToken> {
    this.state.open()
    if (this.#tokens.has(token.tokenHash)) throw new AlreadyExistsError('join token: a token with this hash already exists')
    const stored = Object.freeze({ ...token, expiresAt: copyDate(token.expiresAt), createdAt: this.state.clock() })
    this.#tokens.set(token.tokenHash, stored)
    return { ...stored }
  }

  async consume(tokenHash: string, now: Date): Promise<JoinToken | undefined> {
    this.state.open()
    const token = this.#tokens.get(tokenHash)
    if (token === undefined) return undefined
    this.#tokens.delete(tokenHash)
    return token.expiresAt.getTime() <= now.getTime() ? undefined : { ...token }
  }

  async pruneExpired(before: Date): Promise<number> {
    this.state.open()
    let n = 0
    for (const [hash, token] of [...this.#tokens]) {
      if (token.expiresAt.getTime() < before.getTime()) {
        this.#tokens.delete(hash)
        n++
      }
    }
    return n
  }
}

class MemoryEventStore implements EventStore {
  constructor(readonly state: State) {}

  async listSince(afterEventId: number, limit?: number): Promise<ChangeEvent[]> {
    this.state.open()
    const events = this.state.events
    // Events are in ID order: find the first one after `afterEventId` by bisection.
    let lo = 0
    let hi = events.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (events[mid]!.eventId <= afterEventId) lo = mid + 1
      else hi = mid
    }
    const end = limit !== undefined && limit > 0 ? Math.min(events.length, lo + limit) : events.length
    return events.slice(lo, end)
  }

  async latestEventId(): Promise<number> {
    this.state.open()
    return this.state.lastEventId
  }

  async prune(before: Date): Promise<number> {
    this.state.open()
    const keep = this.state.events.filter((e) => e.at.getTime() >= before.getTime())
    const n = this.state.events.length - keep.length
    this.state.events.splice(0, this.state.events.length, ...keep)
    return n
  }
}

class MemoryAuditStore implements AuditStore {
  readonly #events: AuditEvent[] = []

  constructor(readonly state: State) {}

  async append(events: readonly AuditEvent[]): Promise<void> {
    this.state.open()
    for (const e of events) this.#events.push(Object.freeze({ ...e, at: copyDate(e.at), details: structuredClone(e.details) }))
  }

  async list(filter: AuditFilter = {}, limit?: number): Promise<AuditEvent[]> {
    this.state.open()
    const out: AuditEvent[] = []
    // Newest by time first; among equal times the later-appended first.
    const order = this.#events.map((e, i) => ({ e, i })).sort((a, b) => b.e.at.getTime() - a.e.at.getTime() || b.i - a.i)
    for (const { e } of order) {
      if (filter.since !== undefined && e.at.getTime() < filter.since.getTime()) continue
      if (filter.subject !== undefined && e.subject !== filter.subject) continue
      if (filter.actor !== undefined && e.actor !== filter.actor) continue
      if (filter.action !== undefined && e.action !== filter.action) continue
      if (filter.entryId !== undefined && e.entryId !== filter.entryId) continue
      if (limit !== undefined && limit > 0 && out.length === limit) break
      out.push({ ...e, at: copyDate(e.at), details: structuredClone(e.details) })
    }
    return out
  }

  async prune(before: Date): Promise<number> {
    this.state.open()
    const before0 = this.#events.length
    const keep = this.#events.filter((e) => e.at.getTime() >= before.getTime())
    this.#events.splice(0, this.#events.length, ...keep)
    return before0 - keep.length
  }
}
