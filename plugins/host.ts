import type { Logger } from '../common/logger.js'
import type { TrustDomain } from '../spiffe/index.js'

/** What a plugin may use from its host process: never the host's modules themselves. */
export interface PluginHost {
  /** Tagged with `pluginKind` and `pluginName`. */
  readonly log: Logger
  readonly trustDomain: TrustDomain
  /** A directory the plugin may keep files in (absolute). */
  readonly dataDir: string
  readonly clock: () => Date
}
