import { FailedPreconditionError, InvalidArgumentError, NotFoundError, errorMessage } from '../../../common/errors.js'
import type { AttestedNode, NodeFilter } from '../../../plugins/data-store/types.js'
import { JOIN_TOKEN_PLUGIN_NAME, generateJoinToken, joinTokenAgentId } from '../../../plugins/node-attestor/join-token/index.js'
import type { Agent } from '../../../proto/generated/steeple/admin/v1/Agent.js'
import type { AgentRequest__Output } from '../../../proto/generated/steeple/admin/v1/AgentRequest.js'
import type { CreateJoinTokenRequest__Output } from '../../../proto/generated/steeple/admin/v1/CreateJoinTokenRequest.js'
import type { CreateJoinTokenResponse } from '../../../proto/generated/steeple/admin/v1/CreateJoinTokenResponse.js'
import type { ListAgentsRequest__Output } from '../../../proto/generated/steeple/admin/v1/ListAgentsRequest.js'
import type { ListAgentsResponse } from '../../../proto/generated/steeple/admin/v1/ListAgentsResponse.js'
import { parseSpiffeId, type SpiffeId } from '../../../spiffe/index.js'
import { nodeToMessage, selectorsFromMessages, unixSeconds } from '../convert.js'
import { recordAudit, ttlField, workloadIdField, type AdminContext } from './common.js'

/** How often a ban is retried when a concurrent update of the same node record overwrote it. */
const BAN_ATTEMPTS = 5

/** ListAgents, GetAgent, EvictAgent, BanAgent and CreateJoinToken. */
export class AgentHandlers {
  readonly #ctx: AdminContext

  constructor(ctx: AdminContext) {
    this.#ctx = ctx
  }

  /** @throws InvalidArgumentError for a bad `banned` value or selector. */
  async list(request: ListAgentsRequest__Output): Promise<ListAgentsResponse> {
    let banned: boolean | undefined
    if (request.banned === 'true') banned = true
    else if (request.banned === 'false') banned = false
    else if (request.banned !== '') throw new InvalidArgumentError('banned: must be "true", "false" or empty')
    const selectors = selectorsFromMessages(request.selectors)
    const filter: NodeFilter = {
      ...(request.attestation_type !== '' && { attestationType: request.attestation_type }),
      ...(banned !== undefined && { banned }),
      ...(selectors.length > 0 && { selectors }),
    }
    const page = await this.#ctx.core.store.nodes.list(filter)
    return { agents: page.items.map(nodeToMessage) }
  }

