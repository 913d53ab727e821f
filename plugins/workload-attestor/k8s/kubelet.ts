import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { InternalError, UnavailableError } from '../../../common/errors.js'
import { parseJson, requestText } from '../../../common/http-json.js'
import { abortedError } from '../types.js'

/** The parts of a v1 Pod the attestor reads, each checked for type. */
export interface PodInfo {
  readonly uid: string
  readonly name: string
  readonly namespace: string
  readonly serviceAccount: string
  readonly nodeName: string
  readonly labels: Readonly<Record<string, string>>
  readonly owners: readonly { readonly kind: string; readonly name: string; readonly uid: string }[]
  readonly containers: readonly ContainerStatusInfo[]
  readonly initContainers: readonly ContainerStatusInfo[]
  /** Ephemeral containers (kubectl debug): a workload there gets its container selectors too. */
  readonly ephemeralContainers: readonly ContainerStatusInfo[]
}

export interface ContainerStatusInfo {
  readonly name: string
  readonly image: string
  readonly imageId: string
  /** `containerd://<id>`, `cri-o://<id>`, `docker://<id>`; '' before the container started. */
  readonly containerId: string
}

/** Where and how to ask the kubelet. */
export interface KubeletEndpoint {
  /** `https://host:10250` (secure port) or `http://host:10255` (read-only port). */
  readonly url: string
  /** PEM CA for the secure port; undefined = the system's roots. */
  readonly caPem: string | undefined
  /** Do not verify the kubelet's certificate (`skip_kubelet_verification`). */
  readonly insecureSkipVerify: boolean
}

/** GETs `/pods`; rejects with Node's error when the kubelet cannot be reached. */
export type KubeletGet = (endpoint: KubeletEndpoint, bearerToken: string | undefined, signal: AbortSignal) => Promise<{ statusCode: number; body: string }>

const MAX_REPLY_BYTES = 64 << 20
const REQUEST_TIMEOUT_MS = 10_000

/** {@link KubeletGet} with node:http(s). */
export const httpKubeletGet: KubeletGet = async (endpoint, bearerToken, signal) => {
  const url = new URL('/pods', endpoint.url)
  const tls = url.protocol === 'https:'
  return requestText({
    send: tls ? httpsRequest : httpRequest,
    url,
    options: {
      method: 'GET',
      signal,
      headers: { accept: 'application/json', ...(bearerToken !== undefined && { authorization: `Bearer ${bearerToken}` }) },
      // Only the secure port speaks TLS.
      ...(tls && { ...(endpoint.caPem !== undefined && { ca: endpoint.caPem }), rejectUnauthorized: !endpoint.insecureSkipVerify }),
    },
    timeoutMs: REQUEST_TIMEOUT_MS,
    maxReplyBytes: MAX_REPLY_BYTES,
  })
}

class Malformed extends Error {}

const str = (v: unknown, what: string, optional = false): string => {
  if (typeof v === 'string') return v
  if (optional && (v === undefined || v === null)) return ''
  throw new Malformed(what)
}

const strRecord = (v: unknown, what: string): Record<string, string> => {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) throw new Malformed(what)
  return v as Record<string, string>
}

const list = (v: unknown, what: string): unknown[] => {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new Malformed(what)
  return v
}

const obj = (v: unknown, what: string): Record<string, unknown> => {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new Malformed(what)
  return v as Record<string, unknown>
}

function containerStatuses(v: unknown, what: string): ContainerStatusInfo[] {
  return list(v, what).map((item) => {
    const c = obj(item, what)
    return {
      name: str(c['name'], `${what}.name`),
      image: str(c['image'], `${what}.image`, true),
      imageId: str(c['imageID'], `${what}.imageID`, true),
      containerId: str(c['containerID'], `${what}.containerID`, true),
    }
  })
}

function podInfo(item: unknown): PodInfo {
  const pod = obj(item, 'item')
  const metadata = obj(pod['metadata'], 'metadata')
  const spec = obj(pod['spec'], 'spec')
  const st = obj(pod['status'], 'status')
  return {
    uid: str(metadata['uid'], 'metadata.uid'),
    name: str(metadata['name'], 'metadata.name'),
    namespace: str(metadata['namespace'], 'metadata.namespace'),
    labels: strRecord(metadata['labels'], 'metadata.labels'),
    owners: list(metadata['ownerReferences'], 'metadata.ownerReferences').map((o) => {
      const ref = obj(o, 'ownerReferences')
      return { kind: str(ref['kind'], 'owner kind'), name: str(ref['name'], 'owner name'), uid: str(ref['uid'], 'owner uid') }
    }),
    serviceAccount: str(spec['serviceAccountName'], 'spec.serviceAccountName', true),
    nodeName: str(spec['nodeName'], 'spec.nodeName', true),
    containers: containerStatuses(st['containerStatuses'], 'status.containerStatuses'),
    initContainers: containerStatuses(st['initContainerStatuses'], 'status.initContainerStatuses'),
    ephemeralContainers: containerStatuses(st['ephemeralContainerStatuses'], 'status.ephemeralContainerStatuses'),
  }
}

/**
 * Reads the body of the kubelet's `GET /pods` (a v1 PodList).
 * @returns the pods, or a description of what is malformed.
 */
export function parsePodList(body: string): PodInfo[] | { malformed: string } {
  const value = parseJson(body)
  if (value === undefined) return { malformed: 'not JSON' }
  try {
    const podList = obj(value, 'reply')
    if (!Array.isArray(podList['items'])) return { malformed: 'no items list' }
    return podList['items'].map(podInfo)
  } catch (err) {
    if (err instanceof Malformed) return { malformed: `bad ${err.message}` }
    throw err
  }
}

/**
 * The kubelet's pods.
 * @throws UnavailableError when the kubelet cannot be reached or answers with an error status;
 *   InternalError for a reply that is not a pod list; the abort error once `signal` aborts.
 */
export async function fetchPods(get: KubeletGet, endpoint: KubeletEndpoint, bearerToken: string | undefined, signal: AbortSignal): Promise<PodInfo[]> {
  let reply: { statusCode: number; body: string }
  try {
    reply = await get(endpoint, bearerToken, signal)
  } catch (err) {
    if (signal.aborted) throw abortedError(signal)
    const code = (err as { code?: unknown } | null)?.code
    throw new UnavailableError(`kubelet at ${endpoint.url} is unreachable${typeof code === 'string' ? ` (${code})` : ''}`, { cause: err })
  }
  if (reply.statusCode !== 200) throw new UnavailableError(`kubelet at ${endpoint.url} refused to list pods (HTTP ${reply.statusCode})`)
  const pods = parsePodList(reply.body)
  if (!Array.isArray(pods)) {
    throw new InternalError(`kubelet at ${endpoint.url} sent a malformed pod list (${pods.malformed})`)
  }
  return pods
}
