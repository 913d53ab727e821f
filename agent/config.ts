import { isAbsolute, resolve } from 'node:path'
import { anyValue, override, portFlag, sectionOf, trustDomainCheck } from '../common/config-checks.js'
import { readConfigFile } from '../common/config-file.js'
import { ConfigError } from '../common/errors.js'
import { LOG_LEVELS, type LogLevel } from '../common/logger.js'
import * as s from '../common/schema.js'
import { parseTrustDomain, type TrustDomain } from '../spiffe/index.js'
import { JOIN_TOKEN_ENV, resolveJoinTokenSource, type JoinTokenOrigin, type JoinTokenSource } from './join-token.js'

/** Agent defaults, one place. The sample examples/agent.yaml states the same values. */
export const AGENT_DEFAULTS = Object.freeze({
  /** Trust domain the agent belongs to. */
  trust_domain: 'example.org',
  /** Where steeple-server's agent API listens. */
  server_address: '127.0.0.1',
  server_port: 8081,
  /** The agent's SVID, key and bundle live here (relative to the working directory). */
  data_dir: './.steeple/agent',
  /** Workload API socket; relative paths are under data_dir. */
  socket_path: 'api.sock',
  log_level: 'info' as LogLevel,
})

const agentSection = s.object({
  trust_domain: s.string({ default: AGENT_DEFAULTS.trust_domain, check: trustDomainCheck }),
  server_address: s.string({ default: AGENT_DEFAULTS.server_address, nonEmpty: true }),
  server_port: s.int({ default: AGENT_DEFAULTS.server_port, min: 1, max: 65535 }),
  data_dir: s.string({ default: AGENT_DEFAULTS.data_dir, nonEmpty: true }),
  socket_path: s.string({ default: AGENT_DEFAULTS.socket_path, nonEmpty: true }),
  log_level: s.string({ default: AGENT_DEFAULTS.log_level, oneOf: LOG_LEVELS }),
  trust_bundle_path: s.optional(s.string({ nonEmpty: true })),
  insecure_bootstrap: s.bool({ default: false }),
  join_token_path: s.optional(s.string({ nonEmpty: true })),
})

const pluginSections = s.object({
  NodeAttestor: s.record(s.optional(s.record(anyValue))),
  WorkloadAttestor: s.record(s.optional(s.record(anyValue))),
})

const fileSchema = s.object({ agent: agentSection, plugins: pluginSections })

const DEFAULT_PLUGINS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  NodeAttestor: { join_token: {} },
  WorkloadAttestor: { unix: {} },
}

export interface AgentConfig {
  readonly trustDomain: TrustDomain
  readonly serverAddress: string
  readonly serverPort: number
  /** Absolute. */
  readonly dataDir: string
  /** Absolute path of the Workload API socket. */
  readonly socketPath: string
  readonly logLevel: LogLevel
  /** Absolute path of a PEM bundle to trust the server with on first start; undefined = none. */
  readonly trustBundlePath: string | undefined
  /** Trust the server without a bundle on first start (development only). */
  readonly insecureBootstrap: boolean
  /** How the join token was given (it is in `plugins`); undefined = not, or in the join_token section itself. */
  readonly joinTokenOrigin: JoinTokenOrigin | undefined
  readonly plugins: Readonly<Record<string, Readonly<Record<string, unknown>>>>
}

export interface AgentFlags {
  config?: string
  joinToken?: string
  joinTokenFile?: string
  trustDomain?: string
  serverAddress?: string
  serverPort?: string
  dataDir?: string
  socketPath?: string
  trustBundle?: string
  insecureBootstrap?: boolean
  logLevel?: string
}

/** The environment variables the agent config reads (given by the command line, never read below it). */
export interface AgentEnv {
  readonly [JOIN_TOKEN_ENV]?: string | undefined
}

