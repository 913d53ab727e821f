import { parseSelector, sortSelectors, type Selector } from '../../../spiffe/index.js'
import type { SelectorMatch } from '../types.js'
import type { Connection } from './connection.js'

/**
 * Selectors in SQL. A record's selectors are stored as a canonical key (a JSON array of sorted
 * `type:value` strings: JSON, not a joined string, because a value may contain any separator) and
 * as child rows `(owner_seq, type, value)` indexed by `(type, value)` for filters.
 */

/** The canonical key of a selector set: equal sets give equal keys. */
export function selectorsKey(sorted: readonly Selector[]): string {
  return JSON.stringify(sorted.map((s) => s.toString()))
}

/** Reads a key back, remembering parsed selectors across the rows of one listing. */
export function selectorsFromKey(key: string, memo: Map<string, Selector>): Selector[] {
  return (JSON.parse(key) as string[]).map((text) => {
    let selector = memo.get(text)
    if (selector === undefined) {
      selector = parseSelector(text)
      memo.set(text, selector)
    }
    return selector
  })
}

/** Where a kind of record keeps its selector rows. */
export interface SelectorTable {
  /** `entry_selectors` or `node_selectors`. */
  readonly table: string
  /** Its column referencing the owner's `seq`. */
  readonly ownerColumn: string
  /** `entries` or `attested_nodes`. */
  readonly ownerTable: string
  /** Alias of the owner table in the outer query. */
  readonly alias: string
  /** Whether the owner table has `selector_count` (needed for `subset`). */
  readonly hasCount: boolean
}

/** Writes the selector rows of a record; `replace` first removes the old ones. */
export function writeSelectorRows(conn: Connection, t: SelectorTable, ownerSeq: number, sorted: readonly Selector[], replace: boolean): void {
  if (replace) conn.statement(`DELETE FROM ${t.table} WHERE ${t.ownerColumn} = ?`).run(ownerSeq)
  const insert = conn.statement(`INSERT INTO ${t.table} (${t.ownerColumn}, type, value) VALUES (?, ?, ?)`)
  for (const s of sorted) insert.run(ownerSeq, s.type, s.value)
}

/**
 * A WHERE condition (and its parameters) for a selector match. The given selectors travel as one
 * JSON parameter, so the SQL text (and its prepared statement) depends on the mode only.
 * The row-value IN over the `(type, value)` index finds candidates without scanning owners.
 */
export function selectorCondition(t: SelectorTable, match: SelectorMatch, given: readonly Selector[]): { sql: string; params: unknown[] } {
  const sorted = sortSelectors(given)
  const pairs = JSON.stringify(sorted.map((s) => [s.type, s.value]))
  const owner = `${t.alias}.seq`
  const inGiven = '(s.type, s.value) IN (SELECT j.value ->> 0, j.value ->> 1 FROM json_each(?) j)'
  // Each owner has each selector once, so n matching rows means it has all n given ones.
  const superset = {
    sql: `${owner} IN (SELECT s.${t.ownerColumn} FROM ${t.table} s WHERE ${inGiven}
      GROUP BY s.${t.ownerColumn} HAVING COUNT(*) = ?)`,
    params: [pairs, sorted.length],
  }
  switch (match) {
    case 'exact':
      // With a count, a superset of the same size is the same set, found through the index;
      // comparing keys would read every owner row.
      if (t.hasCount && sorted.length > 0) return { sql: `${t.alias}.selector_count = ? AND ${superset.sql}`, params: [sorted.length, ...superset.params] }
      return { sql: `${t.alias}.selectors_key = ?`, params: [selectorsKey(sorted)] }
    case 'any':
      return { sql: `${owner} IN (SELECT s.${t.ownerColumn} FROM ${t.table} s WHERE ${inGiven})`, params: [pairs] }
    case 'superset':
      return sorted.length === 0 ? { sql: '1', params: [] } : superset
    case 'subset':
      if (!t.hasCount) throw new TypeError(`datastore: a subset match needs selector_count on ${t.ownerTable}`)
      // Every owner selector is among the given ones: as many matches as the owner has selectors.
      // An owner without selectors is a subset of any set (found through a partial index).
      return {
        sql: `${owner} IN (
          SELECT m.owner FROM (
            SELECT s.${t.ownerColumn} AS owner, COUNT(*) AS n FROM ${t.table} s WHERE ${inGiven} GROUP BY s.${t.ownerColumn}
          ) m WHERE m.n = (SELECT o.selector_count FROM ${t.ownerTable} o WHERE o.seq = m.owner)
          UNION ALL SELECT z.seq FROM ${t.ownerTable} z WHERE z.selector_count = 0)`,
        params: [pairs],
      }
  }
}
