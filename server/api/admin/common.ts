import { InvalidArgumentError, errorMessage } from '../../../common/errors.js'
import type { Logger } from '../../../common/logger.js'
import type { AuditEvent } from '../../../plugins/data-store/types.js'
import { parseSpiffeId, type SpiffeId } from '../../../spiffe/index.js'
import type { ServerCore } from '../../core.js'
import type { HealthChecker } from '../../health.js'
import { LIMITS, checkText, isReservedId } from '../../registration/index.js'
import { recordAudit as recordAuditEvents } from '../../store/record-audit.js'

/** What every admin handler works with. */
export interface AdminContext {
  readonly core: ServerCore
  readonly log: Logger
  /** Who calls, for the audit trail: `admin:uid:<uid>`. */
  readonly actor: string
  readonly health: HealthChecker
}

/** Appends audit events with the admin API's logger (see {@link recordAuditEvents}). Never rejects. */
export function recordAudit(ctx: AdminContext, events: readonly AuditEvent[]): Promise<void> {
  return recordAuditEvents(ctx.core.store.audit, ctx.log, events)
}

/**
 * A SPIFFE ID the server may issue to a workload: present, well-formed, in the server's trust
 * domain, with a path, outside the paths reserved for the server and agents, and within
 * {@link LIMITS.spiffeIdBytes}.
 * @throws InvalidArgumentError `<field>: …` naming the broken rule.
 */
export function workloadIdField(ctx: AdminContext, value: string, field: string): SpiffeId {
  const td = ctx.core.config.trustDomain
  if (value === '') throw InvalidArgumentError.forField(field, `is required`)
  let id: SpiffeId
  try {
    id = parseSpiffeId(value)
  } catch (err) {
    throw InvalidArgumentError.forField(field, `${errorMessage(err)}`, { cause: err })
  }
  checkText(value, field, LIMITS.spiffeIdBytes)
  if (!id.memberOf(td)) throw InvalidArgumentError.forField(field, `must be in trust domain "${td.name}", not "${id.trustDomain.name}"`)
  if (id.isRoot) throw InvalidArgumentError.forField(field, `must have a non-root path`)
  if (isReservedId(id, td)) throw InvalidArgumentError.forField(field, `path "${id.path}" is reserved for the server and agents`)
  return id
}

/**
 * A TTL request field: 0 means `fallback`; otherwise a whole number of seconds from 1 to `max`.
 * @throws InvalidArgumentError `<field>: …`.
 */
export function ttlField(value: number, field: string, fallback: number, max = 2 ** 31 - 1): number {
  if (value === 0) return fallback
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw InvalidArgumentError.forField(field, `must be a whole number of seconds between 1 and ${max} (0 = the server default)`)
  }
  return value
}
