import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigError, UnavailableError } from '../../../common/errors.js'
import type { Logger } from '../../../common/logger.js'
import * as s from '../../../common/schema.js'
import { readCgroupContainerInfo, readTextFile, type ReadText } from '../container-id.js'
import { abortedError, throwIfAborted, type WorkloadAttestor } from '../types.js'
import { fetchPods, httpKubeletGet, type ContainerStatusInfo, type KubeletEndpoint, type KubeletGet, type PodInfo } from './kubelet.js'

const CONFIG_PATH = 'plugins.WorkloadAttestor.k8s'

/** Config of the `k8s` workload attestor; keys and defaults as SPIRE's where they exist. */
export const k8sConfigSchema = s.object({
  /** The kubelet's read-only port (plain HTTP, no auth); 0 = use the secure port. */
  kubelet_read_only_port: s.int({ default: 0, min: 0, max: 65535 }),
  /** The kubelet's secure port (HTTPS, bearer token). */
  kubelet_secure_port: s.int({ default: 10250, min: 1, max: 65535 }),
  /** Host of the kubelet (the agent runs on the node, usually with host networking). */
  kubelet_host: s.string({ default: '127.0.0.1', nonEmpty: true }),
  /** CA to verify the kubelet's serving certificate with. */
  kubelet_ca_path: s.string({ default: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', nonEmpty: true }),
  /** Do not verify the kubelet's certificate. */
  skip_kubelet_verification: s.bool({ default: false }),
  /** Bearer token for the secure port, re-read on each call (it rotates). */
  token_path: s.string({ default: '/var/run/secrets/kubernetes.io/serviceaccount/token', nonEmpty: true }),
  /** Send no token to the secure port. */
  use_anonymous_authentication: s.bool({ default: false }),
  /** How often to ask the kubelet for a pod or container it does not list yet. */
  max_poll_attempts: s.int({ default: 20, min: 1 }),
  /** Pause between those attempts, in milliseconds. */
  poll_retry_interval_ms: s.int({ default: 500, min: 0 }),
  /** Leave out container-name and container-image. */
  disable_container_selectors: s.bool({ default: false }),
})

export type K8sAttestorConfig = s.Infer<typeof k8sConfigSchema>

/** OS and network access of the k8s attestor, so tests can use a fake /proc and a stand-in kubelet. */
export interface K8sAttestorHooks {
  readonly procRoot: string
  readonly readText: ReadText
  readonly kubeletGet: KubeletGet
}

export const DEFAULT_K8S_HOOKS: K8sAttestorHooks = Object.freeze({ procRoot: '/proc', readText: readTextFile, kubeletGet: httpKubeletGet })

/**
 * The `k8s` workload attestor: finds the caller's pod UID and container ID from its cgroups and
 * describes them from the kubelet's pod list. Selector values match SPIRE's k8s attestor.
 */
export class K8sAttestor implements WorkloadAttestor {
  readonly #config: K8sAttestorConfig
  readonly #hooks: K8sAttestorHooks
  readonly #endpoint: KubeletEndpoint
  readonly #log: Logger | undefined

  constructor(config: K8sAttestorConfig, endpoint: KubeletEndpoint, hooks: Partial<K8sAttestorHooks> = {}, log?: Logger) {
    this.#config = config
    this.#endpoint = endpoint
    this.#hooks = { ...DEFAULT_K8S_HOOKS, ...hooks }
    this.#log = log
  }

  /**
   * Selector values for `pid`, sorted; `[]` for a process in no pod.
   * @throws NotFoundError when no process `pid` runs; UnavailableError when the kubelet cannot be
   *   reached or does not list the pod and container within `max_poll_attempts`; SteepleError
   *   `INTERNAL` for a malformed kubelet reply.
   */
  async attest(pid: number, signal: AbortSignal): Promise<string[]> {
    throwIfAborted(signal)
    const info = await readCgroupContainerInfo(pid, this.#hooks.procRoot, this.#hooks.readText)
    // A container outside the kubelet's pod hierarchy (plain Docker or Podman) is no pod.
    if (info.containerId === undefined || info.podUid === undefined) return []
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal)
      const token = await this.#token()
      const pods = await fetchPods(this.#hooks.kubeletGet, this.#endpoint, token, signal)
      const pod = pods.find((p) => p.uid === info.podUid)
      const container = pod === undefined ? undefined : findContainer(pod, info.containerId)
      if (pod !== undefined && container !== undefined) return this.#selectorValues(pod, container)
      if (attempt >= this.#config.max_poll_attempts) {
        throw new UnavailableError(
          `kubelet does not list ${pod === undefined ? `pod ${info.podUid}` : `container ${info.containerId.slice(0, 12)} in pod ${info.podUid}`} after ${attempt} attempts`,
        )
      }
      this.#log?.debug('Pod not yet listed by the kubelet, retrying', { podUid: info.podUid, attempt })
      try {
        await sleep(this.#config.poll_retry_interval_ms, undefined, { signal })
      } catch {
        throw abortedError(signal)
      }
    }
  }

  async #token(): Promise<string | undefined> {
    if (this.#endpoint.url.startsWith('http:') || this.#config.use_anonymous_authentication) return undefined
    try {
      return (await readFile(this.#config.token_path, 'utf8')).trim()
    } catch (err) {
      throw new ConfigError(`${CONFIG_PATH}.token_path: cannot read ${this.#config.token_path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
  }

  #selectorValues(pod: PodInfo, container: ContainerStatusInfo): string[] {
    const values = new Set<string>([
      `sa:${pod.serviceAccount}`,
      `ns:${pod.namespace}`,
      `node-name:${pod.nodeName}`,
      `pod-uid:${pod.uid}`,
      `pod-name:${pod.name}`,
      `pod-image-count:${pod.containers.length}`,
      `pod-init-image-count:${pod.initContainers.length}`,
    ])
    for (const c of pod.containers) for (const image of [c.imageId, c.image]) if (image !== '') values.add(`pod-image:${image}`)
    for (const c of pod.initContainers) for (const image of [c.imageId, c.image]) if (image !== '') values.add(`pod-init-image:${image}`)
    for (const [key, value] of Object.entries(pod.labels)) values.add(`pod-label:${key}:${value}`)
    for (const owner of pod.owners) {
      values.add(`pod-owner:${owner.kind}:${owner.name}`)
      values.add(`pod-owner-uid:${owner.kind}:${owner.uid}`)
    }
    if (!this.#config.disable_container_selectors) {
      values.add(`container-name:${container.name}`)
      if (container.imageId !== '') values.add(`container-image:${container.imageId}`)
      if (container.image !== '') values.add(`container-image:${container.image}`)
    }
    // A value with an empty part after the key (`sa:` of a pod without one) is still a valid selector.
    return [...values].sort()
  }
}

function findContainer(pod: PodInfo, containerId: string): ContainerStatusInfo | undefined {
  const matches = (c: ContainerStatusInfo) => c.containerId.endsWith(`://${containerId}`)
  return pod.containers.find(matches) ?? pod.initContainers.find(matches) ?? pod.ephemeralContainers.find(matches)
}

/** The kubelet endpoint a config names. @throws ConfigError when the CA file cannot be read. */
export async function kubeletEndpoint(config: K8sAttestorConfig): Promise<KubeletEndpoint> {
  const host = config.kubelet_host.includes(':') ? `[${config.kubelet_host}]` : config.kubelet_host
  if (config.kubelet_read_only_port !== 0) return { url: `http://${host}:${config.kubelet_read_only_port}`, caPem: undefined, insecureSkipVerify: false }
  let caPem: string | undefined
  if (!config.skip_kubelet_verification) {
    try {
      caPem = await readFile(config.kubelet_ca_path, 'utf8')
    } catch (err) {
      throw new ConfigError(`${CONFIG_PATH}.kubelet_ca_path: cannot read ${config.kubelet_ca_path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
  }
  return { url: `https://${host}:${config.kubelet_secure_port}`, caPem, insecureSkipVerify: config.skip_kubelet_verification }
}
