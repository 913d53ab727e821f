import { request } from 'node:http'
import { FailedPreconditionError, InternalError, UnavailableError } from '../../../common/errors.js'
import { parseJson, requestText } from '../../../common/http-json.js'
import { abortedError } from '../types.js'

/** What the attestor reads from the Engine API's container inspect reply. */
export interface ContainerDetails {
  readonly labels: Readonly<Record<string, string>>
  /** `KEY=VALUE` strings, as the engine lists them. */
  readonly env: readonly string[]
  /** The image as the container was created from it (`busybox:latest`); '' when unknown. */
  readonly imageName: string
  /** The image ID (`sha256:<hex>`); '' when unknown. */
  readonly imageId: string
}

/** A reply of the Engine API: status code and body. */
export interface EngineReply {
  readonly statusCode: number
  readonly body: string
}

/** One GET over the engine's Unix socket; rejects with Node's error when the socket cannot be reached. */
export type EngineGet = (socketPath: string, path: string, signal: AbortSignal) => Promise<EngineReply>

/** Longest reply body read from the engine; an inspect reply is a few kilobytes. */
const MAX_REPLY_BYTES = 4 << 20
/** How long one request may take before the engine counts as unreachable. */
export const ENGINE_REQUEST_TIMEOUT_MS = 10_000

/** {@link EngineGet} with node:http over a Unix socket. */
export const httpEngineGet: EngineGet = (socketPath, path, signal) =>
  requestText({
    send: request,
    options: { socketPath, path, method: 'GET', headers: { host: 'docker' }, signal },
    timeoutMs: ENGINE_REQUEST_TIMEOUT_MS,
    maxReplyBytes: MAX_REPLY_BYTES,
  })

/**
 * The socket path in a `unix:///path` address (SPIRE's form) or a plain absolute path.
 * @returns undefined for any other form.
 */
export function unixSocketPath(address: string): string | undefined {
  const path = address.startsWith('unix://') ? address.slice('unix://'.length) : address
  return path.startsWith('/') ? path : undefined
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string')
}

/**
 * Reads the fields the attestor needs from the body of `GET /containers/{id}/json`.
 * @returns undefined when the body is not such a reply (not JSON, or fields of the wrong type).
 */
export function parseInspectReply(body: string): ContainerDetails | undefined {
  const reply = parseJson(body)
  if (reply === null || typeof reply !== 'object') return undefined
  const { Config: config, Image: imageId } = reply as { Config?: unknown; Image?: unknown }
  if (config === null || typeof config !== 'object') return undefined
  const { Labels: labels, Env: env, Image: imageName } = config as { Labels?: unknown; Env?: unknown; Image?: unknown }
  if (labels !== undefined && labels !== null && !isStringRecord(labels)) return undefined
  if (env !== undefined && env !== null && !(Array.isArray(env) && env.every((e) => typeof e === 'string'))) return undefined
  if (imageName !== undefined && typeof imageName !== 'string') return undefined
  if (imageId !== undefined && typeof imageId !== 'string') return undefined
  return {
    labels: labels ?? {},
    env: (env as string[] | null | undefined) ?? [],
    imageName: imageName ?? '',
    imageId: imageId ?? '',
  }
}

/**
 * Asks the engine at `socketPath` about container `id`.
 * @throws UnavailableError when the engine cannot be reached or answers with a server error;
 *   FailedPreconditionError when it does not know the container; InternalError for a
 *   reply it cannot read; the abort error once `signal` aborts.
 */
export async function inspectContainer(
  get: EngineGet,
  socketPath: string,
  apiVersion: string | undefined,
  id: string,
  signal: AbortSignal,
): Promise<ContainerDetails> {
  const path = `${apiVersion === undefined ? '' : `/v${apiVersion}`}/containers/${id}/json`
  let reply: EngineReply
  try {
    reply = await get(socketPath, path, signal)
  } catch (err) {
    if (signal.aborted) throw abortedError(signal)
    const code = (err as { code?: unknown } | null)?.code
    throw new UnavailableError(`container engine at ${socketPath} is unreachable${typeof code === 'string' ? ` (${code})` : ''}`, { cause: err })
  }
  const short = id.slice(0, 12)
  if (reply.statusCode === 404) {
    throw new FailedPreconditionError(`container ${short} of the process is not known to the engine at ${socketPath}`)
  }
  if (reply.statusCode >= 500) throw new UnavailableError(`container engine at ${socketPath} failed to inspect container ${short} (HTTP ${reply.statusCode})`)
  if (reply.statusCode !== 200) {
    throw new InternalError(`container engine at ${socketPath} refused to inspect container ${short} (HTTP ${reply.statusCode})`)
  }
  const details = parseInspectReply(reply.body)
  if (details === undefined) {
    throw new InternalError(`container engine at ${socketPath} sent a malformed inspect reply for container ${short}`)
  }
  return details
}
