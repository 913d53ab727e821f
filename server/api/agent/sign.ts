import type * as grpc from '@grpc/grpc-js'
import { status } from '@grpc/grpc-js'
import { InvalidArgumentError, PermissionDeniedError } from '../../../common/errors.js'
import { toStatus } from '../../../common/grpc-status.js'
import type { Logger } from '../../../common/logger.js'
import type { RegistrationEntry } from '../../../plugins/data-store/types.js'
import type { BatchNewX509SVIDRequest__Output } from '../../../proto/generated/steeple/agent/v1/BatchNewX509SVIDRequest.js'
import type {
  BatchNewX509SVIDResponse,
  _steeple_agent_v1_BatchNewX509SVIDResponse_Result as BatchResult,
} from '../../../proto/generated/steeple/agent/v1/BatchNewX509SVIDResponse.js'
import type { NewJWTSVIDRequest__Output } from '../../../proto/generated/steeple/agent/v1/NewJWTSVIDRequest.js'
import type { NewJWTSVIDResponse } from '../../../proto/generated/steeple/agent/v1/NewJWTSVIDResponse.js'
import type { SpiffeId } from '../../../spiffe/index.js'
import type { ServerCore } from '../../core.js'
import { validateEntryId } from '../../registration/index.js'
import type { AgentAuthenticator } from './auth.js'
import { csrFromField, unixSeconds } from '../convert.js'

/** Most CSRs one BatchNewX509SVID call may carry. */
export const MAX_BATCH_SIZE = 1000

/** What {@link SignService} works with. */
export interface SignServiceOptions {
  readonly core: ServerCore
  readonly auth: AgentAuthenticator
  readonly log: Logger
}

/** BatchNewX509SVID and NewJWTSVID: SVIDs for the entries an agent is authorized for, and nothing else. */
export class SignService {
  readonly #core: ServerCore
  readonly #auth: AgentAuthenticator
  readonly #log: Logger

  constructor(opts: SignServiceOptions) {
    this.#core = opts.core
    this.#auth = opts.auth
    this.#log = opts.log
  }

  /**
   * Signs one X.509-SVID per item from its CSR, each with its own status: PERMISSION_DENIED for an
   * entry the agent is not authorized for (unknown entries look the same, so nothing leaks),
   * INVALID_ARGUMENT for a bad CSR. The entry's lifetime and DNS names, by the issuer's policy.
   * @throws what {@link AgentAuthenticator.authenticate} throws; InvalidArgumentError for too many items.
   */
  async batchNewX509Svid(call: grpc.ServerUnaryCall<BatchNewX509SVIDRequest__Output, BatchNewX509SVIDResponse>): Promise<BatchNewX509SVIDResponse> {
    const peer = await this.#auth.authenticate(call)
    const params = call.request.params
    if (params.length > MAX_BATCH_SIZE) throw new InvalidArgumentError(`params: at most ${MAX_BATCH_SIZE} items per call, got ${params.length}`)
    const log = this.#log.child({ method: 'BatchNewX509SVID', agentId: peer.agentId.toString() })
    // Authorization and CSR decoding per item; the issuer signs and audits what passes.
    const checked = params.map((param, i) => {
      try {
        const entry = this.#authorizedEntry(peer.agentId, param.entry_id, `params[${i}].entry_id`)
        const csr = csrFromField(param.csr, `params[${i}].csr`)
        return { entry, request: { spiffeId: entry.spiffeId, publicKey: csr.publicKey, ttlSeconds: entry.x509SvidTtlSeconds, dnsNames: entry.dnsNames, entryId: entry.id } }
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err))
      }
    })
    const requests = checked.flatMap((c) => (c instanceof Error ? [] : [c.request]))
    const issued = await this.#core.issuer.issueX509(requests, { actor: peer.agentId.toString() })
    let next = 0
    const results: BatchResult[] = checked.map((c, i) => {
      const outcome = c instanceof Error ? c : issued[next++]!
      const param = params[i]!
      if (outcome instanceof Error) {
        const s = toStatus(outcome, log.child({ entryId: param.entry_id }))
        return { status: { code: s.code ?? status.INTERNAL, message: s.details ?? '' }, entry_id: param.entry_id, spiffe_id: '', svid_chain: [], expires_at: 0 }
      }
      const entry = (c as { entry: RegistrationEntry }).entry
      log.debug('X.509-SVID signed', { spiffeId: entry.spiffeId.toString(), entryId: entry.id, serial: outcome.serial, notAfter: outcome.svid.notAfter.toISOString() })
      return {
        status: { code: status.OK, message: '' },
        entry_id: entry.id,
        spiffe_id: entry.spiffeId.toString(),
        svid_chain: [...outcome.svid.chainDer],
        expires_at: unixSeconds(outcome.svid.notAfter),
      }
    })
    const signed = results.filter((r) => r.status?.code === status.OK).length
    if (params.length > 0) log.info('X.509-SVIDs signed', { signed, refused: params.length - signed })
    return { results }
  }

  /**
   * Signs a JWT-SVID for an authorized entry, with the entry's lifetime by the issuer's policy.
   * @throws InvalidArgumentError for a missing entry ID or a bad audience; PermissionDeniedError for
   *   an entry the agent is not authorized for.
   */
  async newJwtSvid(call: grpc.ServerUnaryCall<NewJWTSVIDRequest__Output, NewJWTSVIDResponse>): Promise<NewJWTSVIDResponse> {
    const peer = await this.#auth.authenticate(call)
    const entry = this.#authorizedEntry(peer.agentId, call.request.entry_id, 'entry_id')
    const audience = call.request.audience
    const agentId = peer.agentId.toString()
    const jwt = await this.#core.issuer.issueJwt({ spiffeId: entry.spiffeId, audience, ttlSeconds: entry.jwtSvidTtlSeconds, entryId: entry.id }, { actor: agentId })
    this.#log.info('JWT-SVID signed', {
      agentId,
      spiffeId: entry.spiffeId.toString(),
      entryId: entry.id,
      audience,
      expiresAt: jwt.expiresAt.toISOString(),
    })
    return {
      spiffe_id: entry.spiffeId.toString(),
      token: jwt.token,
      issued_at: unixSeconds(jwt.issuedAt),
      expires_at: unixSeconds(jwt.expiresAt),
    }
  }

  #authorizedEntry(agentId: SpiffeId, value: string, field: string): RegistrationEntry {
    // Checked like an entry's own ID, so no oversized or control-character ID reaches the logs.
    const entryId = validateEntryId(value, field)
    const entry = this.#core.cache.authorizedEntry(agentId, entryId)
    if (entry === undefined) throw new PermissionDeniedError(`entry "${entryId}" is not authorized for agent ${agentId.toString()}`)
    return entry
  }
}
