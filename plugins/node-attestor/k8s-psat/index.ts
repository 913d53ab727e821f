import { definePlugin } from '../../registry.js'
import { K8sPsatAgentPlugin, k8sPsatAgentConfigSchema } from './agent.js'
import { K8S_PSAT_PLUGIN_NAME } from './protocol.js'
import { K8sPsatServerAttestor, k8sPsatServerConfigSchema, loadClusters } from './server.js'

export { K8sPsatAgentPlugin, k8sPsatAgentConfigSchema } from './agent.js'
export type { K8sPsatAgentConfig } from './agent.js'
export { K8S_PSAT_PLUGIN_NAME, encodePayload, parsePayload } from './protocol.js'
export type { K8sPsatPayload } from './protocol.js'
export { K8sPsatServerAttestor, k8sPsatServerConfigSchema, loadClusters } from './server.js'
export type { K8sPsatCluster, K8sPsatClusterConfig, K8sPsatServerConfig } from './server.js'
export { JwksVerifier, TokenReviewVerifier } from './verify.js'
export type { ClusterEndpoint, ReviewedToken, TokenVerifier } from './verify.js'

/** Server half of `k8s_psat`: `clusters` (see README.md). */
export const k8sPsatServerAttestor = definePlugin({
  kind: 'ServerNodeAttestor',
  name: K8S_PSAT_PLUGIN_NAME,
  config: k8sPsatServerConfigSchema,
  create: async (config) => new K8sPsatServerAttestor(await loadClusters(config)),
})

/** Agent half of `k8s_psat`: `cluster`, `token_path`. */
export const k8sPsatAgentAttestor = definePlugin({
  kind: 'AgentNodeAttestor',
  name: K8S_PSAT_PLUGIN_NAME,
  config: k8sPsatAgentConfigSchema,
  create: (config) => new K8sPsatAgentPlugin(config),
})
