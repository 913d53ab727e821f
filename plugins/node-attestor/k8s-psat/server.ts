import { readFile } from 'node:fs/promises'
import { ConfigError, PermissionDeniedError } from '../../../common/errors.js'
import * as s from '../../../common/schema.js'
import { selectorFromParts, spiffeIdFromSegments, type Selector } from '../../../spiffe/index.js'
import type { AttestContext, AttestResult, Challenger, ServerNodeAttestor } from '../types.js'
import { K8S_PSAT_PLUGIN_NAME, parsePayload } from './protocol.js'
import { JwksVerifier, TokenReviewVerifier, type TokenVerifier } from './verify.js'

const httpsUrl = (value: string): string | undefined => {
  try {
    return new URL(value).protocol === 'https:' ? undefined : 'must be an https:// URL'
  } catch {
    return 'must be an https:// URL'
  }
}

const clusterSchema = s.object({
  /** `namespace:name` of the service accounts whose tokens may attest. */
  service_account_allow_list: s.array(
    s.string({ pattern: /^[^:\s]+:[^:\s]+$/, patternRule: 'must be namespace:service-account' }),
    { minItems: 1 },
  ),
  /** Audiences the token must carry one of; [] = the API server's own (TokenReview only). */
  audience: s.array(s.string({ nonEmpty: true }), { default: ['spire-server'] }),
  /** Kubernetes API server (TokenReview), e.g. https://10.0.0.1:6443. */
  api_server_url: s.optional(s.string({ check: httpsUrl })),
  /** Service account issuer (OIDC discovery + JWKS), checked offline. */
  issuer_url: s.optional(s.string({ check: httpsUrl })),
  /** PEM CA bundle for the API server or issuer; unset = the system's roots. */
  ca_path: s.optional(s.string({ nonEmpty: true })),
  /** File holding a bearer token for the API server (needs tokenreviews create, pods and nodes get). */
  token_path: s.optional(s.string({ nonEmpty: true })),
})

export type K8sPsatClusterConfig = s.Infer<typeof clusterSchema>

const clustersSchema = s.record(clusterSchema, (name) => (/^[A-Za-z0-9._-]+$/.test(name) ? undefined : 'cluster names are letters, digits, ".", "_" and "-"'))

/** Server-side config of `k8s_psat`: `clusters`, each checked by TokenReview or by its issuer's JWKS. */
export const k8sPsatServerConfigSchema: s.Schema<{ readonly clusters: Readonly<Record<string, K8sPsatClusterConfig>> }> = {
  describe: 'section',
  parse(value, path) {
    const config = s.object({ clusters: clustersSchema }).parse(value, path)
    for (const [name, cluster] of Object.entries(config.clusters)) {
      const at = `${path}.clusters.${name}`
      if ((cluster.api_server_url === undefined) === (cluster.issuer_url === undefined)) {
        throw new ConfigError(`${at} must set exactly one of api_server_url (TokenReview) and issuer_url (offline JWKS)`)
      }
      if (cluster.issuer_url !== undefined && cluster.audience.length === 0) {
        throw new ConfigError(`${at}.audience must not be empty with issuer_url (there is no API server audience to fall back on)`)
      }
      if (cluster.issuer_url !== undefined && cluster.token_path !== undefined) throw new ConfigError(`${at}.token_path is only used with api_server_url`)
    }
    return config
  },
}

export type K8sPsatServerConfig = s.Infer<typeof k8sPsatServerConfigSchema>

/** One configured cluster, ready to check tokens. */
export interface K8sPsatCluster {
  readonly allowed: ReadonlySet<string>
  readonly audiences: readonly string[]
  readonly verifier: TokenVerifier
}

