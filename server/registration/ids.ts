import { spiffeIdFromSegments, type SpiffeId, type TrustDomain } from '../../spiffe/index.js'

/**
 * The SPIFFE IDs the server reserves in its own trust domain: its own ID (the parent of node
 * entries) and the agents' IDs, `spiffe://<td>/steeple/agent/<attestor>/…`. SPIRE uses
 * `/spire/server` and `/spire/agent/` the same way.
 */

const RESERVED_PATH = '/steeple'
const SERVER_PATH = '/steeple/server'
const AGENT_PATH_PREFIX = '/steeple/agent/'
const RESERVED_PATH_PREFIX = RESERVED_PATH + '/'

/** `spiffe://<td>/steeple/server`: the parent ID of node (alias) entries. */
export function serverId(trustDomain: TrustDomain): SpiffeId {
  return spiffeIdFromSegments(trustDomain, 'steeple', 'server')
}

/**
 * `spiffe://<td>/steeple/agent/` or, with an attestor, `spiffe://<td>/steeple/agent/<attestor>/`:
 * the string every agent ID (of that attestor) starts with.
 */
export function agentIdPrefix(trustDomain: TrustDomain, attestor?: string): string {
  const base = trustDomain.idString() + AGENT_PATH_PREFIX
  return attestor === undefined ? base : `${base}${attestor}/`
}

/**
 * `spiffe://<td>/steeple/agent/<attestor>/<segments…>`, the ID of an attested agent.
 * @throws SpiffeError `INVALID_PATH` when a segment is empty, `.`/`..` or has other characters.
 */
export function agentId(trustDomain: TrustDomain, attestor: string, ...segments: string[]): SpiffeId {
  return spiffeIdFromSegments(trustDomain, 'steeple', 'agent', attestor, ...segments)
}

/** True for `spiffe://<td>/steeple/server` of the given trust domain. */
export function isServerId(id: SpiffeId, trustDomain: TrustDomain): boolean {
  return id.path === SERVER_PATH && id.memberOf(trustDomain)
}

/** True for an ID under `spiffe://<td>/steeple/agent/` with at least one segment after it. */
export function isAgentId(id: SpiffeId, trustDomain: TrustDomain): boolean {
  return id.memberOf(trustDomain) && id.path.startsWith(AGENT_PATH_PREFIX) && id.path.length > AGENT_PATH_PREFIX.length
}

/** True for any ID whose path is `/steeple` or starts with `/steeple/` (server, agents, future use). */
export function isReservedId(id: SpiffeId, trustDomain: TrustDomain): boolean {
  return id.memberOf(trustDomain) && (id.path === RESERVED_PATH || id.path.startsWith(RESERVED_PATH_PREFIX))
}
