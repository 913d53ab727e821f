import type * as grpc from '@grpc/grpc-js'
import type { PeerCertificate } from 'node:tls'
import { PermissionDeniedError, UnauthenticatedError } from '../../../common/errors.js'
import type { AttestedNode } from '../../../plugins/data-store/types.js'
import { SpiffeError, decodeCertificate, verifyX509Svid, type SpiffeId } from '../../../spiffe/index.js'
import type { ServerCore } from '../../core.js'
import { isAgentId } from '../../registration/index.js'
import type { NodeUpdater } from '../../node/updater.js'
import type { ServerTls } from './tls.js'
import { serialHex } from '../../issuance/issuer.js'

/** An agent that proved its identity on this call with a current agent SVID. */
export interface AuthenticatedAgent {
  readonly agentId: SpiffeId
  /** The node record as it stands after this call's bookkeeping. */
  readonly node: AttestedNode
  /** Serial (hex) of the SVID presented. */
  readonly serial: string
}

/** Anything with grpc-js's per-call auth context (every server call object has it). */
export type CallWithAuthContext = Pick<grpc.ServerUnaryCall<unknown, unknown>, 'getAuthContext'>

/**
 * Serial numbers as the node store keeps them: lowercase hex with an even number of digits (as
 * SPIRE's `SerialNumberHex` and the x509pop selectors).
 */

/** The presented chain, leaf first, from grpc-js's peer certificate (issuers only when Node gave them). */
function presentedChain(cert: PeerCertificate): Buffer[] {
  const chain = [cert.raw]
  const seen = new Set([cert.raw.toString('base64')])
  let issuer = (cert as Partial<{ issuerCertificate: PeerCertificate }>).issuerCertificate
  while (issuer?.raw !== undefined) {
    const key = issuer.raw.toString('base64')
    if (seen.has(key)) break
    seen.add(key)
    chain.push(issuer.raw)
    issuer = (issuer as Partial<{ issuerCertificate: PeerCertificate }>).issuerCertificate
  }
  return chain
}

/**
 * Authenticates agents on mTLS calls, as SPIRE's agent API does: the client certificate must be an
 * X509-SVID of this trust domain (verified here against the current bundle, whatever the TLS layer
 * accepted), for an agent ID, of an attested node that is not banned, and it must be the node's
 * current or newly renewed SVID — so an evicted or re-attested agent's old SVID stops working.
 * The first use of a renewed SVID makes it the node's current one.
 */
export class AgentAuthenticator {
  readonly #core: ServerCore
  readonly #tls: ServerTls
  readonly #nodes: NodeUpdater

  constructor(core: ServerCore, tls: ServerTls, nodes: NodeUpdater) {
    this.#core = core
    this.#tls = tls
    this.#nodes = nodes
  }

  /**
   * @throws UnauthenticatedError without a valid agent SVID; PermissionDeniedError for a caller that
   *   is not an agent, an agent that is unknown (evicted), banned, or presents a superseded SVID.
   */
  async authenticate(call: CallWithAuthContext): Promise<AuthenticatedAgent> {
    const cert = call.getAuthContext()?.sslPeerCertificate
    // grpc-js reports a certificate only when TLS verified it against the bundle given as CA.
    if (cert?.raw === undefined) {
      throw new UnauthenticatedError('agent SVID required: the call presented no client certificate that chains to the trust bundle')
    }
    const chain = [...presentedChain(cert), ...this.#tls.intermediates()]
    const now = this.#core.clock()
    let agentId: SpiffeId
    try {
      agentId = verifyX509Svid(chain, this.#core.ownBundle.current(), { now }).id
    } catch (err) {
      if (!(err instanceof SpiffeError)) throw err
      throw new UnauthenticatedError(`agent SVID is not valid: ${err.message}`, { cause: err })
    }
    const td = this.#core.config.trustDomain
    if (!isAgentId(agentId, td)) throw new PermissionDeniedError(`caller ${agentId.toString()} is not an agent`)

    const serial = serialHex(decodeCertificate(cert.raw).serial)
    let node = await this.#core.store.nodes.get(agentId)
    if (node === undefined) throw new PermissionDeniedError(`agent ${agentId.toString()} is not attested (it was evicted or never attested): attest again`)
    if (node.banned) throw new PermissionDeniedError(`agent ${agentId.toString()} is banned`)
    if (serial !== node.certSerial) {
      if (serial !== node.newCertSerial) {
        throw new PermissionDeniedError(`agent ${agentId.toString()} presented an SVID that is no longer current: attest again`)
      }
      node = await this.#promote(agentId, serial)
    }
    this.#nodes.touch(node)
    return { agentId, node, serial }
  }

  /** Makes the renewed SVID with this serial the node's current one. */
  async #promote(agentId: SpiffeId, serial: string): Promise<AttestedNode> {
    const promoted = await this.#nodes.update(agentId, (node) =>
      node.newCertSerial !== serial || node.newCertNotAfter === undefined
        ? undefined
        : { ...node, certSerial: serial, certNotAfter: node.newCertNotAfter, newCertSerial: '', newCertNotAfter: undefined },
    )
    if (promoted === undefined) throw new PermissionDeniedError(`agent ${agentId.toString()} is not attested (it was evicted or never attested): attest again`)
    if (promoted.banned) throw new PermissionDeniedError(`agent ${agentId.toString()} is banned`)
    if (promoted.certSerial !== serial) {
      throw new PermissionDeniedError(`agent ${agentId.toString()} presented an SVID that is no longer current: attest again`)
    }
    return promoted
  }
}
