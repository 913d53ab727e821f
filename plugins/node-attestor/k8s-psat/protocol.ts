import { InvalidArgumentError } from '../../../common/errors.js'

/** The plugin name: the selector type and the agent ID segment. */
export const K8S_PSAT_PLUGIN_NAME = 'k8s_psat'

/** What the agent sends: its cluster's name (as configured on both sides) and its projected token. */
export interface K8sPsatPayload {
  readonly cluster: string
  readonly token: string
}

const MAX_PAYLOAD_BYTES = 64 * 1024
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** Encodes the payload as SPIRE's agent does: JSON `{"cluster": …, "token": …}`. */
export function encodePayload(payload: K8sPsatPayload): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ cluster: payload.cluster, token: payload.token }))
}

/**
 * Reads the agent's payload.
 * @throws InvalidArgumentError when it is not JSON with a non-empty `cluster` and a JWT-shaped
 *   `token` (the message never contains the token).
 */
export function parsePayload(bytes: Uint8Array): K8sPsatPayload {
  if (bytes.length === 0) throw new InvalidArgumentError('payload must not be empty')
  if (bytes.length > MAX_PAYLOAD_BYTES) throw new InvalidArgumentError(`payload must be at most ${MAX_PAYLOAD_BYTES} bytes`)
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new InvalidArgumentError('payload must be JSON')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError('payload must be a JSON object')
  const { cluster, token } = value as { cluster?: unknown; token?: unknown }
  if (typeof cluster !== 'string' || cluster === '') throw new InvalidArgumentError('payload must name the cluster')
  if (typeof token !== 'string' || !JWT_SHAPE.test(token)) throw new InvalidArgumentError('payload token must be a JWT in compact form')
  return { cluster, token }
}
