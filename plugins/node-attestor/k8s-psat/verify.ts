import { request } from 'node:https'
import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose'
import { PermissionDeniedError, UnavailableError } from '../../../common/errors.js'
import { requestJson } from '../../../common/http-json.js'

/** Who a projected service account token names, once the cluster vouched for it. */
export interface ReviewedToken {
  readonly namespace: string
  readonly serviceAccount: string
  readonly podName: string | undefined
  readonly podUid: string | undefined
  readonly nodeName: string | undefined
  readonly nodeUid: string | undefined
  /** The token's `exp`. */
  readonly expiresAt: Date
}

/** Checks a token for one cluster. @throws PermissionDeniedError for a token the cluster does not vouch for. */
export interface TokenVerifier {
  verify(token: string, audiences: readonly string[], now: Date): Promise<ReviewedToken>
}

/** How to reach a cluster endpoint over HTTPS. */
export interface ClusterEndpoint {
  readonly url: string
  /** PEM CA bundle to verify the server with; undefined = the system's roots. */
  readonly caPem: string | undefined
  /** Bearer credential for the API; undefined = anonymous. */
  readonly bearerToken: string | undefined
}

const REQUEST_TIMEOUT_MS = 10_000
const MAX_REPLY_BYTES = 1 << 20

/** One HTTPS request returning status and parsed JSON (undefined when the body is not JSON). */
export function httpsJson(endpoint: ClusterEndpoint, path: string, body?: unknown): Promise<{ statusCode: number; json: unknown }> {
  const url = new URL(path, endpoint.url)
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return requestJson({
    send: request,
    url,
    options: {
      method: payload === undefined ? 'GET' : 'POST',
      ...(endpoint.caPem !== undefined && { ca: endpoint.caPem }),
      headers: {
        accept: 'application/json',
        ...(payload !== undefined && { 'content-type': 'application/json' }),
        ...(endpoint.bearerToken !== undefined && { authorization: `Bearer ${endpoint.bearerToken}` }),
      },
    },
    timeoutMs: REQUEST_TIMEOUT_MS,
    maxReplyBytes: MAX_REPLY_BYTES,
    ...(payload !== undefined && { body: payload }),
  })
}

function unreachable(what: string, url: string, err: unknown): UnavailableError {
  const code = (err as { code?: unknown } | null)?.code
  return new UnavailableError(`${what} at ${url} is unreachable${typeof code === 'string' ? ` (${code})` : ''}`, { cause: err })
}

const first = (extra: Record<string, unknown> | undefined, key: string): string | undefined => {
  const values = extra?.[`authentication.kubernetes.io/${key}`]
  return Array.isArray(values) && typeof values[0] === 'string' && values[0] !== '' ? values[0] : undefined
}

const SA_USERNAME = /^system:serviceaccount:([^:]+):([^:]+)$/

/**
 * Checks tokens with the cluster's TokenReview API (authentication.k8s.io/v1), then fills in the
 * node from the review's `extra` (Kubernetes 1.30+) or from the pod and node objects.
 */
export class TokenReviewVerifier implements TokenVerifier {
  readonly #api: ClusterEndpoint

  constructor(api: ClusterEndpoint) {
    this.#api = api
  }

