import { sqliteDataStore } from '../plugins/data-store/sqlite/index.js'
import { diskKeyManager } from '../plugins/key-manager/disk/index.js'
import { memoryKeyManager } from '../plugins/key-manager/memory/index.js'
import { joinTokenServerAttestor } from '../plugins/node-attestor/join-token/index.js'
import { k8sPsatServerAttestor } from '../plugins/node-attestor/k8s-psat/index.js'
import { x509popServerAttestor } from '../plugins/node-attestor/x509pop/index.js'
import { PluginCatalog, type KindConstraint, type PluginKind } from '../plugins/registry.js'
import { diskUpstreamAuthority } from '../plugins/upstream-authority/disk/index.js'

/** How many plugins of each kind the server needs. */
export const SERVER_PLUGIN_CONSTRAINTS: ReadonlyMap<PluginKind, KindConstraint> = new Map<PluginKind, KindConstraint>([
  ['DataStore', { min: 1, max: 1 }],
  ['KeyManager', { min: 1, max: 1 }],
  ['ServerNodeAttestor', { min: 1, max: undefined }],
  ['UpstreamAuthority', { min: 0, max: 1 }],
])

/** The server's built-in plugins. */
export function serverCatalog(): PluginCatalog {
  return new PluginCatalog(
    [sqliteDataStore, diskKeyManager, memoryKeyManager, joinTokenServerAttestor, x509popServerAttestor, k8sPsatServerAttestor, diskUpstreamAuthority],
    SERVER_PLUGIN_CONSTRAINTS,
  )
}