/**
 * Builds the agent config: file (if any) → flags override → validate → defaults → freeze.
 * A join token (`--join-token`, `--join-token-file`, `STEEPLE_JOIN_TOKEN`, `agent.join_token_path`:
 * one of them) selects the join_token node attestor with it.
 * @throws ConfigError naming the key and the rule.
 */
export function loadAgentConfig(flags: AgentFlags, cwd = process.cwd(), env: AgentEnv = {}): AgentConfig {
  const { raw, section: agent } = sectionOf(flags.config !== undefined ? readConfigFile(flags.config) : {}, 'agent')
  override(agent, 'trust_domain', flags.trustDomain)
  override(agent, 'server_address', flags.serverAddress)
  override(agent, 'server_port', flags.serverPort === undefined ? undefined : portFlag('--server-port', flags.serverPort))
  override(agent, 'data_dir', flags.dataDir)
  override(agent, 'socket_path', flags.socketPath)
  override(agent, 'trust_bundle_path', flags.trustBundle)
  override(agent, 'insecure_bootstrap', flags.insecureBootstrap)
  override(agent, 'log_level', flags.logLevel)
  const parsed = fileSchema.parse({ ...raw, agent }, '')
  const c = parsed.agent
  if (c.trust_bundle_path !== undefined && c.insecure_bootstrap) {
    throw new ConfigError('agent.trust_bundle_path and agent.insecure_bootstrap (--insecure-bootstrap) exclude each other: trust a bundle or nothing')
  }
  const plugins: Record<string, Readonly<Record<string, unknown>>> = {}
  for (const [kind, fallback] of Object.entries(DEFAULT_PLUGINS)) {
    const given = (parsed.plugins as Record<string, Record<string, unknown>>)[kind] ?? {}
    plugins[kind] = Object.freeze(Object.keys(given).length > 0 ? given : fallback)
  }
  const joinToken = resolveJoinTokenSource({ flag: flags.joinToken, fileFlag: flags.joinTokenFile, env: env[JOIN_TOKEN_ENV], configPath: c.join_token_path })
  if (joinToken !== undefined) {
    plugins['NodeAttestor'] = joinTokenAttestor(joinToken, (parsed.plugins as Record<string, Record<string, unknown>>)['NodeAttestor'] ?? {}, cwd)
  }
  const dataDir = resolve(cwd, c.data_dir)
  return Object.freeze({
    trustDomain: parseTrustDomain(c.trust_domain),
    serverAddress: c.server_address,
    serverPort: c.server_port,
    dataDir,
    socketPath: isAbsolute(c.socket_path) ? c.socket_path : resolve(dataDir, c.socket_path),
    logLevel: c.log_level as LogLevel,
    trustBundlePath: c.trust_bundle_path === undefined ? undefined : resolve(cwd, c.trust_bundle_path),
    insecureBootstrap: c.insecure_bootstrap,
    joinTokenOrigin: joinToken?.origin,
    plugins: Object.freeze(plugins),
  })
}

/**
 * The NodeAttestor section for a join token given outside it. Given when starting the agent, the
 * token replaces the file's choice of attestor; `agent.join_token_path` must agree with the file's
 * plugins. A token in the join_token section as well is refused: two tokens, no winner.
 */
function joinTokenAttestor(source: JoinTokenSource, inFile: Record<string, unknown>, cwd: string): Readonly<Record<string, unknown>> {
  const section = inFile['join_token'] as Record<string, unknown> | undefined
  for (const key of ['token', 'token_path']) {
    if (section?.[key] !== undefined) {
      throw new ConfigError(`${source.origin} and plugins.NodeAttestor.join_token.${key} both give the join token: give it one way only`)
    }
  }
  const others = Object.keys(inFile).filter((name) => name !== 'join_token')
  if (source.origin === 'agent.join_token_path' && others.length > 0) {
    throw new ConfigError(`agent.join_token_path selects the join_token node attestor, but plugins.NodeAttestor configures ${others.join(', ')}: configure one`)
  }
  return Object.freeze({ join_token: 'token' in source ? { token: source.token } : { token_path: resolve(cwd, source.path) } })
}
