import { isAbsolute, resolve } from 'node:path'
import { readConfigFile } from '../common/config-file.js'
import { ConfigError } from '../common/errors.js'
import { LOG_LEVELS, type LogLevel } from '../common/logger.js'
import * as s from '../common/schema.js'
import { parseTrustDomain, type TrustDomain } from '../spiffe/index.js'
import { anyValue, override, portFlag, sectionOf, trustDomainCheck } from '../common/config-checks.js'
import { KEY_TYPES, type KeyType } from '../plugins/key-manager/types.js'

/**
 * Server defaults, one place. The sample examples/server.yaml states the same values.
 * Durations are in seconds.
 */
export const SERVER_DEFAULTS = Object.freeze({
  /** Trust domain served. */
  trust_domain: 'example.org',
  /** Database, keys and the admin socket live here (relative to the working directory). */
  data_dir: './.steeple/server',
  /** Admin API socket; relative paths are under data_dir. */
  socket_path: 'admin.sock',
  /** Agent API (gRPC over TLS) listens here. */
  bind_address: '127.0.0.1',
  bind_port: 8081,
  log_level: 'info' as LogLevel,
  /** Key type of the X.509 CA and of the JWT signing keys. */
  ca_key_type: 'ec-p256' as KeyType,
  /** Lifetime of each X.509 CA and JWT signing key: 24 h. */
  ca_ttl_seconds: 24 * 3600,
  /** Default X.509-SVID lifetime: 1 h. */
  default_x509_svid_ttl_seconds: 3600,
  /** Default JWT-SVID lifetime: 5 min. */
  default_jwt_svid_ttl_seconds: 300,
  /** Lifetime of a join token made by `token generate`: 10 min. */
  join_token_ttl_seconds: 600,
  /** How long audit events are kept: 30 days. */
  audit_retention_seconds: 30 * 86400,
})

const durationKeys = { min: 1, max: 10 * 365 * 86400 }

const serverSection = s.object({
  trust_domain: s.string({ default: SERVER_DEFAULTS.trust_domain, check: trustDomainCheck }),
  data_dir: s.string({ default: SERVER_DEFAULTS.data_dir, nonEmpty: true }),
  socket_path: s.string({ default: SERVER_DEFAULTS.socket_path, nonEmpty: true }),
  bind_address: s.string({
    default: SERVER_DEFAULTS.bind_address,
    pattern: /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+|localhost)$/,
    patternRule: 'must be an IP address',
  }),
  bind_port: s.int({ default: SERVER_DEFAULTS.bind_port, min: 0, max: 65535 }),
  log_level: s.string({ default: SERVER_DEFAULTS.log_level, oneOf: LOG_LEVELS }),
  ca_key_type: s.string({ default: SERVER_DEFAULTS.ca_key_type, oneOf: KEY_TYPES }),
  ca_ttl: s.durationSeconds({ default: SERVER_DEFAULTS.ca_ttl_seconds, ...durationKeys }),
  ca_subject: s.object({
    country: s.string({ default: '' }),
    organization: s.string({ default: 'Steeple' }),
    common_name: s.string({ default: '' }),
  }),
  default_x509_svid_ttl: s.durationSeconds({ default: SERVER_DEFAULTS.default_x509_svid_ttl_seconds, ...durationKeys }),
  default_jwt_svid_ttl: s.durationSeconds({ default: SERVER_DEFAULTS.default_jwt_svid_ttl_seconds, ...durationKeys }),
  join_token_ttl: s.durationSeconds({ default: SERVER_DEFAULTS.join_token_ttl_seconds, ...durationKeys }),
  audit_retention: s.durationSeconds({ default: SERVER_DEFAULTS.audit_retention_seconds, ...durationKeys }),
  metrics_port: s.optional(s.int({ min: 0, max: 65535 })),
})

const pluginSections = s.object({
  DataStore: s.record(s.optional(s.record(anyValue))),
  KeyManager: s.record(s.optional(s.record(anyValue))),
  NodeAttestor: s.record(s.optional(s.record(anyValue))),
  UpstreamAuthority: s.record(s.optional(s.record(anyValue))),
})

/** Who may use the admin socket besides root and the server's own uid (checked from the kernel's peer credentials). */
const adminSection = s.object({
  allowed_uids: s.array(s.int({ min: 0, max: 2 ** 32 - 2 }), { default: [] }),
  allowed_gids: s.array(s.int({ min: 0, max: 2 ** 32 - 2 }), { default: [] }),
})
const fileSchema = s.object({ server: serverSection, admin: adminSection, plugins: pluginSections })

