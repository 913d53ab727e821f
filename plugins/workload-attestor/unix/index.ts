import { definePlugin } from '../../registry.js'
import { UnixAttestor, unixConfigSchema } from './attestor.js'

export { UnixAttestor, parseProcStatus, unixConfigSchema } from './attestor.js'
export type { ProcStatusIds, UnixAttestorConfig } from './attestor.js'
export { DIGEST_CACHE_ENTRIES } from './digest.js'
export { DEFAULT_UNIX_HOOKS, nodeUnixFs } from './hooks.js'
export type { FileIdentity, OpenFile, UnixAttestorHooks, UnixFs } from './hooks.js'
export { parseIdNames } from './names.js'

/** The plugin name, which is also the selector type: `unix:uid:1000`. */
export const UNIX_PLUGIN_NAME = 'unix'

/** WorkloadAttestor `unix`: `discover_workload_path` (default false), `workload_size_limit` (default 0). */
export const unixWorkloadAttestor = definePlugin({
  kind: 'WorkloadAttestor',
  name: UNIX_PLUGIN_NAME,
  config: unixConfigSchema,
  create: (config) => new UnixAttestor(config),
})
