import { readFile as fsReadFile } from 'node:fs/promises'
import { ConfigError, InvalidArgumentError } from '../../../common/errors.js'
import * as s from '../../../common/schema.js'
import type { AgentNodeAttestor, AgentNodeAttestorPlugin } from '../types.js'
import { MAX_JOIN_TOKEN_LENGTH } from './server.js'

const CONFIG_PATH = 'plugins.NodeAttestor.join_token'
const TOKEN_CHARS = /^[\x21-\x7e]+$/

const baseSchema = s.object({
  /** The token itself (for `--join-token`; prefer token_path in config files). */
  token: s.optional(s.string({ nonEmpty: true })),
  /** A file holding the token (surrounding whitespace ignored). */
  token_path: s.optional(s.string({ nonEmpty: true })),
})

/**
 * Agent-side config of `join_token`: at most one of `token` and `token_path`. Neither is allowed,
 * because an agent restarted with its stored SVID attests no more; it is an error only when an
 * attestation is needed (see {@link JoinTokenAgentPlugin.begin}).
 */
export type JoinTokenAgentConfig = s.Infer<typeof baseSchema>

/** Schema of {@link JoinTokenAgentConfig}; messages never contain the token. */
export const joinTokenAgentConfigSchema: s.Schema<JoinTokenAgentConfig> = {
  describe: baseSchema.describe,
  parse(value, path) {
    const config = baseSchema.parse(value, path)
    if (config.token !== undefined && config.token_path !== undefined) {
      throw new ConfigError(`${path} must set only one of token, token_path`)
    }
    if (config.token !== undefined) checkToken(config.token.trim(), `${path}.token`)
    return config
  },
}

/** How the agent half reads files; tests pass their own. */
export interface JoinTokenAgentHooks {
  readonly readFile: (path: string) => Promise<string>
}

const defaultHooks: JoinTokenAgentHooks = { readFile: (path) => fsReadFile(path, 'utf8') }

/** Agent half of `join_token`: sends the token, answers no challenge. */
export class JoinTokenAgentPlugin implements AgentNodeAttestorPlugin {
  readonly #config: JoinTokenAgentConfig
  readonly #hooks: JoinTokenAgentHooks

  constructor(config: JoinTokenAgentConfig, hooks: JoinTokenAgentHooks = defaultHooks) {
    this.#config = config
    this.#hooks = hooks
  }

  /** @throws ConfigError without a token, or when token_path cannot be read or holds no valid token. */
  async begin(): Promise<AgentNodeAttestor> {
    return new JoinTokenAgentSession(await this.#readToken())
  }

  async #readToken(): Promise<string> {
    if (this.#config.token !== undefined) return this.#config.token.trim()
    const path = this.#config.token_path
    if (path === undefined) {
      throw new ConfigError(
        `${CONFIG_PATH}: the agent must attest and has no join token: give --join-token TOKEN (from \`steeple-server token generate\`) or set token_path`,
      )
    }
    let text: string
    try {
      text = await this.#hooks.readFile(path)
    } catch (err) {
      throw new ConfigError(`${CONFIG_PATH}.token_path: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
    const token = text.trim()
    checkToken(token, `${CONFIG_PATH}.token_path`)
    return token
  }
}

class JoinTokenAgentSession implements AgentNodeAttestor {
  readonly #payload: Uint8Array

  constructor(token: string) {
    this.#payload = new TextEncoder().encode(token)
  }

  async payload(): Promise<Uint8Array> {
    return this.#payload.slice()
  }

  async answer(): Promise<Uint8Array> {
    throw new InvalidArgumentError('the server sent a challenge, but join_token attestation has none')
  }
}

function checkToken(token: string, key: string): void {
  if (token === '') throw new ConfigError(`${key} must hold a join token, found none`)
  if (token.length > MAX_JOIN_TOKEN_LENGTH || !TOKEN_CHARS.test(token)) {
    throw new ConfigError(`${key} must be a join token: 1 to ${MAX_JOIN_TOKEN_LENGTH} printable ASCII characters without spaces`)
  }
}
