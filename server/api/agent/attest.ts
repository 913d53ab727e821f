import type * as grpc from '@grpc/grpc-js'
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  PermissionDeniedError,
  SteepleError,
  UnavailableError,
} from '../../../common/errors.js'
import type { Logger } from '../../../common/logger.js'
import type { AttestedNode } from '../../../plugins/data-store/types.js'
import type { AttestResult, Challenger } from '../../../plugins/node-attestor/types.js'
import type { AttestAgentRequest__Output } from '../../../proto/generated/steeple/agent/v1/AttestAgentRequest.js'
import type { AttestAgentResponse } from '../../../proto/generated/steeple/agent/v1/AttestAgentResponse.js'
import type { RenewAgentRequest__Output } from '../../../proto/generated/steeple/agent/v1/RenewAgentRequest.js'
import type { RenewAgentResponse } from '../../../proto/generated/steeple/agent/v1/RenewAgentResponse.js'
import { SpiffeError } from '../../../spiffe/errors.js'
import type { SpiffeId } from '../../../spiffe/id.js'
import { selectorFromParts, sortSelectors, type Selector } from '../../../spiffe/selector.js'
import type { ServerCore } from '../../core.js'
import { isAgentId, serverId } from '../../registration/ids.js'
import { bundleToMessage, unixSeconds } from '../convert.js'
import type { AgentAuthenticator } from './auth.js'
import { csrFromField, recordAudit, signAgentSvid } from './common.js'
import type { NodeUpdater } from './nodes.js'

/**
 * Selector type of the implicit node selector every attested agent gets: `spiffe_id:<agent ID>`
 * (SPIRE's join-token alias entries select on the same). Node entries (parent = the server ID)
 * selecting on it alias exactly one agent; join-token alias IDs are registered that way.
 */
export const AGENT_ID_SELECTOR_TYPE = 'spiffe_id'

/** The implicit node selector of an agent. */
export function agentIdSelector(agentId: SpiffeId): Selector {
  return selectorFromParts(AGENT_ID_SELECTOR_TYPE, agentId.toString())
}

/** How long one attestation may take, challenges included, unless the caller's deadline is sooner. */
export const DEFAULT_ATTEST_TIMEOUT_MS = 30_000

type AttestCall = grpc.ServerDuplexStream<AttestAgentRequest__Output, AttestAgentResponse>

/** Messages of a bidi stream, one at a time, with a deadline. */
class MessageReader<T> {
  readonly #queue: T[] = []
  #waiter: { resolve: (m: T) => void; reject: (e: Error) => void } | undefined
  #closed: Error | undefined

  constructor(stream: NodeJS.EventEmitter) {
    stream.on('data', (message: T) => {
      const waiter = this.#waiter
      this.#waiter = undefined
      if (waiter !== undefined) waiter.resolve(message)
      else this.#queue.push(message)
    })
    stream.on('end', () => this.#close(new InvalidArgumentError('attestation: the agent ended the stream before attestation finished')))
    stream.on('cancelled', () => this.#close(new UnavailableError('attestation: the agent cancelled the call')))
  }

  /** The next message. @throws the stream's end as a SteepleError; PermissionDeniedError after `deadlineMs`. */
  next(deadlineMs: number): Promise<T> {
    const queued = this.#queue.shift()
    if (queued !== undefined) return Promise.resolve(queued)
    if (this.#closed !== undefined) return Promise.reject(this.#closed)
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined
        reject(new PermissionDeniedError('attestation: the agent did not answer in time'))
      }, Math.max(0, deadlineMs - Date.now()))
      this.#waiter = {
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      }
    })
  }

  #close(err: Error): void {
    this.#closed ??= err
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.reject(err)
  }
}

/** Errors of a node attestor carry its name (`nodeattestor(x509pop): …`), as the plugin contract asks of the host. */
function prefixed(name: string, err: unknown): unknown {
  if (err instanceof SteepleError) {
    return new SteepleError(err.code, err.grpcStatus, `nodeattestor(${name}): ${err.message}`, { cause: err })
  }
  if (err instanceof SpiffeError) return new InvalidArgumentError(`nodeattestor(${name}): ${err.message}`, { cause: err })
  return err
}

/** What {@link AttestService} works with. */
export interface AttestServiceOptions {
  readonly core: ServerCore
  readonly auth: AgentAuthenticator
  readonly nodes: NodeUpdater
  readonly log: Logger
  readonly attestTimeoutMs?: number
}

