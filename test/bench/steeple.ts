import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AdminClient } from '../../server/cli/client.js'
import { BenchProcess, jsonLine } from './process.js'
import type { BenchEntry, EquivalentConfig } from './setup.js'

/**
 * steeple-server (and steeple-agent) for the benchmarks, run the way operators run them
 * (`bin/steeple-server.js run --config …`), configured like the SPIRE side: SQLite, in-memory
 * server keys, join token, the same key type and TTLs.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const STEEPLE_SERVER_BIN = join(ROOT, 'bin', 'steeple-server.js')
export const STEEPLE_AGENT_BIN = join(ROOT, 'bin', 'steeple-agent.js')

/** Writes the server config for `config` into `dir` and returns its path. */
export async function writeSteepleServerConfig(dir: string, config: EquivalentConfig): Promise<string> {
  const path = join(dir, 'steeple-server.yaml')
  const yaml = [
    'server:',
    `  trust_domain: ${config.trustDomain}`,
    `  data_dir: ${JSON.stringify(join(dir, 'steeple-server-data'))}`,
    `  socket_path: ${JSON.stringify(join(dir, 'steeple-server.sock'))}`,
    '  bind_address: 127.0.0.1',
    '  bind_port: 0',
    `  log_level: ${config.logLevel}`,
    `  ca_key_type: ${config.keyType}`,
    `  ca_ttl: ${config.caTtlSeconds}s`,
    `  default_x509_svid_ttl: ${config.x509SvidTtlSeconds}s`,
    'plugins:',
    '  DataStore:',
    `    sqlite: { path: ${JSON.stringify(join(dir, 'steeple-datastore.sqlite3'))} }`,
    '  KeyManager:',
    '    memory: {}',
    '  NodeAttestor:',
    '    join_token: {}',
  ]
  await writeFile(path, yaml.join('\n') + '\n')
  return path
}

/** A running steeple-server (and, once started, steeple-agent) in `dir`. */
export class SteepleDeployment {
  readonly dir: string
  readonly config: EquivalentConfig
  readonly server: BenchProcess
  readonly socketPath: string
  readonly agentApiPort: number
  /** Milliseconds from spawn to the "Server started" log line. */
  readonly startMs: number
  readonly admin: AdminClient
  agent: BenchProcess | undefined
  workloadSocketPath = ''
  agentId = ''
  readonly #clients: AdminClient[] = []

  private constructor(dir: string, config: EquivalentConfig, server: BenchProcess, started: { socketPath: string; port: number; ms: number }) {
    this.dir = dir
    this.config = config
    this.server = server
    this.socketPath = started.socketPath
    this.agentApiPort = started.port
    this.startMs = started.ms
    this.admin = this.adminClient()
  }

  /**
   * Starts `steeple-server run` on the config (written by {@link writeSteepleServerConfig} unless
   * `configPath` is given); resolves at its "Server started" line. `nodeArgs` go to node itself
   * (`--cpu-prof`).
   */
  static async startServer(dir: string, config: EquivalentConfig, options: { configPath?: string; nodeArgs?: readonly string[]; timeoutMs?: number } = {}): Promise<SteepleDeployment> {
    const configPath = options.configPath ?? (await writeSteepleServerConfig(dir, config))
    const t0 = performance.now()
    const server = BenchProcess.start('steeple-server', process.execPath, [...(options.nodeArgs ?? []), STEEPLE_SERVER_BIN, 'run', '--config', configPath], {
      logPath: join(dir, 'steeple-server.log'),
      cwd: dir,
    })
    let started: { socketPath: string; port: number; ms: number }
    try {
      started = await server.waitForLine((line, at) => {
        const record = jsonLine(line)
        if (record?.['msg'] !== 'Server started') return undefined
        const port = Number(String(record['agentApiAddress']).split(':').pop())
        return { socketPath: String(record['socketPath']), port, ms: at - t0 }
      }, options.timeoutMs ?? 120_000)
    } catch (err) {
      await server.stop('SIGKILL')
      throw err
    }
    return new SteepleDeployment(dir, config, server, started)
  }

