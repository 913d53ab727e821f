import type { DataStore } from './data-store/types.js'
import type { KeyManager } from './key-manager/types.js'
import type { AgentNodeAttestorPlugin, ServerNodeAttestor, ServerNodeAttestorHost } from './node-attestor/types.js'
import type { PluginHost } from './host.js'
import type { UpstreamAuthority } from './upstream-authority/types.js'
import type { WorkloadAttestor } from './workload-attestor/types.js'

/**
 * Every plugin kind: what an implementation's `create` returns and the host it is created with.
 * Defining and loading a plugin are checked against this map at compile time, so a plugin of one
 * kind cannot be loaded as another and a plugin never has to reach into its host at run time.
 * Server and agent halves of node attestation are distinct kinds; both are configured under
 * `plugins.NodeAttestor` (SPIRE's name), each process reading that section as its own half.
 */
export interface PluginKinds {
  DataStore: { instance: DataStore; host: PluginHost }
  KeyManager: { instance: KeyManager; host: PluginHost }
  UpstreamAuthority: { instance: UpstreamAuthority; host: PluginHost }
  ServerNodeAttestor: { instance: ServerNodeAttestor; host: ServerNodeAttestorHost }
  AgentNodeAttestor: { instance: AgentNodeAttestorPlugin; host: PluginHost }
  WorkloadAttestor: { instance: WorkloadAttestor; host: PluginHost }
}

/** The plugin kinds a Steeple process can load. */
export type PluginKind = keyof PluginKinds

/** What a plugin of kind `K` is. */
export type PluginInstance<K extends PluginKind> = PluginKinds[K]['instance']

/** What a plugin of kind `K` is created with. */
export type HostOf<K extends PluginKind> = PluginKinds[K]['host']

/** The section of `plugins:` in the config file that configures kind `K`. */
export const CONFIG_SECTION: { readonly [K in PluginKind]: string } = Object.freeze({
  DataStore: 'DataStore',
  KeyManager: 'KeyManager',
  UpstreamAuthority: 'UpstreamAuthority',
  ServerNodeAttestor: 'NodeAttestor',
  AgentNodeAttestor: 'NodeAttestor',
  WorkloadAttestor: 'WorkloadAttestor',
})
