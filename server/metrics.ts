import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { errorMessage } from '../common/errors.js'
import type { Logger } from '../common/logger.js'
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE, type Counter } from '../common/metrics.js'
import type { ServerNodeAttestor } from '../plugins/node-attestor/types.js'
import type { CaManager } from './ca/manager.js'
import type { ServerCore } from './core.js'
import type { HealthChecker } from './health.js'

/** The server's metrics, and the hooks that count events. */
export interface ServerMetrics {
  readonly registry: MetricsRegistry
  /** Counts one signed SVID. */
  svidSigned(type: 'x509' | 'jwt'): void
  /** Counts one node attestation by the attestor's verdict. */
  nodeAttestation(result: 'success' | 'failure'): void
}

/**
 * Registers the server metrics: `steeple_svids_signed_total{type}`,
 * `steeple_node_attestations_total{result}`, and gauges read from the core at each scrape:
 * `steeple_entries`, `steeple_agents`, `steeple_ca_expiry_seconds`.
 */
export function createServerMetrics(core: ServerCore, log: Logger): ServerMetrics {
  const registry = new MetricsRegistry({ onError: (err) => log.warn('Metrics collection failed', { err: errorMessage(err) }) })
  const svids: Counter = registry.counter('steeple_svids_signed_total', 'SVIDs signed by this server process, by type.', ['type'])
  const attestations: Counter = registry.counter(
    'steeple_node_attestations_total',
    'Node attestations by the node attestor verdict (success or failure).',
    ['result'],
  )
  for (const type of ['x509', 'jwt']) svids.inc({ type }, 0)
  for (const result of ['success', 'failure']) attestations.inc({ result }, 0)
  const entries = registry.gauge('steeple_entries', 'Registration entries in the data store.')
  const agents = registry.gauge('steeple_agents', 'Attested agents in the data store.')
  const caExpiry = registry.gauge('steeple_ca_expiry_seconds', 'Seconds until the active X.509 CA expires.')
  registry.collect(async () => {
    const [entryCount, agentCount] = await Promise.all([core.store.entries.count(), core.store.nodes.count()])
    entries.set(entryCount)
    agents.set(agentCount)
  })
  registry.collect(() => {
    caExpiry.clear()
    caExpiry.set(Math.floor((core.ca.activeAuthority().notAfter.getTime() - core.clock().getTime()) / 1000))
  })
  return {
    registry,
    svidSigned: (type) => svids.inc({ type }),
    nodeAttestation: (result) => attestations.inc({ result }),
  }
}

/**
 * The core as the APIs should see it: the same parts, with the CA's signing methods and the node
 * attestors counted in `metrics`. The host adds metrics here so that neither the APIs nor the
 * plugins carry them.
 */
export function instrumentCore(core: ServerCore, metrics: ServerMetrics): ServerCore {
  const target = core.ca
  // CaManager keeps its state in #private fields, so every method must run with the real
  // instance as `this`; the proxy binds them and wraps the two signing methods.
  const ca = new Proxy(target, {
    get(obj, prop) {
      if (prop === 'signX509Svid') {
        return (request: Parameters<CaManager['signX509Svid']>[0]) => {
          const svid = obj.signX509Svid(request)
          metrics.svidSigned('x509')
          return svid
        }
      }
      if (prop === 'signJwtSvid') {
        return (request: Parameters<CaManager['signJwtSvid']>[0]) => {
          const jwt = obj.signJwtSvid(request)
          metrics.svidSigned('jwt')
          return jwt
        }
      }
      const value: unknown = Reflect.get(obj, prop, obj)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(obj) : value
    },
  })
  const nodeAttestors = new Map<string, ServerNodeAttestor>()
  for (const [name, attestor] of core.nodeAttestors) {
    nodeAttestors.set(name, {
      attest: async (...args: Parameters<ServerNodeAttestor['attest']>) => {
        try {
          const result = await attestor.attest(...args)
          metrics.nodeAttestation('success')
          return result
        } catch (err) {
          metrics.nodeAttestation('failure')
          throw err
        }
      },
    })
  }
  return { ...core, ca, issuer: core.issuer.withSigner(ca), nodeAttestors }
}

/** A running metrics endpoint. */
export interface MetricsServer {
  readonly port: number
  close(): Promise<void>
}

/**
 * Serves `/metrics` (Prometheus text), `/live` and `/ready` (200 or 503 with a short reason) on
 * `address:port` (127.0.0.1 unless told; port 0 picks one).
 * @throws when the port cannot be bound.
 */
export async function startMetricsServer(options: {
  readonly port: number
  readonly address?: string
  readonly metrics: ServerMetrics
  readonly health: HealthChecker
  readonly log: Logger
}): Promise<MetricsServer> {
  const { metrics, health, log } = options
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' })
    if (path === '/metrics') return send(res, 200, await metrics.registry.render(), { 'Content-Type': PROMETHEUS_CONTENT_TYPE })
    if (path === '/live') return send(res, 200, 'live\n')
    if (path === '/ready') {
      const report = await health.check()
      return report.ready ? send(res, 200, 'ready\n') : send(res, 503, `not ready: ${report.problem}\n`)
    }
    return send(res, 404, 'not found\n')
  }
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error('Metrics request failed', { err: errorMessage(err) })
      if (!res.headersSent) send(res, 500, 'internal error\n')
      else res.destroy()
    })
  })
  const address = options.address ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, address, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  log.info('Metrics listening', { address: `${address}:${port}` })
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function send(res: ServerResponse, code: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers })
  res.end(body)
}