  /** Another admin API client (its own connection); closed by {@link stop}. */
  adminClient(): AdminClient {
    const client = new AdminClient(this.socketPath)
    this.#clients.push(client)
    return client
  }

  /** Creates entries (parent: the agent unless given) in batches of 50; returns their IDs. */
  async createEntries(entries: readonly BenchEntry[]): Promise<string[]> {
    const ids: string[] = []
    for (let i = 0; i < entries.length; i += 50) {
      const batch = entries.slice(i, i + 50).map((e) => ({
        spiffe_id: e.spiffeId,
        parent_id: e.parentId ?? this.agentId,
        selectors: e.selectors.map((s) => {
          const at = s.indexOf(':')
          return { type: s.slice(0, at), value: s.slice(at + 1) }
        }),
        x509_svid_ttl: e.x509SvidTtlSeconds ?? 0,
      }))
      const response = await this.admin.call('CreateEntries', { entries: batch })
      for (const r of response.results) {
        if (r.status !== null && r.status.code !== 0) throw new Error(`steeple-server refused an entry: ${r.status.message}`)
        ids.push(r.entry!.id)
      }
    }
    return ids
  }

  /** Makes a join token and returns it with the agent ID it will give. */
  async joinToken(): Promise<{ token: string; agentId: string }> {
    const response = await this.admin.call('CreateJoinToken', { ttl: 600 })
    return { token: response.token, agentId: response.agent_id }
  }

  /**
   * Starts `steeple-agent run` with a join token (a new one unless `join` is given), trusting the
   * server's bundle; resolves at the agent's `waitFor` log line ("Agent started": its Workload API
   * is served). `nodeArgs` go to node itself. Returns the spawn time and the time to that line.
   */
  async startAgent(
    options: {
      join?: { token: string; agentId: string }
      logLevel?: string
      waitFor?: string
      nodeArgs?: readonly string[]
      timeoutMs?: number
    } = {},
  ): Promise<{ t0: number; ms: number }> {
    const { token, agentId } = options.join ?? (await this.joinToken())
    this.agentId = agentId
    const bundle = await this.admin.call('GetBundle', {})
    const bundlePath = join(this.dir, 'steeple-bundle.pem')
    await writeFile(bundlePath, bundle.x509_authorities.map((a) => derToPem(a)).join(''))
    this.workloadSocketPath = join(this.dir, 'steeple-agent.sock')
    const t0 = performance.now()
    this.agent = BenchProcess.start(
      'steeple-agent',
      process.execPath,
      [
        ...(options.nodeArgs ?? []),
        STEEPLE_AGENT_BIN,
        'run',
        '--trust-bundle', bundlePath,
        '--trust-domain', this.config.trustDomain,
        '--server-address', '127.0.0.1',
        '--server-port', String(this.agentApiPort),
        '--data-dir', join(this.dir, 'steeple-agent-data'),
        '--socket-path', this.workloadSocketPath,
        '--log-level', options.logLevel ?? this.config.logLevel,
      ],
      { logPath: join(this.dir, 'steeple-agent.log'), cwd: this.dir, env: { ...process.env, STEEPLE_JOIN_TOKEN: token } },
    )
    const waitFor = options.waitFor ?? 'Agent started'
    try {
      const readyAt = await this.agent.waitForLine((line, at) => (jsonLine(line)?.['msg'] === waitFor ? at : undefined), options.timeoutMs ?? 120_000)
      return { t0, ms: readyAt - t0 }
    } catch (err) {
      await this.agent.stop('SIGKILL')
      throw err
    }
  }

  /** Stops the agent, then the server, and closes the admin clients. */
  async stop(): Promise<void> {
    for (const c of this.#clients.splice(0)) c.close()
    await this.agent?.stop()
    await this.server.stop()
  }
}

function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`
}
