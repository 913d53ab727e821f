import type * as grpc from '@grpc/grpc-js'
import { InvalidArgumentError, PermissionDeniedError, UnavailableError } from '../../../common/errors.js'
import type { Challenger } from '../../../plugins/node-attestor/types.js'
import type { AttestAgentRequest__Output } from '../../../proto/generated/steeple/agent/v1/AttestAgentRequest.js'
import type { AttestAgentResponse } from '../../../proto/generated/steeple/agent/v1/AttestAgentResponse.js'
import type { RenewAgentRequest__Output } from '../../../proto/generated/steeple/agent/v1/RenewAgentRequest.js'
import type { RenewAgentResponse } from '../../../proto/generated/steeple/agent/v1/RenewAgentResponse.js'
import type { ServerCore } from '../../core.js'
import type { NodeAttestationService } from '../../node/attestation.js'
import { bundleToMessage, csrFromField, unixSeconds } from '../convert.js'
import type { AgentAuthenticator } from './auth.js'

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

/** What {@link AttestService} works with. */
export interface AttestServiceOptions {
  readonly core: ServerCore
  readonly auth: AgentAuthenticator
  readonly attestation: NodeAttestationService
  readonly attestTimeoutMs?: number
}

/** AttestAgent and RenewAgent: the messages of node attestation and renewal (the rules are in server/node/). */
export class AttestService {
  readonly #core: ServerCore
  readonly #auth: AgentAuthenticator
  readonly #attestation: NodeAttestationService
  readonly #timeoutMs: number

  constructor(opts: AttestServiceOptions) {
    this.#core = opts.core
    this.#auth = opts.auth
    this.#attestation = opts.attestation
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
    this.#attestation.attestorFor(type)
    // Checked before attesting, so that a bad CSR does not use up a one-time join token.
    const csr = csrFromField(first.params.csr, 'params.csr')
    const challenge: Challenger = async (c) => {
      call.write({ challenge: Buffer.from(c) })
      const reply = await reader.next(deadlineMs)
      if (reply.step !== 'challenge_response' || reply.challenge_response === undefined) {
        throw new InvalidArgumentError('attestation: a challenge must be answered with a challenge_response message')
      }
      return new Uint8Array(reply.challenge_response)
    }
    const payload = new Uint8Array(first.params.data?.payload ?? Buffer.alloc(0))
    const { agentId, svid, canReattest } = await this.#attestation.attest(type, payload, challenge, csr.publicKey)
    call.write({
      result: {
        agent_id: agentId.toString(),
        svid_chain: [...svid.svid.chainDer],
        expires_at: unixSeconds(svid.svid.notAfter),
        bundle: bundleToMessage(this.#core.ownBundle.current()),
        reattestable: canReattest,
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
    const { svid } = await this.#attestation.renew(peer.agentId, csr.publicKey)
    return { svid_chain: [...svid.chainDer], expires_at: unixSeconds(svid.notAfter) }
  }
}

/** The call's deadline in ms since the epoch (Infinity when none). */
function deadlineOf(call: { getDeadline(): grpc.Deadline }): number {
  const deadline = call.getDeadline()
  const ms = deadline instanceof Date ? deadline.getTime() : deadline
  return Number.isFinite(ms) ? ms : Infinity
}