/** AttestAgent and RenewAgent: how agents get and keep their own SVID. */
export class AttestService {
  readonly #core: ServerCore
  readonly #auth: AgentAuthenticator
  readonly #nodes: NodeUpdater
  readonly #log: Logger
  readonly #timeoutMs: number

  constructor(opts: AttestServiceOptions) {
    this.#core = opts.core
    this.#auth = opts.auth
    this.#nodes = opts.nodes
    this.#log = opts.log
    this.#timeoutMs = opts.attestTimeoutMs ?? DEFAULT_ATTEST_TIMEOUT_MS
  }

  /**
   * Node attestation: params first, then as many challenge rounds as the attestor asks for, then
   * the agent SVID. No client certificate is needed.
   * @throws InvalidArgumentError for bad messages, an unknown attestor type or a bad CSR;
   *   PermissionDeniedError for refused evidence, a banned agent, or an agent already attested by
   *   a method that cannot attest twice; the attestor's errors prefixed with its name.
   */
  async attestAgent(call: AttestCall): Promise<void> {
    const deadlineMs = Math.min(Date.now() + this.#timeoutMs, deadlineOf(call))
    const reader = new MessageReader<AttestAgentRequest__Output>(call)
    const first = await reader.next(deadlineMs)
    if (first.step !== 'params' || first.params == null) {
      throw new InvalidArgumentError('attestation: the first message must carry params')
    }
    const type = first.params.data?.type ?? ''
    if (type === '') throw new InvalidArgumentError('attestation: params.data.type must name a node attestor')
    const attestor = this.#core.nodeAttestors.get(type)
    if (attestor === undefined) {
      const known = [...this.#core.nodeAttestors.keys()].join(', ') || 'none'
      throw new InvalidArgumentError(`attestation: node attestor "${type}" is not configured on this server (configured: ${known})`)
    }
    // Checked before attesting, so that a bad CSR does not use up a one-time join token.
    const csr = csrFromField(first.params.csr, 'params.csr')

    const ownErrors = new WeakSet<object>()
    const challenge: Challenger = async (c) => {
      try {
        call.write({ challenge: Buffer.from(c) })
        const reply = await reader.next(deadlineMs)
        if (reply.step !== 'challenge_response' || reply.challenge_response === undefined) {
          throw new InvalidArgumentError('attestation: a challenge must be answered with a challenge_response message')
        }
        return new Uint8Array(reply.challenge_response)
      } catch (err) {
        if (typeof err === 'object' && err !== null) ownErrors.add(err)
        throw err
      }
    }
    const td = this.#core.config.trustDomain
    let result: AttestResult
    try {
      result = await attestor.attest(new Uint8Array(first.params.data?.payload ?? Buffer.alloc(0)), challenge, { trustDomain: td, now: this.#core.clock() })
    } catch (err) {
      throw typeof err === 'object' && err !== null && ownErrors.has(err) ? err : prefixed(type, err)
    }
    const agentId = result.agentId
    if (!isAgentId(agentId, td)) throw new TypeError(`nodeattestor(${type}) returned ${agentId.toString()}, which is not an agent ID of ${td.name}`)

    const existing = await this.#core.store.nodes.get(agentId)
    if (existing?.banned === true) throw new PermissionDeniedError(`agent ${agentId.toString()} is banned`)
    if (existing !== undefined && !(existing.canReattest && result.canReattest)) {
      throw new PermissionDeniedError(`agent ${agentId.toString()} is already attested and ${type} attestation cannot be repeated: evict the agent first`)
    }
    for (const alias of result.aliasIds ?? []) await this.#registerAlias(alias, agentId)

    const svid = signAgentSvid(this.#core, agentId, csr)
    const record: Omit<AttestedNode, 'createdAt'> = {
      spiffeId: agentId,
      attestationType: type,
      selectors: sortSelectors([...result.selectors, agentIdSelector(agentId)]),
      certSerial: svid.serialHex,
      certNotAfter: svid.notAfter,
      newCertSerial: '',
      newCertNotAfter: undefined,
      banned: false,
      canReattest: result.canReattest,
      lastSeenAt: this.#core.clock(),
    }
    const node = existing === undefined ? await this.#createNode(record) : await this.#replaceNode(record)
    // The agent's next call is usually SyncAuthorized: the cache must know the node by then.
    await this.#core.changesApplied()

    await recordAudit(this.#core, this.#log, [
      {
        at: this.#core.clock(),
        action: 'agent.attest',
        actor: agentId.toString(),
        subject: agentId.toString(),
        entryId: '',
        details: {
          attestor: type,
          selectors: node.selectors.map((s) => s.toString()),
          serial: svid.serialHex,
          notAfter: svid.notAfter.toISOString(),
          reattested: existing !== undefined,
          ...(result.aliasIds !== undefined && { aliasIds: result.aliasIds.map((a) => a.toString()) }),
        },
      },
    ])
    this.#log.info('Agent attested', {
      agentId: agentId.toString(),
      attestor: type,
      serial: svid.serialHex,
      notAfter: svid.notAfter.toISOString(),
      reattested: existing !== undefined,
    })
    call.write({
      result: {
        agent_id: agentId.toString(),
        svid_chain: [...svid.chainDer],
        expires_at: unixSeconds(svid.notAfter),
        bundle: bundleToMessage(await this.#core.ca.bundle()),
        reattestable: result.canReattest,
      },
    })
  }

  /**
   * A new agent SVID for the calling agent (mTLS). The node keeps accepting the current SVID until
   * the new one is first used.
   * @throws what {@link AgentAuthenticator.authenticate} throws; InvalidArgumentError for a bad CSR.
   */
  async renewAgent(call: grpc.ServerUnaryCall<RenewAgentRequest__Output, RenewAgentResponse>): Promise<RenewAgentResponse> {
    const peer = await this.#auth.authenticate(call)
    const csr = csrFromField(call.request.csr)
    const svid = signAgentSvid(this.#core, peer.agentId, csr)
    const updated = await this.#nodes.update(peer.agentId, (node) => ({ ...node, newCertSerial: svid.serialHex, newCertNotAfter: svid.notAfter }))
    if (updated === undefined) throw new PermissionDeniedError(`agent ${peer.agentId.toString()} is not attested (it was evicted): attest again`)
    await recordAudit(this.#core, this.#log, [
      {
        at: this.#core.clock(),
        action: 'agent.renew',
        actor: peer.agentId.toString(),
        subject: peer.agentId.toString(),
        entryId: '',
        details: { serial: svid.serialHex, notAfter: svid.notAfter.toISOString() },
      },
    ])
    this.#log.info('Agent SVID renewed', { agentId: peer.agentId.toString(), serial: svid.serialHex, notAfter: svid.notAfter.toISOString() })
    return { svid_chain: [...svid.chainDer], expires_at: unixSeconds(svid.notAfter) }
  }

  async #createNode(record: Omit<AttestedNode, 'createdAt'>): Promise<AttestedNode> {
    try {
      return await this.#core.store.nodes.create(record)
    } catch (err) {
      if (err instanceof AlreadyExistsError) {
        throw new PermissionDeniedError(`agent ${record.spiffeId.toString()} was attested by another request at the same time`, { cause: err })
      }
      throw err
    }
  }

  async #replaceNode(record: Omit<AttestedNode, 'createdAt'>): Promise<AttestedNode> {
    const stored = await this.#nodes.update(record.spiffeId, (current) => {
      // Banned between the check above and this write: the ban wins.
      if (current.banned) throw new PermissionDeniedError(`agent ${record.spiffeId.toString()} is banned`)
      return record
    })
    return stored ?? this.#createNode(record)
  }

  /**
   * Registers a join token's alias ID as a node entry that selects exactly this agent (by its
   * implicit `spiffe_id` selector), so entries whose parent is the alias are authorized for it.
   * An identical entry already there is fine.
   */
  async #registerAlias(alias: SpiffeId, agentId: SpiffeId): Promise<void> {
    const td = this.#core.config.trustDomain
    const [result] = await this.#core.registration.createEntries(
      [{ spiffe_id: alias.toString(), parent_id: serverId(td).toString(), selectors: [agentIdSelector(agentId).toString()] }],
      'server',
    )
    if (result === undefined || result.status === 'ok' || result.error instanceof AlreadyExistsError) return
    if (result.error.code === 'INTERNAL') throw result.error
    throw new FailedPreconditionError(`attestation: alias ${alias.toString()} cannot be registered: ${result.error.message}`, { cause: result.error })
  }
}

/** The call's deadline in ms since the epoch (Infinity when none). */
function deadlineOf(call: { getDeadline(): grpc.Deadline }): number {
  const deadline = call.getDeadline()
  const ms = deadline instanceof Date ? deadline.getTime() : deadline
  return Number.isFinite(ms) ? ms : Infinity
}
