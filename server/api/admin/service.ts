import { InvalidArgumentError } from '../../../common/errors.js'
import type { AuditFilter } from '../../../plugins/data-store/types.js'
import type { AdminAPIHandlers } from '../../../proto/generated/steeple/admin/v1/AdminAPI.js'
import type { HealthResponse } from '../../../proto/generated/steeple/admin/v1/HealthResponse.js'
import type { ListAuditEventsRequest__Output } from '../../../proto/generated/steeple/admin/v1/ListAuditEventsRequest.js'
import type { ListAuditEventsResponse } from '../../../proto/generated/steeple/admin/v1/ListAuditEventsResponse.js'
import { unixSeconds } from '../convert.js'
import { unaryHandler } from '../grpc.js'
import { AgentHandlers } from './agents.js'
import { BundleHandlers } from './bundles.js'
import type { AdminContext } from './common.js'
import { EntryHandlers } from './entries.js'
import { MintHandlers } from './mint.js'

/** Audit events returned when the request sets no limit. */
export const DEFAULT_AUDIT_LIMIT = 100
/** Most audit events one call returns. */
export const MAX_AUDIT_LIMIT = 10_000

/** The AdminAPI service implementation: every method goes through the one error-to-status boundary. */
export function adminApiHandlers(ctx: AdminContext): AdminAPIHandlers {
  const entries = new EntryHandlers(ctx)
  const agents = new AgentHandlers(ctx)
  const bundles = new BundleHandlers(ctx)
  const mint = new MintHandlers(ctx)
  const log = ctx.log
  return {
    CreateEntries: unaryHandler(log, 'CreateEntries', (call) => entries.create(call.request)),
    UpdateEntries: unaryHandler(log, 'UpdateEntries', (call) => entries.update(call.request)),
    DeleteEntries: unaryHandler(log, 'DeleteEntries', (call) => entries.delete(call.request)),
    GetEntry: unaryHandler(log, 'GetEntry', (call) => entries.get(call.request)),
    ListEntries: unaryHandler(log, 'ListEntries', (call) => entries.list(call.request)),
    CountEntries: unaryHandler(log, 'CountEntries', (call) => entries.count(call.request)),

    ListAgents: unaryHandler(log, 'ListAgents', (call) => agents.list(call.request)),
    GetAgent: unaryHandler(log, 'GetAgent', (call) => agents.get(call.request)),
    EvictAgent: unaryHandler(log, 'EvictAgent', (call) => agents.evict(call.request)),
    BanAgent: unaryHandler(log, 'BanAgent', (call) => agents.ban(call.request)),
    CreateJoinToken: unaryHandler(log, 'CreateJoinToken', (call) => agents.createJoinToken(call.request)),

    GetBundle: unaryHandler(log, 'GetBundle', () => bundles.get()),
    ListFederatedBundles: unaryHandler(log, 'ListFederatedBundles', () => bundles.listFederated()),
    SetFederatedBundle: unaryHandler(log, 'SetFederatedBundle', (call) => bundles.setFederated(call.request)),
    DeleteFederatedBundle: unaryHandler(log, 'DeleteFederatedBundle', (call) => bundles.deleteFederated(call.request)),

    MintX509SVID: unaryHandler(log, 'MintX509SVID', (call) => mint.x509(call.request)),
    MintJWTSVID: unaryHandler(log, 'MintJWTSVID', (call) => mint.jwt(call.request)),

    ListAuditEvents: unaryHandler(log, 'ListAuditEvents', (call) => listAuditEvents(ctx, call.request)),
    Health: unaryHandler(log, 'Health', () => health(ctx)),
  }
}

/** Newest first. @throws InvalidArgumentError for a negative `since` or a bad `limit`. */
async function listAuditEvents(ctx: AdminContext, request: ListAuditEventsRequest__Output): Promise<ListAuditEventsResponse> {
  const since = Number(request.since)
  if (!Number.isSafeInteger(since) || since < 0) throw new InvalidArgumentError('since: must be unix seconds, 0 or more')
  if (request.limit < 0 || request.limit > MAX_AUDIT_LIMIT) throw new InvalidArgumentError(`limit: must be between 0 and ${MAX_AUDIT_LIMIT} (0 = ${DEFAULT_AUDIT_LIMIT})`)
  const filter: AuditFilter = {
    ...(since > 0 && { since: new Date(since * 1000) }),
    ...(request.subject !== '' && { subject: request.subject }),
    ...(request.actor !== '' && { actor: request.actor }),
    ...(request.action !== '' && { action: request.action }),
    ...(request.entry_id !== '' && { entryId: request.entry_id }),
  }
  const events = await ctx.core.store.audit.list(filter, request.limit === 0 ? DEFAULT_AUDIT_LIMIT : request.limit)
  return {
    events: events.map((e) => ({
      at_ms: e.at.getTime(),
      action: e.action,
      actor: e.actor,
      subject: e.subject,
      entry_id: e.entryId,
      details_json: JSON.stringify(e.details),
    })),
  }
}

/** Never fails while the socket answers: a server that is not ready says why. */
async function health(ctx: AdminContext): Promise<HealthResponse> {
  const report = await ctx.health.check()
  return {
    live: report.live,
    ready: report.ready,
    trust_domain: report.trustDomain,
    ca_expires_at: unixSeconds(report.caExpiresAt),
    entries: report.entries,
    agents: report.agents,
    problem: report.problem,
  }
}