/** Plugins used when the config names none of a kind. */
const DEFAULT_PLUGINS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  DataStore: { sqlite: {} },
  KeyManager: { disk: {} },
  NodeAttestor: { join_token: {} },
  UpstreamAuthority: {},
}

export interface ServerConfig {
  readonly trustDomain: TrustDomain
  /** Absolute. */
  readonly dataDir: string
  /** Absolute. */
  readonly socketPath: string
  readonly bindAddress: string
  readonly bindPort: number
  readonly logLevel: LogLevel
  readonly caKeyType: KeyType
  readonly caTtlSeconds: number
  readonly caSubject: { readonly country: string; readonly organization: string; readonly commonName: string }
  readonly defaultX509SvidTtlSeconds: number
  readonly defaultJwtSvidTtlSeconds: number
  readonly joinTokenTtlSeconds: number
  readonly auditRetentionSeconds: number
  readonly metricsPort: number | undefined
  /** Callers of the admin API besides root and the server's uid: by uid, or by primary or supplementary gid. */
  readonly admin: { readonly uids: readonly number[]; readonly gids: readonly number[] }
  /** Kind → plugin name → that plugin's raw config section (validated by the plugin at load). */
  readonly plugins: Readonly<Record<string, Readonly<Record<string, unknown>>>>
}

/** Command-line overrides (undefined = not given). */
export interface ServerFlags {
  config?: string
  trustDomain?: string
  dataDir?: string
  socketPath?: string
  bindAddress?: string
  bindPort?: string
  logLevel?: string
  metricsPort?: string
}

/**
 * Builds the server config: file (if any) → flags override → validate → defaults → freeze.
 * @throws ConfigError naming the key and the rule.
 */
export function loadServerConfig(flags: ServerFlags, cwd = process.cwd()): ServerConfig {
  const { raw, section: server } = sectionOf(flags.config !== undefined ? readConfigFile(flags.config) : {}, 'server')
  override(server, 'trust_domain', flags.trustDomain)
  override(server, 'data_dir', flags.dataDir)
  override(server, 'socket_path', flags.socketPath)
  override(server, 'bind_address', flags.bindAddress)
  override(server, 'bind_port', flags.bindPort === undefined ? undefined : portFlag('--bind-port', flags.bindPort))
  override(server, 'log_level', flags.logLevel)
  override(server, 'metrics_port', flags.metricsPort === undefined ? undefined : portFlag('--metrics-port', flags.metricsPort))
  const parsed = fileSchema.parse({ ...raw, server }, '')

  const c = parsed.server
  if (c.default_x509_svid_ttl > c.ca_ttl) {
    throw new ConfigError(`server.default_x509_svid_ttl (${c.default_x509_svid_ttl}s) must not exceed server.ca_ttl (${c.ca_ttl}s)`)
  }
  if (c.default_jwt_svid_ttl > c.ca_ttl) {
    throw new ConfigError(`server.default_jwt_svid_ttl (${c.default_jwt_svid_ttl}s) must not exceed server.ca_ttl (${c.ca_ttl}s)`)
  }
  const dataDir = resolve(cwd, c.data_dir)
  const plugins: Record<string, Readonly<Record<string, unknown>>> = {}
  for (const [kind, fallback] of Object.entries(DEFAULT_PLUGINS)) {
    const given = (parsed.plugins as Record<string, Record<string, unknown>>)[kind] ?? {}
    plugins[kind] = Object.freeze(Object.keys(given).length > 0 ? given : fallback)
  }
  return Object.freeze({
    trustDomain: parseTrustDomain(c.trust_domain),
    dataDir,
    socketPath: isAbsolute(c.socket_path) ? c.socket_path : resolve(dataDir, c.socket_path),
    bindAddress: c.bind_address,
    bindPort: c.bind_port,
    logLevel: c.log_level as LogLevel,
    caKeyType: c.ca_key_type as KeyType,
    caTtlSeconds: c.ca_ttl,
    caSubject: Object.freeze({ country: c.ca_subject.country, organization: c.ca_subject.organization, commonName: c.ca_subject.common_name }),
    defaultX509SvidTtlSeconds: c.default_x509_svid_ttl,
    defaultJwtSvidTtlSeconds: c.default_jwt_svid_ttl,
    joinTokenTtlSeconds: c.join_token_ttl,
    auditRetentionSeconds: c.audit_retention,
    metricsPort: c.metrics_port,
    admin: Object.freeze({ uids: Object.freeze([...parsed.admin.allowed_uids]), gids: Object.freeze([...parsed.admin.allowed_gids]) }),
    plugins: Object.freeze(plugins),
  })
}
