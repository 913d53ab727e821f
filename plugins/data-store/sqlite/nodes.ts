import { AlreadyExistsError, NotFoundError } from '../../../common/errors.js'
import { parseSpiffeId, sortSelectors, type Selector, type SpiffeId } from '../../../spiffe/index.js'
import type { AttestedNode, NodeFilter, NodeStore, Page, PageOf } from '../types.js'
import { finishPage, fromMsOrUndefined, readPage, toFlag, toMs, toMsOrNull, type Connection } from './connection.js'
import { selectorCondition, selectorsFromKey, selectorsKey, writeSelectorRows, type SelectorTable } from './selectors.js'

interface NodeRow {
  seq: number
  spiffe_id: string
  attestation_type: string
  selectors_key: string
  cert_serial: string
  cert_not_after: number
  new_cert_serial: string
  new_cert_not_after: number | null
  banned: number
  can_reattest: number
  created_at: number
  last_seen_at: number | null
}

const SELECTORS: SelectorTable = { table: 'node_selectors', ownerColumn: 'node_seq', ownerTable: 'attested_nodes', alias: 'n', hasCount: false }

const COLUMNS = `seq, spiffe_id, attestation_type, selectors_key, cert_serial, cert_not_after, new_cert_serial,
  new_cert_not_after, banned, can_reattest, created_at, last_seen_at`

const SELECT_BY_ID = `SELECT ${COLUMNS} FROM attested_nodes WHERE spiffe_id = ?`
const INSERT = `INSERT INTO attested_nodes (spiffe_id, attestation_type, selectors_key, cert_serial, cert_not_after,
  new_cert_serial, new_cert_not_after, banned, can_reattest, created_at, last_seen_at)
  VALUES (@spiffe_id, @attestation_type, @selectors_key, @cert_serial, @cert_not_after, @new_cert_serial,
  @new_cert_not_after, @banned, @can_reattest, @created_at, @last_seen_at)`
const UPDATE = `UPDATE attested_nodes SET attestation_type = @attestation_type, selectors_key = @selectors_key,
  cert_serial = @cert_serial, cert_not_after = @cert_not_after, new_cert_serial = @new_cert_serial,
  new_cert_not_after = @new_cert_not_after, banned = @banned, can_reattest = @can_reattest,
  last_seen_at = @last_seen_at
  WHERE seq = @seq`

function mutableColumns(n: Omit<AttestedNode, 'createdAt'>, sorted: readonly Selector[]) {
  return {
    spiffe_id: n.spiffeId.toString(),
    attestation_type: n.attestationType,
    selectors_key: selectorsKey(sorted),
    cert_serial: n.certSerial,
    cert_not_after: toMs(n.certNotAfter),
    new_cert_serial: n.newCertSerial,
    new_cert_not_after: toMsOrNull(n.newCertNotAfter),
    banned: toFlag(n.banned),
    can_reattest: toFlag(n.canReattest),
    last_seen_at: toMsOrNull(n.lastSeenAt),
  }
}

function toNode(row: NodeRow, selectorMemo: Map<string, Selector>, spiffeId?: SpiffeId): AttestedNode {
  return Object.freeze({
    spiffeId: spiffeId ?? parseSpiffeId(row.spiffe_id),
    attestationType: row.attestation_type,
    selectors: Object.freeze(selectorsFromKey(row.selectors_key, selectorMemo)),
    certSerial: row.cert_serial,
    certNotAfter: new Date(row.cert_not_after),
    newCertSerial: row.new_cert_serial,
    newCertNotAfter: fromMsOrUndefined(row.new_cert_not_after),
    banned: row.banned !== 0,
    canReattest: row.can_reattest !== 0,
    createdAt: new Date(row.created_at),
    lastSeenAt: fromMsOrUndefined(row.last_seen_at),
  })
}