/** Builds the clusters of a config, reading CA and token files. @throws ConfigError naming the key of an unreadable file. */
export async function loadClusters(config: K8sPsatServerConfig, path = 'plugins.NodeAttestor.k8s_psat'): Promise<Map<string, K8sPsatCluster>> {
  const read = async (file: string | undefined, key: string): Promise<string | undefined> => {
    if (file === undefined) return undefined
    try {
      return await readFile(file, 'utf8')
    } catch (err) {
      throw new ConfigError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
  }
  const clusters = new Map<string, K8sPsatCluster>()
  for (const [name, c] of Object.entries(config.clusters)) {
    const at = `${path}.clusters.${name}`
    const caPem = await read(c.ca_path, `${at}.ca_path`)
    const bearerToken = (await read(c.token_path, `${at}.token_path`))?.trim()
    const verifier =
      c.api_server_url !== undefined
        ? new TokenReviewVerifier({ url: c.api_server_url, caPem, bearerToken })
        : new JwksVerifier({ url: c.issuer_url!, caPem, bearerToken: undefined })
    clusters.set(name, { allowed: new Set(c.service_account_allow_list), audiences: c.audience, verifier })
  }
  return clusters
}

/**
 * Server half of `k8s_psat`: checks the agent's projected service account token with its
 * cluster, requires an allowed service account and a node, and names the agent
 * `spiffe://<td>/steeple/agent/k8s_psat/<cluster>/<node-uid>`. The token is a bearer credential:
 * anyone holding it can attest as that node until it expires (as in SPIRE), so the node stays
 * the same and only short-lived, audience-bound tokens should be allowed.
 */
export class K8sPsatServerAttestor implements ServerNodeAttestor {
  readonly #clusters: ReadonlyMap<string, K8sPsatCluster>

  constructor(clusters: ReadonlyMap<string, K8sPsatCluster>) {
    this.#clusters = clusters
  }

  /**
   * @throws InvalidArgumentError for a malformed payload; PermissionDeniedError for an unknown
   *   cluster, a token the cluster does not vouch for (bad signature, other audience, expired), a
   *   service account not in the allow list or a token without a node; UnavailableError when the
   *   cluster cannot be asked.
   */
  async attest(payload: Uint8Array, _challenge: Challenger, ctx: AttestContext): Promise<AttestResult> {
    const { cluster: name, token } = parsePayload(payload)
    const cluster = this.#clusters.get(name)
    if (cluster === undefined) throw new PermissionDeniedError(`cluster ${JSON.stringify(name)} is not configured`)
    const reviewed = await cluster.verifier.verify(token, cluster.audiences, ctx.now)
    if (reviewed.expiresAt.getTime() <= ctx.now.getTime()) throw new PermissionDeniedError('token has expired')
    const account = `${reviewed.namespace}:${reviewed.serviceAccount}`
    if (!cluster.allowed.has(account)) throw new PermissionDeniedError(`service account ${account} is not in the allow list of cluster ${name}`)
    if (reviewed.nodeUid === undefined || reviewed.nodeName === undefined) {
      throw new PermissionDeniedError('token names no node (needs a pod-bound token; Kubernetes 1.30+ or an API server that knows the pod)')
    }
    const selectors: Selector[] = [selectorFromParts(K8S_PSAT_PLUGIN_NAME, `cluster:${name}`)]
    const add = (key: string, value: string | undefined) => {
      if (value !== undefined) selectors.push(selectorFromParts(K8S_PSAT_PLUGIN_NAME, `${key}:${value}`))
    }
    add('agent_ns', reviewed.namespace)
    add('agent_sa', reviewed.serviceAccount)
    add('agent_pod_name', reviewed.podName)
    add('agent_pod_uid', reviewed.podUid)
    add('agent_node_name', reviewed.nodeName)
    add('agent_node_uid', reviewed.nodeUid)
    return {
      agentId: spiffeIdFromSegments(ctx.trustDomain, 'steeple', 'agent', K8S_PSAT_PLUGIN_NAME, name, reviewed.nodeUid),
      selectors,
      canReattest: true,
    }
  }
}
