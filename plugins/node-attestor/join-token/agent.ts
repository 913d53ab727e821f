import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { ConfigError, InvalidArgumentError } from '../../../common/errors.js'
import type { Logger } from '../../../common/logger.js'
import * as s from '../../../common/schema.js'
import type { AgentNodeAttestor, AgentNodeAttestorPlugin } from '../types.js'
import { MAX_JOIN_TOKEN_LENGTH } from './server.js'

const CONFIG_PATH = 'plugins.NodeAttestor.join_token'
const TOKEN_CHARS = /^[\x21-\x7e]+$/
/** A token file larger than this holds more than a token (generated tokens are 43 bytes). */
const MAX_TOKEN_FILE_BYTES = 4096

const baseSchema = s.object({
  /** The token itself (what --join-token and STEEPLE_JOIN_TOKEN set; prefer token_path in config files). */
  token: s.optional(s.string({ nonEmpty: true })),
  /** A file holding the token (surrounding whitespace ignored); readable by its owner only. */
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
    if (config.token !== undefined) checkJoinToken(config.token.trim(), `${path}.token`)
    return config
  },
}

/**
 * Agent half of `join_token`: sends the token, answers no challenge. The token (or its file) is read
 * when the agent first has to attest, and kept: an agent restarted on its stored SVID never reads it.
 */
export class JoinTokenAgentPlugin implements AgentNodeAttestorPlugin {
  readonly #config: JoinTokenAgentConfig
  readonly #log: Logger | undefined
  #token: string | undefined

  /** `log` gets the warning about a token file open to other users. */
  constructor(config: JoinTokenAgentConfig, log?: Logger) {
    this.#config = config
    this.#log = log
  }

  /** @throws ConfigError without a token, or when token_path cannot be read or holds no valid token. */
  async begin(): Promise<AgentNodeAttestor> {
    this.#token ??= await this.#readToken()
    return new JoinTokenAgentSession(this.#token)
  }

  async #readToken(): Promise<string> {
    if (this.#config.token !== undefined) return this.#config.token.trim()
    const path = this.#config.token_path
    if (path === undefined) {
      throw new ConfigError(
        `${CONFIG_PATH}: the agent must attest and has no join token: give --join-token-file FILE or STEEPLE_JOIN_TOKEN (from \`steeple-server token generate\`), or set agent.join_token_path`,
      )
    }
    return readTokenFile(path, this.#log)
  }
}

/**
 * The token in the file at `path`, read once through one descriptor (so the checks and the read see
 * the same file): it must be a regular file holding only a token. A file that group or other users
 * may access is used, with a warning.
 * @throws ConfigError naming the key and the path, never the content.
 */
async function readTokenFile(path: string, log: Logger | undefined): Promise<string> {
  const key = `${CONFIG_PATH}.token_path`
  let handle
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can refuse it.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    throw new ConfigError(`${key}: cannot read the join token file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  let text: string
  try {
    const st = await handle.stat()
    if (!st.isFile()) throw new ConfigError(`${key}: the join token file ${path} must be a regular file`)
    if (st.size > MAX_TOKEN_FILE_BYTES) throw new ConfigError(`${key}: the join token file ${path} must hold only a join token, not ${st.size} bytes`)
    if ((st.mode & 0o077) !== 0) {
      // Warned, not refused: the mode alone does not say who can reach the file (secret volumes of
      // Kubernetes and Docker are 0644 and 0444 inside a private mount), and the token is one-time.
      log?.warn('Join token file is accessible to group or other users; restrict it to its owner (chmod 600)', {
        path,
        mode: (st.mode & 0o777).toString(8).padStart(4, '0'),
      })
    }
    text = await handle.readFile('utf8')
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError(`${key}: cannot read the join token file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  } finally {
    await handle.close()
  }
  const token = text.trim()
  if (token === '') throw new ConfigError(`${key}: the join token file ${path} is empty, it must hold a join token`)
  checkJoinToken(token, `${key}: the join token file ${path}`)
  return token
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

/**
 * Checks that `token` is a well-formed join token (not that the server knows it).
 * @throws ConfigError naming `key` and the rule, never the token.
 */
export function checkJoinToken(token: string, key: string): void {
  if (token === '') throw new ConfigError(`${key} must hold a join token, found none`)
  if (token.length > MAX_JOIN_TOKEN_LENGTH || !TOKEN_CHARS.test(token)) {
    throw new ConfigError(`${key} must be a join token: 1 to ${MAX_JOIN_TOKEN_LENGTH} printable ASCII characters without spaces`)
  }
}