function whereOf(filter: NodeFilter | undefined): { sql: string; params: unknown[] } {
  const terms: string[] = []
  const params: unknown[] = []
  if (filter?.attestationType !== undefined) {
    terms.push('n.attestation_type = ?')
    params.push(filter.attestationType)
  }
  if (filter?.banned !== undefined) {
    terms.push('n.banned = ?')
    params.push(toFlag(filter.banned))
  }
  if (filter?.expiresBefore !== undefined) {
    terms.push('n.cert_not_after < ?')
    params.push(toMs(filter.expiresBefore))
  }
  if (filter?.selectors !== undefined) {
    const condition = selectorCondition(SELECTORS, 'superset', filter.selectors)
    terms.push(condition.sql)
    params.push(...condition.params)
  }
  return { sql: terms.length === 0 ? '1' : terms.join(' AND '), params }
}

/** Attested agents in `attested_nodes` + `node_selectors`. */
export class SqliteNodeStore implements NodeStore {
  readonly #c: Connection

  constructor(conn: Connection) {
    this.#c = conn
  }

  async create(node: Omit<AttestedNode, 'createdAt'>): Promise<AttestedNode> {
    return this.#c.write(() => {
      const key = node.spiffeId.toString()
      if (this.#byId(key) !== undefined) throw new AlreadyExistsError(`node: agent "${key}" is already attested`)
      const sorted = sortSelectors(node.selectors)
      const createdAt = toMs(this.#c.clock())
      const row = { ...mutableColumns(node, sorted), created_at: createdAt }
      const seq = Number(this.#c.statement(INSERT).run(row).lastInsertRowid)
      writeSelectorRows(this.#c, SELECTORS, seq, sorted, false)
      this.#c.appendEvent('node', key, createdAt)
      return toNode({ ...row, seq }, new Map(), node.spiffeId)
    })
  }

  async get(spiffeId: SpiffeId): Promise<AttestedNode | undefined> {
    return this.#c.read(() => {
      const row = this.#byId(spiffeId.toString())
      return row === undefined ? undefined : toNode(row, new Map(), spiffeId)
    })
  }

  async list(filter?: NodeFilter, page?: Page): Promise<PageOf<AttestedNode>> {
    const { after, size, limit } = readPage(page)
    const where = whereOf(filter)
    return this.#c.read(() => {
      const rows = this.#c
        .statement<NodeRow>(`SELECT ${COLUMNS} FROM attested_nodes n WHERE ${where.sql} AND n.seq > ? ORDER BY n.seq LIMIT ?`)
        .all(...where.params, after, limit)
      const memo = new Map<string, Selector>()
      return finishPage(rows, size, (row) => toNode(row, memo))
    })
  }

  async count(filter?: NodeFilter): Promise<number> {
    const where = whereOf(filter)
    return this.#c.read(() => {
      const row = this.#c.statement<{ n: number }>(`SELECT COUNT(*) AS n FROM attested_nodes n WHERE ${where.sql}`).get(...where.params)
      return row!.n
    })
  }

  async update(node: Omit<AttestedNode, 'createdAt'>): Promise<AttestedNode> {
    return this.#c.write(() => {
      const key = node.spiffeId.toString()
      const old = this.#byId(key)
      if (old === undefined) throw new NotFoundError(`node: no attested agent "${key}"`)
      const sorted = sortSelectors(node.selectors)
      const row: NodeRow = { ...old, ...mutableColumns(node, sorted) }
      this.#c.statement(UPDATE).run(row)
      if (row.selectors_key !== old.selectors_key) writeSelectorRows(this.#c, SELECTORS, old.seq, sorted, true)
      this.#c.appendEvent('node', key, toMs(this.#c.clock()))
      return toNode(row, new Map(), node.spiffeId)
    })
  }

  async delete(spiffeId: SpiffeId): Promise<AttestedNode> {
    return this.#c.write(() => {
      const key = spiffeId.toString()
      const old = this.#byId(key)
      if (old === undefined) throw new NotFoundError(`node: no attested agent "${key}"`)
      this.#c.statement('DELETE FROM attested_nodes WHERE seq = ?').run(old.seq)
      this.#c.appendEvent('node', key, toMs(this.#c.clock()))
      return toNode(old, new Map(), spiffeId)
    })
  }

  #byId(spiffeId: string): NodeRow | undefined {
    return this.#c.statement<NodeRow>(SELECT_BY_ID).get(spiffeId)
  }
}
