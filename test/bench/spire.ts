import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { PROTO_LOADER_OPTIONS } from '../../proto/index.js'
import { ensureSpire, SPIRE_VERSION } from '../tools/spire.js'
import { BenchProcess } from './process.js'
import { freePort, unary, type BenchEntry, type EquivalentConfig } from './setup.js'

/**
 * SPIRE server and agent for the benchmarks, configured like Steeple's side (see
 * {@link EquivalentConfig}): SQLite data store, in-memory server keys, join token, unix workload
 * attestor, the same key type and TTLs. Talks to the server's admin socket with grpc-js and the
 * subset of SPIRE's protos in spire-proto/.
 */

const execFileAsync = promisify(execFile)
const PROTO_DIR = fileURLToPath(new URL('spire-proto/', import.meta.url))

type ServiceCtor = grpc.ServiceClientConstructor

let services: { svid: ServiceCtor; entry: ServiceCtor; agent: ServiceCtor } | undefined

/** SPIRE's SVID, Entry and Agent services (loaded once). */
export function spireServices(): { svid: ServiceCtor; entry: ServiceCtor; agent: ServiceCtor } {
  if (services === undefined) {
    const definition = protoLoader.loadSync(['svid.proto', 'entry.proto', 'agent.proto'], { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_DIR] })
    const root = grpc.loadPackageDefinition(definition)
    const server = ((root['spire'] as grpc.GrpcObject)['api'] as grpc.GrpcObject)['server'] as grpc.GrpcObject
    services = {
      svid: ((server['svid'] as grpc.GrpcObject)['v1'] as grpc.GrpcObject)['SVID'] as ServiceCtor,
      entry: ((server['entry'] as grpc.GrpcObject)['v1'] as grpc.GrpcObject)['Entry'] as ServiceCtor,
      agent: ((server['agent'] as grpc.GrpcObject)['v1'] as grpc.GrpcObject)['Agent'] as ServiceCtor,
    }
  }
  return services
}

function hclDuration(seconds: number): string {
  return `"${seconds}s"`
}

/** A running spire-server (and, once started, spire-agent) in `dir`. */
export class SpireDeployment {
  readonly dir: string
  readonly config: EquivalentConfig
  readonly server: BenchProcess
  readonly socketPath: string
  readonly serverPort: number
  readonly #bin: { server: string; agent: string }
  agent: BenchProcess | undefined
  /** The agent's Workload API socket. */
  workloadSocketPath = ''
  /** The attested agent's SPIFFE ID. */
  agentId = ''
  readonly #clients: grpc.Client[] = []

  private constructor(dir: string, config: EquivalentConfig, bin: { server: string; agent: string }, server: BenchProcess, socketPath: string, serverPort: number) {
    this.dir = dir
    this.config = config
    this.#bin = bin
    this.server = server
    this.socketPath = socketPath
    this.serverPort = serverPort
  }

  /**
   * Builds SPIRE if needed (outside any timing), writes server.conf and starts spire-server;
   * resolves when its admin API answers.
   */
  static async startServer(dir: string, config: EquivalentConfig, options: { signingRateLimit?: boolean } = {}): Promise<SpireDeployment> {
    const built = await ensureSpire(['spire-server', 'spire-agent'])
    const bin = { server: built['spire-server']!, agent: built['spire-agent']! }
    const socketPath = join(dir, 'spire-server.sock')
    const port = await freePort()
    const conf = `server {
  bind_address = "127.0.0.1"
  bind_port = "${port}"
  socket_path = "${socketPath}"
  trust_domain = "${config.trustDomain}"
  data_dir = "${join(dir, 'spire-server-data')}"
  log_level = "${config.logLevel.toUpperCase()}"
  ca_key_type = "${config.keyType}"
  ca_ttl = ${hclDuration(config.caTtlSeconds)}
  default_x509_svid_ttl = ${hclDuration(config.x509SvidTtlSeconds)}
  ratelimit {
    signing = ${options.signingRateLimit ?? true}
  }
}

plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
      connection_string = "${join(dir, 'spire-datastore.sqlite3')}"
    }
  }
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "memory" {
    plugin_data {}
  }
}
`
    const confPath = join(dir, 'spire-server.conf')
    await writeFile(confPath, conf)
    const server = BenchProcess.start('spire-server', bin.server, ['run', '-config', confPath], { logPath: join(dir, 'spire-server.log'), cwd: dir })
    const deployment = new SpireDeployment(dir, config, bin, server, socketPath, port)
    try {
      await deployment.#waitForServer(60_000)
    } catch (err) {
      await deployment.stop()
      throw err
    }
    return deployment
  }

