import type { ChangeEvent, ChangeKind, EventStore } from '../types.js'
import { toMs, type Connection } from './connection.js'

interface EventRow {
  event_id: number
  kind: ChangeKind
  key: string
  at: number
}

/** Change events in `change_events`, written by the other stores inside their own transactions. */
export class SqliteEventStore implements EventStore {
  readonly #c: Connection

  constructor(conn: Connection) {
    this.#c = conn
  }

  async listSince(afterEventId: number, limit?: number): Promise<ChangeEvent[]> {
    return this.#c.read(() =>
      this.#c
        .statement<EventRow>('SELECT event_id, kind, key, at FROM change_events WHERE event_id > ? ORDER BY event_id LIMIT ?')
        .all(afterEventId, limit !== undefined && limit > 0 ? limit : -1)
        .map((row) => Object.freeze({ eventId: row.event_id, kind: row.kind, key: row.key, at: new Date(row.at) })),
    )
  }

  async latestEventId(): Promise<number> {
    // The AUTOINCREMENT counter, not MAX(event_id): it stays put when the newest events are pruned.
    return this.#c.read(
      () => this.#c.statement<number>("SELECT seq FROM sqlite_sequence WHERE name = 'change_events'").pluck().get() ?? 0,
    )
  }

  async prune(before: Date): Promise<number> {
    const beforeMs = toMs(before)
    return this.#c.write(() => this.#c.statement('DELETE FROM change_events WHERE at < ?').run(beforeMs).changes)
  }
}
