import { errorMessage } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { AuditEvent, AuditStore } from '../../plugins/data-store/types.js'

/**
 * Appends audit events. The store has no transaction spanning a write (an entry, a node, a signed
 * SVID) and the audit append that describes it, so a failed append cannot undo what was done: it
 * is logged loudly and the caller goes on. Never rejects.
 */
export async function recordAudit(audit: Pick<AuditStore, 'append'>, log: Logger, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return
  try {
    await audit.append(events)
  } catch (err) {
    log.error('Audit events not recorded', {
      actions: [...new Set(events.map((e) => e.action))],
      count: events.length,
      entryIds: [...new Set(events.map((e) => e.entryId).filter((id) => id !== ''))],
      err: errorMessage(err),
    })
  }
}
