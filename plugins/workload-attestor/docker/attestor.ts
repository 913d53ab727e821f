import * as s from '../../../common/schema.js'
import type { Logger } from '../../../common/logger.js'
import { MAX_SELECTOR_BYTES } from '../../../spiffe/index.js'
import { readCgroupContainerInfo, readTextFile, type CgroupContainerInfo, type ReadText } from '../container-id.js'
import { throwIfAborted, type WorkloadAttestor } from '../types.js'
import { httpEngineGet, inspectContainer, unixSocketPath, type ContainerDetails, type EngineGet } from './engine.js'

const socketCheck = (value: string): string | undefined =>
  unixSocketPath(value) === undefined ? 'must be a unix:///absolute/path address or an absolute path' : undefined

/** Config of the `docker` workload attestor; keys and defaults as SPIRE's, plus `env_selectors`. */
export const dockerConfigSchema = s.object({
  /** The Docker Engine API socket, for containers that are not Podman's. */
  docker_socket_path: s.string({ default: 'unix:///var/run/docker.sock', check: socketCheck }),
  /** The rootful Podman API socket (`podman system service`), for `libpod-` containers. */
  podman_socket_path: s.string({ default: 'unix:///run/podman/podman.sock', check: socketCheck }),
  /** The rootless Podman socket of a user: `%d` is replaced by the uid of the container's user slice. */
  podman_socket_path_template: s.string({
    default: 'unix:///run/user/%d/podman/podman.sock',
    check: (value) =>
      value.split('%d').length !== 2 ? 'must contain exactly one %d (the uid)' : socketCheck(value.replace('%d', '0')),
  }),
  /** Engine API version to ask for (`1.41`); unset = the engine's own. */
  docker_version: s.optional(s.string({ pattern: /^\d+\.\d+$/, patternRule: 'must be an API version such as "1.41"' })),
  /** Emit `env:KEY=VALUE` for the container's environment (SPIRE always does; values may be secrets). */
  env_selectors: s.bool({ default: false }),
})

export type DockerAttestorConfig = s.Infer<typeof dockerConfigSchema>

/** OS access of the docker attestor, so tests can use a fake /proc and a fake engine. */
export interface DockerAttestorHooks {
  readonly procRoot: string
  readonly readText: ReadText
  readonly engineGet: EngineGet
}

/** The real system: /proc and the engine over its Unix socket. */
export const DEFAULT_DOCKER_HOOKS: DockerAttestorHooks = Object.freeze({ procRoot: '/proc', readText: readTextFile, engineGet: httpEngineGet })

/**
 * The `docker` workload attestor: finds the caller's container from its cgroups and asks the
 * engine (Docker, or Podman's Docker-compatible API) for its labels, image and optionally its
 * environment. Selector values match SPIRE's docker attestor.
 */
export class DockerAttestor implements WorkloadAttestor {
  readonly #config: DockerAttestorConfig
  readonly #hooks: DockerAttestorHooks
  readonly #log: Logger | undefined

  constructor(config: DockerAttestorConfig, hooks: Partial<DockerAttestorHooks> = {}, log?: Logger) {
    this.#config = config
    this.#hooks = { ...DEFAULT_DOCKER_HOOKS, ...hooks }
    this.#log = log
  }

  /**
   * Selector values for `pid`, sorted; `[]` for a process in no container.
   * @throws NotFoundError when no process `pid` runs; UnavailableError when the engine cannot be
   *   reached; FailedPreconditionError when the engine does not know the container; SteepleError
   *   `INTERNAL` for unreadable cgroups or a malformed engine reply.
   */
  async attest(pid: number, signal: AbortSignal): Promise<string[]> {
    throwIfAborted(signal)
    const info = await readCgroupContainerInfo(pid, this.#hooks.procRoot, this.#hooks.readText)
    throwIfAborted(signal)
    if (info.containerId === undefined) return []
    const socket = this.#socketFor(info)
    const details = await inspectContainer(this.#hooks.engineGet, socket, this.#config.docker_version, info.containerId, signal)
    throwIfAborted(signal)
    return this.#selectorValues(details, info.containerId)
  }

  #socketFor(info: CgroupContainerInfo): string {
    let address = this.#config.docker_socket_path
    if (info.podman) {
      address =
        info.userSliceUid === undefined
          ? this.#config.podman_socket_path
          : this.#config.podman_socket_path_template.replace('%d', String(info.userSliceUid))
    }
    return unixSocketPath(address)!
  }

  #selectorValues(details: ContainerDetails, containerId: string): string[] {
    const values = new Set<string>()
    for (const [key, value] of Object.entries(details.labels)) values.add(`label:${key}:${value}`)
    if (this.#config.env_selectors) for (const entry of details.env) values.add(`env:${entry}`)
    // SPIRE's image_id carries the image name; image:NAME says the same under the name our issue gave it.
    if (details.imageName !== '') values.add(`image_id:${details.imageName}`).add(`image:${details.imageName}`)
    if (/^sha256:[0-9a-f]{64}$/.test(details.imageId)) values.add(`image_config_digest:${details.imageId}`)
    const limit = MAX_SELECTOR_BYTES - Buffer.byteLength('docker:')
    const kept = [...values].filter((v) => Buffer.byteLength(v) <= limit)
    // No entry can name a selector longer than the limit, so leaving one out loses no identity.
    if (kept.length < values.size) {
      this.#log?.warn('Container selectors over the size limit left out', { containerId: containerId.slice(0, 12), count: values.size - kept.length })
    }
    return kept.sort()
  }
}
