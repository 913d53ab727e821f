import * as s from '../../../common/schema.js'
import { definePlugin } from '../../registry.js'
import { JoinTokenAgentPlugin, joinTokenAgentConfigSchema } from './agent.js'
import { JOIN_TOKEN_PLUGIN_NAME, JoinTokenServerAttestor } from './server.js'

export { JoinTokenAgentPlugin, checkJoinToken, joinTokenAgentConfigSchema } from './agent.js'
export type { JoinTokenAgentConfig } from './agent.js'
export {
  JOIN_TOKEN_PLUGIN_NAME,
  JoinTokenServerAttestor,
  MAX_JOIN_TOKEN_LENGTH,
  generateJoinToken,
  hashJoinToken,
  joinTokenAgentId,
  joinTokenId,
} from './server.js'
export type { GeneratedJoinToken } from './server.js'

/** Server half of `join_token` (no config): consumes tokens from the host's join token store. */
export const joinTokenServerAttestor = definePlugin({
  kind: 'ServerNodeAttestor',
  name: JOIN_TOKEN_PLUGIN_NAME,
  config: s.object({}),
  create: (_config, host) => new JoinTokenServerAttestor(host.joinTokens),
})

/** Agent half of `join_token`: `token` or `token_path`. */
export const joinTokenAgentAttestor = definePlugin({
  kind: 'AgentNodeAttestor',
  name: JOIN_TOKEN_PLUGIN_NAME,
  config: joinTokenAgentConfigSchema,
  create: (config, host) => new JoinTokenAgentPlugin(config, host.log),
})
