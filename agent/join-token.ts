import { ConfigError } from '../common/errors.js'
import { checkJoinToken } from '../plugins/node-attestor/join-token/index.js'

/** The environment variable the agent takes its join token from. */
export const JOIN_TOKEN_ENV = 'STEEPLE_JOIN_TOKEN'

/** The ways to give the agent its join token, by the name operators use for each. */
export type JoinTokenOrigin = '--join-token' | '--join-token-file' | typeof JOIN_TOKEN_ENV | 'agent.join_token_path'

/** The agent's join token, or the file to read it from when the agent has to attest. */
export type JoinTokenSource =
  | { readonly origin: '--join-token' | typeof JOIN_TOKEN_ENV; readonly token: string }
  | { readonly origin: '--join-token-file' | 'agent.join_token_path'; readonly path: string }

/** What was given of each way; undefined = not given. */
export interface JoinTokenInputs {
  /** `--join-token`. */
  readonly flag?: string | undefined
  /** `--join-token-file`. */
  readonly fileFlag?: string | undefined
  /** {@link JOIN_TOKEN_ENV}. */
  readonly env?: string | undefined
  /** `agent.join_token_path` of the config file. */
  readonly configPath?: string | undefined
}

/**
 * The one way the join token was given, or undefined when it was not. `--join-token-file` replaces
 * `agent.join_token_path` of the config file, as every flag replaces its key; any other two ways at
 * once are refused, so that none silently wins over another. Tokens are checked for form only.
 * @throws ConfigError naming both ways, or the empty or malformed one; never containing the token.
 */
export function resolveJoinTokenSource(inputs: JoinTokenInputs): JoinTokenSource | undefined {
  const given: JoinTokenSource[] = []
  if (inputs.flag !== undefined) given.push({ origin: '--join-token', token: tokenOf('--join-token', inputs.flag) })
  if (inputs.env !== undefined) given.push({ origin: JOIN_TOKEN_ENV, token: tokenOf(JOIN_TOKEN_ENV, inputs.env) })
  if (inputs.fileFlag !== undefined) {
    if (inputs.fileFlag === '') throw new ConfigError('--join-token-file must not be empty')
    given.push({ origin: '--join-token-file', path: inputs.fileFlag })
  } else if (inputs.configPath !== undefined) {
    given.push({ origin: 'agent.join_token_path', path: inputs.configPath })
  }
  if (given.length > 1) {
    throw new ConfigError(`${given[0]!.origin} and ${given[1]!.origin} both give the join token: give it one way only`)
  }
  return given[0]
}

/**
 * Takes the join token out of `env` (the process environment in `steeple-agent run`), so that
 * processes the agent starts do not inherit it. The kernel's copy of the initial environment
 * (`/proc/<pid>/environ`, readable by the agent's own uid and root only) keeps it.
 */
export function takeJoinTokenEnv(env: Record<string, string | undefined>): string | undefined {
  const token = env[JOIN_TOKEN_ENV]
  delete env[JOIN_TOKEN_ENV]
  return token
}

function tokenOf(origin: string, value: string): string {
  if (value === '') throw new ConfigError(`${origin} must not be empty`)
  const token = value.trim()
  checkJoinToken(token, origin)
  return token
}
