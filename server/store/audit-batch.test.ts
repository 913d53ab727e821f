import { describe, expect, it } from 'vitest'
import { IN_MEMORY, openSqliteDataStore } from '../../plugins/data-store/sqlite/index.js'
import type { AuditEvent, AuditStore } from '../../plugins/data-store/types.js'
import { BatchedAuditStore, withBatchedAudit } from './audit-batch.js'

function event(i: number): AuditEvent {
  return { at: new Date(1_700_000_000_000 + i), action: 'svid.x509.sign', actor: 'admin', subject: `spiffe://example.org/w/${i}`, entryId: '', details: { i } }
}

/** An audit store that records each append call (one call = one transaction). */
class CountingAuditStore implements AuditStore {
  readonly calls: (readonly AuditEvent[])[] = []
  failNext = false
  append(events: readonly AuditEvent[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false
      return Promise.reject(new Error('disk full'))
    }
    this.calls.push([...events])
    return Promise.resolve()
  }
  list(): Promise<AuditEvent[]> {
    return Promise.resolve(this.calls.flat())
  }
  prune(): Promise<number> {
    return Promise.resolve(0)
  }
}

describe('BatchedAuditStore', () => {
  it('commits appends made in the same turn in one transaction, and each caller waits for it', async () => {
    const inner = new CountingAuditStore()
    const audit = new BatchedAuditStore(inner)
    const done = await Promise.all([audit.append([event(1)]), audit.append([event(2), event(3)]), audit.append([event(4)])])
    expect(done).toHaveLength(3)
    expect(inner.calls.map((c) => c.map((e) => e.subject))).toEqual([
      ['spiffe://example.org/w/1', 'spiffe://example.org/w/2', 'spiffe://example.org/w/3', 'spiffe://example.org/w/4'],
    ])
  })

  it('puts appends made while a commit runs into the next commit', async () => {
    const inner = new CountingAuditStore()
    const audit = new BatchedAuditStore(inner)
    const first = audit.append([event(1)])
    await new Promise((resolve) => setImmediate(resolve))
    const second = audit.append([event(2)])
    await Promise.all([first, second])
    expect(inner.calls).toHaveLength(2)
    expect(inner.calls[1]!.map((e) => e.subject)).toEqual(['spiffe://example.org/w/2'])
  })

  it('rejects every append of a failed commit and recovers for the next', async () => {
    const inner = new CountingAuditStore()
    const audit = new BatchedAuditStore(inner)
    inner.failNext = true
    const results = await Promise.allSettled([audit.append([event(1)]), audit.append([event(2)])])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    await audit.append([event(3)])
    expect(inner.calls.flat().map((e) => e.subject)).toEqual(['spiffe://example.org/w/3'])
  })

  it('writes to SQLite and close() drains pending appends first', async () => {
    const sqlite = openSqliteDataStore({ path: IN_MEMORY })
    const store = withBatchedAudit(sqlite)
    const pending = store.audit.append([event(1), event(2)])
    await pending
    expect((await store.audit.list()).map((e) => e.subject).sort()).toEqual(['spiffe://example.org/w/1', 'spiffe://example.org/w/2'])
    const late = store.audit.append([event(3)])
    await store.close()
    await expect(late).resolves.toBeUndefined()
  })
})
