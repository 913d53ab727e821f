import { definePlugin } from '../../registry.js'
import { X509PopAgentPlugin, x509popAgentConfigSchema } from './agent.js'
import { X509POP_PLUGIN_NAME } from './protocol.js'
import { X509PopServerAttestor, loadCaBundle, x509popServerConfigSchema } from './server.js'

export { X509PopAgentPlugin, X509PopAgentSession, x509popAgentConfigSchema } from './agent.js'
export type { X509PopAgentConfig, X509PopAgentHooks, X509PopCredentials } from './agent.js'
export { X509POP_PLUGIN_NAME, certificateFingerprint } from './protocol.js'
export type { SignatureScheme } from './protocol.js'
export { DEFAULT_AGENT_PATH_TEMPLATE, X509PopServerAttestor, loadCaBundle, x509popServerConfigSchema } from './server.js'
export type { X509PopServerConfig } from './server.js'

/** Server half of `x509pop`: `ca_bundle_path`, `agent_path_template`. */
export const x509popServerAttestor = definePlugin({
  kind: 'ServerNodeAttestor',
  name: X509POP_PLUGIN_NAME,
  config: x509popServerConfigSchema,
  create: async (config, host) =>
    new X509PopServerAttestor(await loadCaBundle(config.ca_bundle_path), config.agent_path_template, host.log),
})

/** Agent half of `x509pop`: `certificate_path`, `private_key_path`, `intermediates_path`. */
export const x509popAgentAttestor = definePlugin({
  kind: 'AgentNodeAttestor',
  name: X509POP_PLUGIN_NAME,
  config: x509popAgentConfigSchema,
  create: async (config) => {
    const plugin = new X509PopAgentPlugin(config)
    // Fail at start-up, naming the key, rather than at the first attestation.
    await plugin.loadCredentials()
    return plugin
  },
})
