import type { KeyObject } from 'node:crypto'
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  PermissionDeniedError,
  SteepleError,
} from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { AttestedNode } from '../../plugins/data-store/types.js'
import type { AttestResult, Challenger, ServerNodeAttestor } from '../../plugins/node-attestor/types.js'
import { SpiffeError, selectorFromParts, sortSelectors, type Selector, type SpiffeId } from '../../spiffe/index.js'
import type { ServerCore } from '../core.js'
import type { IssuedX509Svid } from '../issuance/issuer.js'
import { isAgentId, serverId } from '../registration/index.js'
import { recordAudit } from '../store/record-audit.js'
import type { NodeUpdater } from './updater.js'

/**
 * Node attestation: which plugin checks an agent's evidence, what becomes of the attested node
 * record (created, or replaced when the method may attest again), the alias entries a join token
 * names, the agent's own SVID, and the audit record of each attestation and renewal. The agent
 * API only carries the messages.
 */

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

/** What one successful attestation gives the agent. */
export interface Attestation {
  readonly agentId: SpiffeId
  readonly svid: IssuedX509Svid
  /** Whether the agent may attest again with the same method (its stored SVID lost). */
  readonly canReattest: boolean
}

/** See the module comment. */
export class NodeAttestationService {
  readonly #core: ServerCore
  readonly #nodes: NodeUpdater
  readonly #log: Logger

  constructor(core: ServerCore, nodes: NodeUpdater, log: Logger) {
    this.#core = core
    this.#nodes = nodes
    this.#log = log
  }

  /**
   * The configured attestor of `type`.
   * @throws InvalidArgumentError naming `params.data.type` when it is empty or not configured.
   */
  attestorFor(type: string): ServerNodeAttestor {
    if (type === '') throw new InvalidArgumentError('attestation: params.data.type must name a node attestor')
    const attestor = this.#core.nodeAttestors.get(type)
    if (attestor === undefined) {
      const known = [...this.#core.nodeAttestors.keys()].join(', ') || 'none'
      throw new InvalidArgumentError(`attestation: node attestor "${type}" is not configured on this server (configured: ${known})`)
    }
    return attestor
  }

  /**
   * Attests an agent with the attestor of `type` (challenges go through `challenge`), records the
   * node and signs its SVID for `publicKey`. Resolves once the entry cache knows the node, so the
   * agent's next call (SyncAuthorized) finds it.
   * @throws what {@link attestorFor} throws; PermissionDeniedError for refused evidence, a banned
   *   agent, or an agent already attested by a method that cannot attest twice; the attestor's
   *   errors prefixed with its name (errors of `challenge` itself as they are).
   */
  async attest(type: string, payload: Uint8Array, challenge: Challenger, publicKey: KeyObject): Promise<Attestation> {
    const attestor = this.attestorFor(type)
    const challengeErrors = new WeakSet<object>()
    const tracked: Challenger = async (c) => {
      try {
        return await challenge(c)
      } catch (err) {
        if (typeof err === 'object' && err !== null) challengeErrors.add(err)
        throw err
      }
    }
    const td = this.#core.config.trustDomain
    let result: AttestResult
    try {
      result = await attestor.attest(payload, tracked, { trustDomain: td, now: this.#core.clock() })
    } catch (err) {
      throw typeof err === 'object' && err !== null && challengeErrors.has(err) ? err : prefixed(type, err)
    }
    const agentId = result.agentId
    if (!isAgentId(agentId, td)) throw new TypeError(`nodeattestor(${type}) returned ${agentId.toString()}, which is not an agent ID of ${td.name}`)

    const existing = await this.#core.store.nodes.get(agentId)
    if (existing?.banned === true) throw new PermissionDeniedError(`agent ${agentId.toString()} is banned`)
    if (existing !== undefined && !(existing.canReattest && result.canReattest)) {
      throw new PermissionDeniedError(`agent ${agentId.toString()} is already attested and ${type} attestation cannot be repeated: evict the agent first`)
    }
    for (const alias of result.aliasIds ?? []) await this.#registerAlias(alias, agentId)

    const svid = this.#core.issuer.signAgentSvid(agentId, publicKey)
    const record: Omit<AttestedNode, 'createdAt'> = {
      spiffeId: agentId,
      attestationType: type,
      selectors: sortSelectors([...result.selectors, agentIdSelector(agentId)]),
      certSerial: svid.serial,
      certNotAfter: svid.svid.notAfter,
      newCertSerial: '',
      newCertNotAfter: undefined,
      banned: false,
      canReattest: result.canReattest,
      lastSeenAt: this.#core.clock(),
    }
    const node = existing === undefined ? await this.#createNode(record) : await this.#replaceNode(record)
    await this.#core.changesApplied()

    const reattested = existing !== undefined
    await this.#audit('agent.attest', agentId, {
      attestor: type,
      selectors: node.selectors.map((s) => s.toString()),
      serial: svid.serial,
      notAfter: svid.svid.notAfter.toISOString(),
      reattested,
      ...(result.aliasIds !== undefined && { aliasIds: result.aliasIds.map((a) => a.toString()) }),
    })
    this.#log.info('Agent attested', { agentId: agentId.toString(), attestor: type, serial: svid.serial, notAfter: svid.svid.notAfter.toISOString(), reattested })
    return { agentId, svid, canReattest: result.canReattest }
  }

  /**
   * A new SVID for an attested agent. The node keeps accepting the current SVID until the new one
   * is first used.
   * @throws PermissionDeniedError when the agent is no longer attested (evicted).
   */
  async renew(agentId: SpiffeId, publicKey: KeyObject): Promise<IssuedX509Svid> {
    const svid = this.#core.issuer.signAgentSvid(agentId, publicKey)
    const updated = await this.#nodes.update(agentId, (node) => ({ ...node, newCertSerial: svid.serial, newCertNotAfter: svid.svid.notAfter }))
    if (updated === undefined) throw new PermissionDeniedError(`agent ${agentId.toString()} is not attested (it was evicted): attest again`)
    await this.#audit('agent.renew', agentId, { serial: svid.serial, notAfter: svid.svid.notAfter.toISOString() })
    this.#log.info('Agent SVID renewed', { agentId: agentId.toString(), serial: svid.serial, notAfter: svid.svid.notAfter.toISOString() })
    return svid
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

  async #audit(action: 'agent.attest' | 'agent.renew', agentId: SpiffeId, details: Record<string, unknown>): Promise<void> {
    const id = agentId.toString()
    await recordAudit(this.#core.store.audit, this.#log, [{ at: this.#core.clock(), action, actor: id, subject: id, entryId: '', details }])
  }

}

/** Errors of a node attestor carry its name (`nodeattestor(x509pop): …`), as the plugin contract asks of the host. */
function prefixed(name: string, err: unknown): unknown {
  if (err instanceof SteepleError) {
    return new SteepleError(err.code, `nodeattestor(${name}): ${err.message}`, { cause: err })
  }
  if (err instanceof SpiffeError) return new InvalidArgumentError(`nodeattestor(${name}): ${err.message}`, { cause: err })
  return err
}
