import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { SignJWT, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JWK } from 'jose'
import type { LoopbackTls } from './tls.js'

/**
 * A STAND-IN for a Kubernetes API server (no kube-apiserver can run on our machines): a loopback
 * HTTPS server that speaks the documented shapes of the parts Steeple uses, with a real RS256
 * service-account signing key and real signed tokens:
 * - `POST /apis/authentication.k8s.io/v1/tokenreviews` (authentication.k8s.io/v1 TokenReview),
 * - `GET /api/v1/nodes/{name}`, `GET /api/v1/namespaces/{ns}/pods/{name}`,
 * - `GET /.well-known/openid-configuration` and `GET /openid/v1/jwks` (service account issuer
 *   discovery), served without authentication as clusters allow.
 */

/** A pod the stand-in knows, on a node it knows. */
export interface StandInPod {
  readonly namespace: string
  readonly name: string
  readonly uid: string
  readonly serviceAccount: string
  readonly nodeName: string
}

/** What to put in a projected service account token. */
export interface TokenRequest {
  readonly pod: StandInPod
  readonly audiences: readonly string[]
  /** Seconds from now; negative for an expired token. Default 600. */
  readonly expiresInSeconds?: number
  /** Leave the node claim out (clusters before Kubernetes 1.30). */
  readonly withoutNode?: boolean
  /** Sign with another key than the cluster's (a token from elsewhere). */
  readonly signWith?: CryptoKey
}

export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews'

/** The stand-in API server. Start with {@link KubeApiServerStandIn.start}. */
export class KubeApiServerStandIn {
  readonly #server: Server
  #publicJwk: JWK
  #privateKey: CryptoKey
  #publicKey: CryptoKey
  #kid: string
  /** Node name → uid. */
  readonly nodes = new Map<string, string>()
  /** `ns/name` → pod. */
  readonly pods = new Map<string, StandInPod>()
  /** Requests seen, `METHOD path`. */
  readonly requests: string[] = []
  /** Issuer URL (`https://127.0.0.1:<port>`), set once listening. */
  issuer = ''

  private constructor(server: Server, keys: { privateKey: CryptoKey; publicKey: CryptoKey; publicJwk: JWK; kid: string }, readonly clientToken: string) {
    this.#server = server
    this.#privateKey = keys.privateKey
    this.#publicKey = keys.publicKey
    this.#publicJwk = keys.publicJwk
    this.#kid = keys.kid
  }

