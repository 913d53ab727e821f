import { definePlugin } from '../../registry.js'
import { DockerAttestor, dockerConfigSchema } from './attestor.js'

export { DEFAULT_DOCKER_HOOKS, DockerAttestor, dockerConfigSchema } from './attestor.js'
export type { DockerAttestorConfig, DockerAttestorHooks } from './attestor.js'
export { ENGINE_REQUEST_TIMEOUT_MS, httpEngineGet, inspectContainer, parseInspectReply, unixSocketPath } from './engine.js'
export type { ContainerDetails, EngineGet, EngineReply } from './engine.js'

/** The plugin name, which is also the selector type: `docker:label:app:web`. */
export const DOCKER_PLUGIN_NAME = 'docker'

/**
 * WorkloadAttestor `docker`: `docker_socket_path`, `podman_socket_path`,
 * `podman_socket_path_template`, `docker_version`, `env_selectors` (see README.md).
 */
export const dockerWorkloadAttestor = definePlugin({
  kind: 'WorkloadAttestor',
  name: DOCKER_PLUGIN_NAME,
  config: dockerConfigSchema,
  create: (config, host) => new DockerAttestor(config, {}, host.log),
})