  /** @throws InvalidArgumentError for a malformed ID, NotFoundError when no such agent attested. */
  async get(request: AgentRequest__Output): Promise<Agent> {
    return nodeToMessage(await this.#node(request.spiffe_id))
  }

  /**
   * Removes the agent's record: its SVID stops working and it must attest again (a join token
   * agent cannot, its token being used up).
   * @throws InvalidArgumentError, NotFoundError.
   */
  async evict(request: AgentRequest__Output): Promise<Agent> {
    const id = agentIdField(request.spiffe_id)
    let node: AttestedNode
    try {
      node = await this.#ctx.core.store.nodes.delete(id)
    } catch (err) {
      if (err instanceof NotFoundError) throw notAttested(id, err)
      throw err
    }
    await this.#audit('agent.evict', node)
    this.#ctx.log.info('Agent evicted', { agentId: id.toString(), actor: this.#ctx.actor })
    return nodeToMessage(node)
  }

  /**
   * Marks the agent banned: its SVID stops working and it may not attest again until evicted.
   * @throws InvalidArgumentError, NotFoundError.
   */
  async ban(request: AgentRequest__Output): Promise<Agent> {
    const id = agentIdField(request.spiffe_id)
    const nodes = this.#ctx.core.store.nodes
    // The store replaces whole records, and the agent API may be writing this one (last-seen
    // time, renewal) from a copy read before the ban: check it stuck, and write again if not.
    for (let attempt = 0; attempt < BAN_ATTEMPTS; attempt++) {
      const node = await nodes.get(id)
      if (node === undefined) throw notAttested(id)
      if (!node.banned) {
        try {
          await nodes.update({ ...node, banned: true })
        } catch (err) {
          if (err instanceof NotFoundError) throw notAttested(id, err)
          throw err
        }
      }
      const stored = await nodes.get(id)
      if (stored === undefined) throw notAttested(id)
      if (stored.banned) {
        if (!node.banned) {
          await this.#audit('agent.ban', stored)
          this.#ctx.log.info('Agent banned', { agentId: id.toString(), actor: this.#ctx.actor })
        }
        return nodeToMessage(stored)
      }
    }
    throw new FailedPreconditionError(`agent ${id.toString()}: the ban was overwritten by concurrent updates; try again`)
  }

  /**
   * A one-time join token; only its hash is stored. With `spiffe_id`, the agent that uses it is
   * also known by that ID (the attestation registers a node entry for it), so entries can name
   * a stable parent before the agent exists.
   * @throws FailedPreconditionError when the join_token attestor is not configured;
   *   InvalidArgumentError for a bad TTL or SPIFFE ID.
   */
  async createJoinToken(request: CreateJoinTokenRequest__Output): Promise<CreateJoinTokenResponse> {
    const core = this.#ctx.core
    if (!core.nodeAttestors.has(JOIN_TOKEN_PLUGIN_NAME)) {
      throw new FailedPreconditionError('join token: the join_token node attestor is not configured on this server')
    }
    const ttlSeconds = ttlField(request.ttl, 'ttl', core.config.joinTokenTtlSeconds)
    const aliasId = request.spiffe_id === '' ? undefined : workloadIdField(this.#ctx, request.spiffe_id, 'spiffe_id')
    const { token, tokenHash, tokenId } = generateJoinToken()
    const expiresAt = new Date(core.clock().getTime() + ttlSeconds * 1000)
    await core.store.joinTokens.create({ tokenHash, expiresAt, aliasId })
    const agentId = joinTokenAgentId(core.config.trustDomain, tokenId)
    await recordAudit(this.#ctx, [
      {
        at: core.clock(),
        action: 'join_token.create',
        actor: this.#ctx.actor,
        subject: agentId.toString(),
        entryId: '',
        details: { tokenId, expiresAt: expiresAt.toISOString(), ...(aliasId !== undefined && { aliasId: aliasId.toString() }) },
      },
    ])
    this.#ctx.log.info('Join token created', { tokenId, agentId: agentId.toString(), expiresAt: expiresAt.toISOString(), aliasId: aliasId?.toString() })
    return { token, expires_at: unixSeconds(expiresAt), agent_id: agentId.toString() }
  }

  async #node(value: string): Promise<AttestedNode> {
    const id = agentIdField(value)
    const node = await this.#ctx.core.store.nodes.get(id)
    if (node === undefined) throw notAttested(id)
    return node
  }

  async #audit(action: string, node: AttestedNode): Promise<void> {
    await recordAudit(this.#ctx, [
      {
        at: this.#ctx.core.clock(),
        action,
        actor: this.#ctx.actor,
        subject: node.spiffeId.toString(),
        entryId: '',
        details: { attestationType: node.attestationType, serial: node.certSerial },
      },
    ])
  }
}

function agentIdField(value: string): SpiffeId {
  if (value === '') throw new InvalidArgumentError('spiffe_id: is required')
  try {
    return parseSpiffeId(value)
  } catch (err) {
    throw new InvalidArgumentError(`spiffe_id: ${errorMessage(err)}`, { cause: err })
  }
}

function notAttested(id: SpiffeId, cause?: unknown): NotFoundError {
  return new NotFoundError(`agent: no attested agent with SPIFFE ID ${id.toString()}`, { cause })
}