  /**
   * @throws PermissionDeniedError when the API server does not authenticate the token, for other
   *   audiences or for a user that is not a service account; UnavailableError when the API server
   *   cannot be reached or answers in a shape it should not.
   */
  async verify(token: string, audiences: readonly string[]): Promise<ReviewedToken> {
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [...audiences] } }
    let reply: { statusCode: number; json: unknown }
    try {
      reply = await httpsJson(this.#api, '/apis/authentication.k8s.io/v1/tokenreviews', review)
    } catch (err) {
      throw unreachable('API server', this.#api.url, err)
    }
    if (reply.statusCode !== 200 && reply.statusCode !== 201) {
      throw new UnavailableError(`API server at ${this.#api.url} refused the token review (HTTP ${reply.statusCode})`)
    }
    const status = (reply.json as { status?: unknown } | undefined)?.status as
      | { authenticated?: unknown; user?: { username?: unknown; extra?: Record<string, unknown> }; audiences?: unknown }
      | undefined
    if (status === undefined || typeof status !== 'object') throw new UnavailableError(`API server at ${this.#api.url} sent a malformed token review`)
    if (status.authenticated !== true) throw new PermissionDeniedError('token was not authenticated by the cluster')
    const granted = Array.isArray(status.audiences) ? status.audiences : []
    if (audiences.length > 0 && !audiences.some((a) => granted.includes(a))) throw new PermissionDeniedError('token is not for an accepted audience')
    const user = SA_USERNAME.exec(typeof status.user?.username === 'string' ? status.user.username : '')
    if (user === null) throw new PermissionDeniedError('token does not belong to a service account')
    const extra = status.user?.extra
    let podName = first(extra, 'pod-name')
    let nodeName = first(extra, 'node-name')
    let nodeUid = first(extra, 'node-uid')
    if (podName !== undefined && nodeName === undefined) nodeName = await this.#podNode(user[1]!, podName)
    if (nodeName !== undefined && nodeUid === undefined) nodeUid = await this.#nodeUid(nodeName)
    // The API server vouched for the token, so its claims can be read without checking the signature again.
    const exp = decodeJwt(token).exp
    if (typeof exp !== 'number') throw new PermissionDeniedError('token has no expiry')
    return { namespace: user[1]!, serviceAccount: user[2]!, podName, podUid: first(extra, 'pod-uid'), nodeName, nodeUid, expiresAt: new Date(exp * 1000) }
  }

  async #get(path: string, what: string): Promise<Record<string, unknown>> {
    let reply: { statusCode: number; json: unknown }
    try {
      reply = await httpsJson(this.#api, path)
    } catch (err) {
      throw unreachable('API server', this.#api.url, err)
    }
    if (reply.statusCode === 404) throw new PermissionDeniedError(`${what} of the token does not exist`)
    if (reply.statusCode !== 200 || reply.json === null || typeof reply.json !== 'object') {
      throw new UnavailableError(`API server at ${this.#api.url} did not return the ${what} (HTTP ${reply.statusCode})`)
    }
    return reply.json as Record<string, unknown>
  }

  async #podNode(namespace: string, name: string): Promise<string | undefined> {
    const pod = await this.#get(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`, 'pod')
    const nodeName = (pod['spec'] as { nodeName?: unknown } | undefined)?.nodeName
    return typeof nodeName === 'string' && nodeName !== '' ? nodeName : undefined
  }

  async #nodeUid(name: string): Promise<string | undefined> {
    const node = await this.#get(`/api/v1/nodes/${encodeURIComponent(name)}`, 'node')
    const uid = (node['metadata'] as { uid?: unknown } | undefined)?.uid
    return typeof uid === 'string' && uid !== '' ? uid : undefined
  }
}

/** Fetch the issuer's keys again on an unknown key, but not more often than this. */
const JWKS_REFRESH_MIN_MS = 30_000
/** Fetch them again after this long anyway, so a key the cluster dropped stops being trusted. */
const JWKS_MAX_AGE_MS = 300_000

/**
 * Checks tokens offline against the cluster's service account issuer: OIDC discovery at
 * `<issuer>/.well-known/openid-configuration` gives `jwks_uri`; signature, issuer, audience and
 * expiry are checked here. The node comes from the token's `kubernetes.io.node` claim
 * (Kubernetes 1.30+).
 */
export class JwksVerifier implements TokenVerifier {
  readonly #issuer: ClusterEndpoint
  #keys: { set: ReturnType<typeof createLocalJWKSet>; fetchedAtMs: number } | undefined

  constructor(issuer: ClusterEndpoint) {
    this.#issuer = issuer
  }