  /** Starts on 127.0.0.1 with a fresh RS256 key; callers of the API must send `clientToken`. */
  static async start(tls: LoopbackTls): Promise<KubeApiServerStandIn> {
    const { privateKey, publicKey } = await generateKeyPair('RS256')
    const kid = randomUUID()
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }
    let standIn: KubeApiServerStandIn | undefined
    const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      void standIn!.#handle(req, res)
    })
    standIn = new KubeApiServerStandIn(server, { privateKey, publicKey, publicJwk, kid }, `admin-${randomUUID()}`)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    standIn.issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
    return standIn
  }

  /** Base URL of the API. */
  get url(): string {
    return this.issuer
  }

  /** Adds a node and a pod on it; returns the pod. */
  addPod(pod: Omit<StandInPod, 'uid'> & { uid?: string }, nodeUid: string = randomUUID()): StandInPod {
    const full = { ...pod, uid: pod.uid ?? randomUUID() }
    if (!this.nodes.has(full.nodeName)) this.nodes.set(full.nodeName, nodeUid)
    this.pods.set(`${full.namespace}/${full.name}`, full)
    return full
  }

  /** Replaces the signing key; the JWKS then lists only the new one (the old key is dropped). */
  async rotateKey(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('RS256')
    this.#kid = randomUUID()
    this.#privateKey = privateKey
    this.#publicKey = publicKey
    this.#publicJwk = { ...(await exportJWK(publicKey)), kid: this.#kid, alg: 'RS256', use: 'sig' }
  }

  /** A projected service account token for `req.pod`, signed RS256 like the cluster's. */
  async issueToken(req: TokenRequest): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    const { pod } = req
    const k8s: Record<string, unknown> = {
      namespace: pod.namespace,
      pod: { name: pod.name, uid: pod.uid },
      serviceaccount: { name: pod.serviceAccount, uid: `sa-${pod.namespace}-${pod.serviceAccount}` },
    }
    if (req.withoutNode !== true) k8s['node'] = { name: pod.nodeName, uid: this.nodes.get(pod.nodeName) }
    return new SignJWT({ 'kubernetes.io': k8s, jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256', kid: this.#kid })
      .setIssuer(this.issuer)
      .setSubject(`system:serviceaccount:${pod.namespace}:${pod.serviceAccount}`)
      .setAudience([...req.audiences])
      .setIssuedAt(now - 5)
      .setNotBefore(now - 5)
      .setExpirationTime(now + (req.expiresInSeconds ?? 600))
      .sign(req.signWith ?? this.#privateKey)
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections()
    this.#server.close()
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0]!
    this.requests.push(`${req.method} ${path}`)
    const send = (code: number, body: unknown): void => void res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    const status = (code: number, reason: string, message: string): void =>
      send(code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code })

    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      return send(200, {
        issuer: this.issuer,
        jwks_uri: `${this.issuer}/openid/v1/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      })
    }
    if (req.method === 'GET' && path === '/openid/v1/jwks') return send(200, { keys: [this.#publicJwk] })

    if (req.headers.authorization !== `Bearer ${this.clientToken}`) return status(401, 'Unauthorized', 'Unauthorized')

    if (req.method === 'POST' && path === TOKEN_REVIEW_PATH) {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      let review: { apiVersion?: unknown; kind?: unknown; spec?: { token?: unknown; audiences?: unknown } }
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        return status(400, 'BadRequest', 'invalid JSON')
      }
      if (review.kind !== 'TokenReview' || typeof review.spec?.token !== 'string') return status(400, 'BadRequest', 'not a TokenReview')
      const audiences = Array.isArray(review.spec.audiences) ? (review.spec.audiences as string[]) : []
      return send(201, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: review.spec, status: await this.#review(review.spec.token, audiences) })
    }
    const node = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path)
    if (req.method === 'GET' && node !== null) {
      const uid = this.nodes.get(node[1]!)
      if (uid === undefined) return status(404, 'NotFound', `nodes "${node[1]}" not found`)
      return send(200, { kind: 'Node', apiVersion: 'v1', metadata: { name: node[1], uid } })
    }
    const pod = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path)
    if (req.method === 'GET' && pod !== null) {
      const found = this.pods.get(`${pod[1]}/${pod[2]}`)
      if (found === undefined) return status(404, 'NotFound', `pods "${pod[2]}" not found`)
      return send(200, {
        kind: 'Pod',
        apiVersion: 'v1',
        metadata: { name: found.name, namespace: found.namespace, uid: found.uid },
        spec: { nodeName: found.nodeName, serviceAccountName: found.serviceAccount },
      })
    }
    return status(404, 'NotFound', 'the server could not find the requested resource')
  }

  /** The status of a TokenReview, as the API server's service account authenticator fills it. */
  async #review(token: string, audiences: readonly string[]): Promise<Record<string, unknown>> {
    try {
      if (decodeProtectedHeader(token).kid !== this.#kid) throw new Error('unknown key')
      const { payload } = await jwtVerify(token, this.#publicKey, {
        issuer: this.issuer,
        ...(audiences.length > 0 && { audience: [...audiences] }),
      })
      const k8s = payload['kubernetes.io'] as { namespace: string; pod?: { name: string; uid: string }; serviceaccount: { name: string; uid: string }; node?: { name: string; uid: string } }
      const pod = k8s.pod === undefined ? undefined : this.pods.get(`${k8s.namespace}/${k8s.pod.name}`)
      // Bound tokens die with their pod.
      if (k8s.pod !== undefined && pod?.uid !== k8s.pod.uid) throw new Error('pod no longer exists')
      const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${String(payload.jti)}`] }
      if (k8s.pod !== undefined) {
        extra['authentication.kubernetes.io/pod-name'] = [k8s.pod.name]
        extra['authentication.kubernetes.io/pod-uid'] = [k8s.pod.uid]
      }
      if (k8s.node !== undefined) {
        extra['authentication.kubernetes.io/node-name'] = [k8s.node.name]
        extra['authentication.kubernetes.io/node-uid'] = [k8s.node.uid]
      }
      const tokenAudiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
      return {
        authenticated: true,
        user: {
          username: `system:serviceaccount:${k8s.namespace}:${k8s.serviceaccount.name}`,
          uid: k8s.serviceaccount.uid,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${k8s.namespace}`, 'system:authenticated'],
          extra,
        },
        audiences: audiences.length > 0 ? audiences.filter((a) => tokenAudiences.includes(a)) : tokenAudiences,
      }
    } catch (err) {
      return { user: {}, error: `[invalid bearer token, ${(err as Error).message}]` }
    }
  }
}
