import type { AuditEvent, AuditFilter, AuditStore } from '../types.js'
import { toMs, type Connection } from './connection.js'

interface AuditRow {
  at: number
  action: string
  actor: string
  subject: string
  entry_id: string
  details: string
}

const INSERT = `INSERT INTO audit_events (at, action, actor, subject, entry_id, details)
  VALUES (@at, @action, @actor, @subject, @entry_id, @details)`

/** The audit trail in `audit_events`: append-only apart from pruning by age. */
export class SqliteAuditStore implements AuditStore {
  readonly #c: Connection

  constructor(conn: Connection) {
    this.#c = conn
  }

  async append(events: readonly AuditEvent[]): Promise<void> {
    // Serialize before the transaction: details that are not JSON fail without holding the lock.
    const rows: AuditRow[] = events.map((e) => ({
      at: toMs(e.at),
      action: e.action,
      actor: e.actor,
      subject: e.subject,
      entry_id: e.entryId,
      details: JSON.stringify(e.details ?? {}),
    }))
    if (rows.length === 0) return this.#c.assertOpen()
    this.#c.write(() => {
      const insert = this.#c.statement(INSERT)
      for (const row of rows) insert.run(row)
    })
  }

  async list(filter: AuditFilter = {}, limit?: number): Promise<AuditEvent[]> {
    const terms: string[] = []
    const params: unknown[] = []
    if (filter.since !== undefined) {
      terms.push('at >= ?')
      params.push(toMs(filter.since))
    }
    for (const [column, value] of [
      ['subject', filter.subject],
      ['actor', filter.actor],
      ['action', filter.action],
      ['entry_id', filter.entryId],
    ] as const) {
      if (value === undefined) continue
      terms.push(`${column} = ?`)
      params.push(value)
    }
    const where = terms.length === 0 ? '1' : terms.join(' AND ')
    return this.#c.read(() =>
      this.#c
        .statement<AuditRow>(`SELECT at, action, actor, subject, entry_id, details FROM audit_events WHERE ${where}
          ORDER BY at DESC, id DESC LIMIT ?`)
        .all(...params, limit !== undefined && limit > 0 ? limit : -1)
        .map((row) =>
          Object.freeze({
            at: new Date(row.at),
            action: row.action,
            actor: row.actor,
            subject: row.subject,
            entryId: row.entry_id,
            details: JSON.parse(row.details) as Record<string, unknown>,
          }),
        ),
    )
  }

  async prune(before: Date): Promise<number> {
    const beforeMs = toMs(before)
    return this.#c.write(() => this.#c.statement('DELETE FROM audit_events WHERE at < ?').run(beforeMs).changes)
  }
}
