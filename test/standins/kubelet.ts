import { once } from 'node:events'
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { LoopbackTls } from './tls.js'

/**
 * A STAND-IN for a kubelet (none can run on our machines): a loopback server answering
 * `GET /pods` with a `v1 PodList` in the documented shape, either on a "secure port" (HTTPS with
 * a real certificate, bearer token required) or on a "read-only port" (plain HTTP, no auth).
 * Tests set the pods it lists, or make it reply with anything (`rawReply`).
 */
export class KubeletStandIn {
  readonly #server: HttpServer | HttpsServer
  /** Items of the PodList (v1 Pod objects as JSON). */
  pods: unknown[] = []
  /** When set, sent as the body of every /pods reply instead of a PodList. */
  rawReply: string | undefined
  /** How many /pods requests arrived. */
  requests = 0
  /** Pods become visible only after this many /pods requests (a pod the kubelet does not know yet). */
  hideUntilRequest = 0
  port = 0

  private constructor(server: HttpServer | HttpsServer, readonly token: string | undefined) {
    this.#server = server
  }

  /** Starts on 127.0.0.1: HTTPS with `tls` and a required bearer `token`, or plain HTTP without. */
  static async start(opts: { tls?: LoopbackTls; token?: string } = {}): Promise<KubeletStandIn> {
    let standIn: KubeletStandIn | undefined
    const handler = (req: IncomingMessage, res: ServerResponse): void => standIn!.#handle(req, res)
    const server = opts.tls !== undefined ? createHttpsServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, handler) : createHttpServer(handler)
    standIn = new KubeletStandIn(server, opts.token)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    standIn.port = (server.address() as AddressInfo).port
    return standIn
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections()
    this.#server.close()
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized')
      return
    }
    if (req.method !== 'GET' || req.url !== '/pods') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found')
      return
    }
    this.requests++
    if (this.rawReply !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(this.rawReply)
      return
    }
    const items = this.requests > this.hideUntilRequest ? this.pods : []
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items }))
  }
}

/** A v1 Pod as the kubelet lists it, with one running container per entry of `containers`. */
export function standInPod(p: {
  uid: string
  name: string
  namespace: string
  serviceAccount: string
  nodeName: string
  labels?: Record<string, string>
  owner?: { kind: string; name: string; uid: string }
  containers: { name: string; id: string; image: string; imageId: string }[]
  initContainers?: { name: string; id: string; image: string; imageId: string }[]
}): unknown {
  const status = (c: { name: string; id: string; image: string; imageId: string }) => ({
    name: c.name,
    state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
    ready: true,
    restartCount: 0,
    image: c.image,
    imageID: c.imageId,
    containerID: `containerd://${c.id}`,
  })
  return {
    metadata: {
      name: p.name,
      namespace: p.namespace,
      uid: p.uid,
      labels: p.labels ?? {},
      ...(p.owner !== undefined && { ownerReferences: [{ apiVersion: 'apps/v1', kind: p.owner.kind, name: p.owner.name, uid: p.owner.uid, controller: true }] }),
    },
    spec: {
      nodeName: p.nodeName,
      serviceAccountName: p.serviceAccount,
      containers: p.containers.map((c) => ({ name: c.name, image: c.image })),
    },
    status: {
      phase: 'Running',
      containerStatuses: p.containers.map(status),
      initContainerStatuses: (p.initContainers ?? []).map(status),
    },
  }
}
