import type * as grpc from '@grpc/grpc-js'
import { InvalidArgumentError, PermissionDeniedError } from '../../../common/errors.js'
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

/** What the admin service is built from: the context of every call but its actor. */
export interface AdminServiceOptions extends Omit<AdminContext, 'actor'> {
  /**
   * The audit actor of a call from `call.getPeer()` (`admin:uid:<uid>` of the connecting process);
   * undefined for a connection the admin socket did not authorize, which is refused.
   */
  actorOf(peer: string): string | undefined
}

/** The handlers of one call: its context carries the caller as the actor. */
class CallHandlers {
  readonly entries: EntryHandlers
  readonly agents: AgentHandlers
  readonly bundles: BundleHandlers
  readonly mint: MintHandlers

  constructor(readonly ctx: AdminContext) {
    this.entries = new EntryHandlers(ctx)
    this.agents = new AgentHandlers(ctx)
    this.bundles = new BundleHandlers(ctx)
    this.mint = new MintHandlers(ctx)
  }
}

/**
 * The AdminAPI service implementation: every method goes through the one error-to-status boundary,
 * is refused (PERMISSION_DENIED) unless its connection's caller is known, and answers after the
 * entry cache has applied its writes.
 */
export function adminApiHandlers(options: AdminServiceOptions): AdminAPIHandlers {
  const { actorOf, ...shared } = options
  const log = shared.log
  const of = (call: { getPeer(): string }): CallHandlers => {
    const actor = actorOf(call.getPeer())
    if (actor === undefined) throw new PermissionDeniedError('admin: the caller of this connection is not authorized')
    return new CallHandlers({ ...shared, actor })
  }
  // Answers once the entry cache has applied what the call wrote, so agents' sync streams already
  // carry the change when the operator sees the result.
  const adminCall = <Req, Res>(method: string, handle: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>) =>
    unaryHandler<Req, Res>(log, method, async (call) => {
      const response = await handle(call)
      await shared.core.changesApplied()
      return response
    })
  return {
    CreateEntries: adminCall('CreateEntries', async (call) => of(call).entries.create(call.request)),
    UpdateEntries: adminCall('UpdateEntries', async (call) => of(call).entries.update(call.request)),
    DeleteEntries: adminCall('DeleteEntries', async (call) => of(call).entries.delete(call.request)),
    GetEntry: adminCall('GetEntry', async (call) => of(call).entries.get(call.request)),
    ListEntries: adminCall('ListEntries', async (call) => of(call).entries.list(call.request)),
    CountEntries: adminCall('CountEntries', async (call) => of(call).entries.count(call.request)),

    ListAgents: adminCall('ListAgents', async (call) => of(call).agents.list(call.request)),
    GetAgent: adminCall('GetAgent', async (call) => of(call).agents.get(call.request)),
    EvictAgent: adminCall('EvictAgent', async (call) => of(call).agents.evict(call.request)),
    BanAgent: adminCall('BanAgent', async (call) => of(call).agents.ban(call.request)),
    CreateJoinToken: adminCall('CreateJoinToken', async (call) => of(call).agents.createJoinToken(call.request)),

    GetBundle: adminCall('GetBundle', async (call) => of(call).bundles.get()),
    ListFederatedBundles: adminCall('ListFederatedBundles', async (call) => of(call).bundles.listFederated()),
    SetFederatedBundle: adminCall('SetFederatedBundle', async (call) => of(call).bundles.setFederated(call.request)),
    DeleteFederatedBundle: adminCall('DeleteFederatedBundle', async (call) => of(call).bundles.deleteFederated(call.request)),

    MintX509SVID: adminCall('MintX509SVID', async (call) => of(call).mint.x509(call.request)),
    MintJWTSVID: adminCall('MintJWTSVID', async (call) => of(call).mint.jwt(call.request)),

    ListAuditEvents: adminCall('ListAuditEvents', async (call) => listAuditEvents(of(call).ctx, call.request)),
    Health: adminCall('Health', async (call) => health(of(call).ctx)),
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