  /**
   * @throws PermissionDeniedError for a bad signature, another issuer or audience, an expired
   *   token or one without pod and node claims; UnavailableError when discovery fails.
   */
  async verify(token: string, audiences: readonly string[], now: Date): Promise<ReviewedToken> {
    let payload: Record<string, unknown>
    try {
      payload = await this.#verifyOnce(token, audiences, now, false)
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw this.#denied(err)
      // The cluster may have rotated its signing key since the keys were fetched.
      try {
        payload = await this.#verifyOnce(token, audiences, now, true)
      } catch (again) {
        throw this.#denied(again)
      }
    }
    const k8s = payload['kubernetes.io'] as
      | { namespace?: unknown; serviceaccount?: { name?: unknown }; pod?: { name?: unknown; uid?: unknown }; node?: { name?: unknown; uid?: unknown } }
      | undefined
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
    const namespace = str(k8s?.namespace)
    const serviceAccount = str(k8s?.serviceaccount?.name)
    if (namespace === undefined || serviceAccount === undefined) throw new PermissionDeniedError('token is not a service account token')
    return {
      namespace,
      serviceAccount,
      podName: str(k8s?.pod?.name),
      podUid: str(k8s?.pod?.uid),
      nodeName: str(k8s?.node?.name),
      nodeUid: str(k8s?.node?.uid),
      expiresAt: new Date((payload['exp'] as number) * 1000),
    }
  }

  #denied(err: unknown): Error {
    if (err instanceof UnavailableError) return err
    if (err instanceof joseErrors.JWTExpired) return new PermissionDeniedError('token has expired', { cause: err })
    if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') {
      return new PermissionDeniedError('token is not for an accepted audience', { cause: err })
    }
    if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'iss') {
      return new PermissionDeniedError('token was not issued by the cluster', { cause: err })
    }
    return new PermissionDeniedError('token signature or claims are not valid for the cluster', { cause: err })
  }

  async #verifyOnce(token: string, audiences: readonly string[], now: Date, refresh: boolean): Promise<Record<string, unknown>> {
    const keys = await this.#keySet(refresh, now)
    const { payload } = await jwtVerify(token, keys, {
      issuer: this.#issuer.url,
      ...(audiences.length > 0 && { audience: [...audiences] }),
      currentDate: now,
      requiredClaims: ['exp'],
      algorithms: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256'],
    })
    return payload as Record<string, unknown>
  }

  async #keySet(refresh: boolean, now: Date): Promise<ReturnType<typeof createLocalJWKSet>> {
    if (this.#keys !== undefined) {
      const ageMs = now.getTime() - this.#keys.fetchedAtMs
      if (ageMs >= 0 && ageMs < JWKS_MAX_AGE_MS && (!refresh || ageMs < JWKS_REFRESH_MIN_MS)) return this.#keys.set
    }
    const discovery = await this.#fetch('/.well-known/openid-configuration', 'OIDC discovery document')
    const jwksUri = (discovery as { jwks_uri?: unknown }).jwks_uri
    if (typeof jwksUri !== 'string') throw new UnavailableError(`issuer ${this.#issuer.url} has no jwks_uri in its discovery document`)
    const jwks = await this.#fetch(jwksUri, 'JWKS')
    let set: ReturnType<typeof createLocalJWKSet>
    try {
      set = createLocalJWKSet(jwks as JSONWebKeySet)
    } catch (err) {
      throw new UnavailableError(`issuer ${this.#issuer.url} published a malformed JWKS`, { cause: err })
    }
    this.#keys = { set, fetchedAtMs: now.getTime() }
    return set
  }

  async #fetch(path: string, what: string): Promise<unknown> {
    let reply: { statusCode: number; json: unknown }
    try {
      reply = await httpsJson({ ...this.#issuer, url: this.#issuer.url.endsWith('/') ? this.#issuer.url : `${this.#issuer.url}/` }, path.startsWith('/') ? path.slice(1) : path)
    } catch (err) {
      throw unreachable('issuer', this.#issuer.url, err)
    }
    if (reply.statusCode !== 200 || reply.json === undefined) throw new UnavailableError(`issuer ${this.#issuer.url} did not serve its ${what} (HTTP ${reply.statusCode})`)
    return reply.json
  }
}