  /** A client of one SPIRE server service on the admin socket; closed by {@link stop}. */
  client(service: 'svid' | 'entry'): grpc.Client {
    const Ctor = spireServices()[service]
    const client = new Ctor(`unix:${this.socketPath}`, grpc.credentials.createInsecure())
    this.#clients.push(client)
    return client
  }

  async #waitForServer(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    const client = this.client('entry')
    for (;;) {
      if (this.server.exited) throw new Error(`spire-server exited during start-up:\n${this.server.output.slice(-3000)}`)
      try {
        await unary(client, 'CountEntries', {}, 2_000)
        return
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`spire-server not ready within ${timeoutMs} ms: ${(err as Error).message}\n${this.server.output.slice(-3000)}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }

  /** Runs `spire-server <args…> -socketPath <admin socket>` and returns its stdout. */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync(this.#bin.server, [...args, '-socketPath', this.socketPath], { maxBuffer: 16 * 1024 * 1024 })
    return stdout
  }

  /**
   * Makes a join token, writes the server bundle as the agent's trust bundle and starts
   * spire-agent; resolves when its Workload API is being served.
   */
  async startAgent(): Promise<void> {
    const tokenOut = await this.cli('token', 'generate', '-ttl', '600')
    const token = /Token:\s*(\S+)/.exec(tokenOut)?.[1]
    if (token === undefined) throw new Error(`spire-server token generate printed no token: ${tokenOut}`)
    this.agentId = `spiffe://${this.config.trustDomain}/spire/agent/join_token/${token}`
    const bundlePath = join(this.dir, 'spire-bundle.pem')
    await writeFile(bundlePath, await this.cli('bundle', 'show'))
    this.workloadSocketPath = join(this.dir, 'spire-agent.sock')
    const conf = `agent {
  data_dir = "${join(this.dir, 'spire-agent-data')}"
  log_level = "${this.config.logLevel.toUpperCase()}"
  server_address = "127.0.0.1"
  server_port = "${this.serverPort}"
  socket_path = "${this.workloadSocketPath}"
  trust_bundle_path = "${bundlePath}"
  trust_domain = "${this.config.trustDomain}"
  join_token = "${token}"
  workload_x509_svid_key_type = "${this.config.keyType}"
}

plugins {
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "memory" {
    plugin_data {}
  }
  WorkloadAttestor "unix" {
    plugin_data {}
  }
}
`
    const confPath = join(this.dir, 'spire-agent.conf')
    await writeFile(confPath, conf)
    this.agent = BenchProcess.start('spire-agent', this.#bin.agent, ['run', '-config', confPath], { logPath: join(this.dir, 'spire-agent.log'), cwd: this.dir })
    try {
      await this.agent.waitForLine((line) => (line.includes('Starting agent APIs') ? true : undefined), 60_000)
    } catch (err) {
      await this.agent.stop('SIGKILL')
      throw err
    }
  }

  /**
   * Creates entries (parent: the agent, or `parentId`) in batches of 50, SPIRE's batch limit
   * is larger but this keeps each request small. Returns the entry IDs.
   * @throws when any entry is refused.
   */
  async createEntries(entries: readonly BenchEntry[]): Promise<string[]> {
    const client = this.client('entry')
    const ids: string[] = []
    for (let i = 0; i < entries.length; i += 50) {
      const batch = entries.slice(i, i + 50).map((e) => ({
        spiffe_id: splitId(e.spiffeId),
        parent_id: splitId(e.parentId ?? this.agentId),
        selectors: e.selectors.map((s) => {
          const at = s.indexOf(':')
          return { type: s.slice(0, at), value: s.slice(at + 1) }
        }),
        x509_svid_ttl: e.x509SvidTtlSeconds ?? 0,
      }))
      const response = await unary<{ results: { status: { code: number; message: string }; entry: { id: string } | null }[] }>(client, 'BatchCreateEntry', { entries: batch }, 60_000)
      for (const r of response.results) {
        if (r.status.code !== 0) throw new Error(`spire-server refused an entry: ${r.status.message}`)
        ids.push(r.entry!.id)
      }
    }
    return ids
  }

  /** Stops the agent, then the server, and closes the admin clients. */
  async stop(): Promise<void> {
    for (const c of this.#clients.splice(0)) c.close()
    await this.agent?.stop()
    await this.server.stop()
  }
}

/** `spiffe://td/path` → SPIRE's `{ trust_domain, path }`. */
export function splitId(id: string): { trust_domain: string; path: string } {
  const rest = id.slice('spiffe://'.length)
  const slash = rest.indexOf('/')
  return slash < 0 ? { trust_domain: rest, path: '' } : { trust_domain: rest.slice(0, slash), path: rest.slice(slash) }
}

export { SPIRE_VERSION }
