import { definePlugin } from '../../registry.js'
import { K8sAttestor, k8sConfigSchema, kubeletEndpoint } from './attestor.js'

export { DEFAULT_K8S_HOOKS, K8sAttestor, k8sConfigSchema, kubeletEndpoint } from './attestor.js'
export type { K8sAttestorConfig, K8sAttestorHooks } from './attestor.js'
export { fetchPods, httpKubeletGet, parsePodList } from './kubelet.js'
export type { ContainerStatusInfo, KubeletEndpoint, KubeletGet, PodInfo } from './kubelet.js'

/** The plugin name, which is also the selector type: `k8s:ns:default`. */
export const K8S_PLUGIN_NAME = 'k8s'

/** WorkloadAttestor `k8s`: kubelet ports, CA, token, polling (see README.md). */
export const k8sWorkloadAttestor = definePlugin({
  kind: 'WorkloadAttestor',
  name: K8S_PLUGIN_NAME,
  config: k8sConfigSchema,
  create: async (config, host) => new K8sAttestor(config, await kubeletEndpoint(config), {}, host.log),
})
