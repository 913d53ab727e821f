import { joinTokenAgentAttestor } from '../plugins/node-attestor/join-token/index.js'
import { k8sPsatAgentAttestor } from '../plugins/node-attestor/k8s-psat/index.js'
import { x509popAgentAttestor } from '../plugins/node-attestor/x509pop/index.js'
import { PluginCatalog, type KindConstraint, type PluginKind } from '../plugins/registry.js'
import { dockerWorkloadAttestor } from '../plugins/workload-attestor/docker/index.js'
import { k8sWorkloadAttestor } from '../plugins/workload-attestor/k8s/index.js'
import { unixWorkloadAttestor } from '../plugins/workload-attestor/unix/index.js'

/** How many plugins of each kind the agent needs: one way to attest the node, at least one workload attestor. */
export const AGENT_PLUGIN_CONSTRAINTS: ReadonlyMap<PluginKind, KindConstraint> = new Map<PluginKind, KindConstraint>([
  ['AgentNodeAttestor', { min: 1, max: 1 }],
  ['WorkloadAttestor', { min: 1, max: undefined }],
])

/** The agent's built-in plugins (agent halves of the node attestors). */
export const AGENT_PLUGINS = [joinTokenAgentAttestor, x509popAgentAttestor, k8sPsatAgentAttestor, unixWorkloadAttestor, dockerWorkloadAttestor, k8sWorkloadAttestor]

/** The agent's plugin catalog. */
export function agentCatalog(): PluginCatalog {
  return new PluginCatalog(AGENT_PLUGINS, AGENT_PLUGIN_CONSTRAINTS)
}
