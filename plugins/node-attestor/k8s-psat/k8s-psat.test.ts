import { status } from '@grpc/grpc-js'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, InvalidArgumentError, PermissionDeniedError, SteepleError, UnavailableError } from '../../../common/errors.js'
import { parseTrustDomain } from '../../../spiffe/index.js'
import { attestWith, runNodeAttestorSuite, type NodeAttestorFixture } from '../../../test/conformance/node-attestor-suite.js'
import { KubeApiServerStandIn, type StandInPod } from '../../../test/standins/kube-apiserver.js'
import { makeLoopbackTls, type LoopbackTls } from '../../../test/standins/tls.js'
import type { AgentNodeAttestor } from '../types.js'
import { K8sPsatAgentPlugin, K8sPsatServerAttestor, k8sPsatAgentAttestor, k8sPsatServerConfigSchema, loadClusters, type K8sPsatServerConfig } from './index.js'

/**
 * k8s_psat against a STAND-IN Kubernetes API server (test/standins/kube-apiserver.ts): a loopback
 * HTTPS server with a real RS256 key that serves TokenReview, pods, nodes and the issuer's OIDC
 * discovery and JWKS in their documented shapes. No real API server can run on our machines.
 */

const td = parseTrustDomain('example.org')
const CLUSTER = 'prod-1'
const PATH = 'plugins.NodeAttestor.k8s_psat'

let tls: LoopbackTls
let api: KubeApiServerStandIn
let dir: string
let agentPod: StandInPod
let otherPod: StandInPod
let nodeUid: string

beforeAll(async () => {
  tls = await makeLoopbackTls()
  api = await KubeApiServerStandIn.start(tls)
  dir = await mkdtemp(join(tmpdir(), 'steeple-psat-'))
  await writeFile(join(dir, 'api-token'), `${api.clientToken}\n`)
  nodeUid = 'b2e4b0a6-1f0c-4d47-9c55-7f3c0b0e9a11'
  agentPod = api.addPod({ namespace: 'spire', name: 'spire-agent-x7k2p', serviceAccount: 'spire-agent', nodeName: 'node-a' }, nodeUid)
  otherPod = api.addPod({ namespace: 'default', name: 'web-0', serviceAccount: 'web', nodeName: 'node-a' })
}, 30_000)

afterAll(async () => {
  await api?.stop()
  await tls?.cleanup()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

type Mode = 'tokenreview' | 'jwks'

function serverConfig(mode: Mode, extra: Record<string, unknown> = {}): K8sPsatServerConfig {
  const cluster =
    mode === 'tokenreview'
      ? { service_account_allow_list: ['spire:spire-agent'], api_server_url: api.url, ca_path: tls.caPath, token_path: join(dir, 'api-token'), ...extra }
      : { service_account_allow_list: ['spire:spire-agent'], issuer_url: api.issuer, ca_path: tls.caPath, ...extra }
  return k8sPsatServerConfigSchema.parse({ clusters: { [CLUSTER]: cluster } }, PATH)
}

async function server(mode: Mode, extra: Record<string, unknown> = {}): Promise<K8sPsatServerAttestor> {
  return new K8sPsatServerAttestor(await loadClusters(serverConfig(mode, extra)))
}

/** An agent whose token file holds `token`, for cluster `cluster`. */
function agentWith(token: string, cluster = CLUSTER): Promise<AgentNodeAttestor> {
  return new K8sPsatAgentPlugin({ cluster, token_path: '/token' }, async () => token).begin()
}

const ctxNow = () => ({ trustDomain: td, now: new Date() })

for (const mode of ['tokenreview', 'jwks'] as const) {
  runNodeAttestorSuite({
    name: 'k8s_psat',
    variant: `${mode}, stand-in API server`,
    oneTime: false,
    challengeResponse: false,
    bearer: true,
    make: async (): Promise<NodeAttestorFixture> => {
      const token = await api.issueToken({ pod: agentPod, audiences: ['spire-server'], expiresInSeconds: 600 })
      return {
        server: await server(mode),
        begin: () => agentWith(token),
        ctx: ctxNow(),
        afterExpiry: { trustDomain: td, now: new Date(Date.now() + 601_000) },
        refused: [
          { name: 'expired token', begin: async () => agentWith(await api.issueToken({ pod: agentPod, audiences: ['spire-server'], expiresInSeconds: -60 })), status: status.PERMISSION_DENIED },
          { name: 'wrong audience', begin: async () => agentWith(await api.issueToken({ pod: agentPod, audiences: ['other'] })), status: status.PERMISSION_DENIED },
          { name: 'service account not allowed', begin: async () => agentWith(await api.issueToken({ pod: otherPod, audiences: ['spire-server'] })), status: status.PERMISSION_DENIED },
          { name: 'unknown cluster', begin: () => agentWith(token, 'elsewhere'), status: status.PERMISSION_DENIED },
          {
            name: 'signed by another key',
            begin: async () => agentWith(await api.issueToken({ pod: agentPod, audiences: ['spire-server'], signWith: (await generateKeyPair('RS256')).privateKey })),
            status: status.PERMISSION_DENIED,
          },
          { name: 'not a JWT', begin: () => agentWith('not-a-token'), status: status.INVALID_ARGUMENT },
        ],
      }
    },
  })
}

describe('k8s_psat server against the stand-in API server', () => {
  it.each(['tokenreview', 'jwks'] as const)('%s: agent ID spiffe://<td>/steeple/agent/k8s_psat/<cluster>/<node-uid> and SPIRE\'s selectors', async (mode) => {
    const token = await api.issueToken({ pod: agentPod, audiences: ['spire-server'] })
    const result = await attestWith(await server(mode), await agentWith(token), ctxNow())
    expect(result.agentId.toString()).toBe(`spiffe://example.org/steeple/agent/k8s_psat/${CLUSTER}/${nodeUid}`)
    expect(result.selectors.map(String)).toEqual([
      `k8s_psat:cluster:${CLUSTER}`,
      'k8s_psat:agent_ns:spire',
      'k8s_psat:agent_sa:spire-agent',
      `k8s_psat:agent_pod_name:${agentPod.name}`,
      `k8s_psat:agent_pod_uid:${agentPod.uid}`,
      'k8s_psat:agent_node_name:node-a',
      `k8s_psat:agent_node_uid:${nodeUid}`,
    ])
    expect(result.canReattest).toBe(true)
  })

  it.each([
    ['tokenreview', 'expired', { expiresInSeconds: -60 }, 'token was not authenticated by the cluster'],
    ['jwks', 'expired', { expiresInSeconds: -60 }, 'token has expired'],
    ['tokenreview', 'wrong audience', { audiences: ['vault'] }, 'token was not authenticated by the cluster'],
    ['jwks', 'wrong audience', { audiences: ['vault'] }, 'token is not for an accepted audience'],
  ] as const)('%s: a token (%s) is refused', async (mode, _case, change, message) => {
    const token = await api.issueToken({ pod: agentPod, audiences: ['spire-server'], ...change })
    const err = await attestWith(await server(mode), await agentWith(token), ctxNow()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermissionDeniedError)
    expect((err as Error).message).toBe(message)
  })

  it.each(['tokenreview', 'jwks'] as const)('%s: a service account outside the allow list is refused, naming it', async (mode) => {
    const token = await api.issueToken({ pod: otherPod, audiences: ['spire-server'] })
    await expect(attestWith(await server(mode), await agentWith(token), ctxNow())).rejects.toThrow(
      new PermissionDeniedError(`service account default:web is not in the allow list of cluster ${CLUSTER}`),
    )
  })

  it('tokenreview: a token of a cluster before 1.30 (no node claim) gets its node from the pod and node objects', async () => {
    const token = await api.issueToken({ pod: agentPod, audiences: ['spire-server'], withoutNode: true })
    const before = api.requests.length
    const result = await attestWith(await server('tokenreview'), await agentWith(token), ctxNow())
    expect(result.agentId.toString()).toBe(`spiffe://example.org/steeple/agent/k8s_psat/${CLUSTER}/${nodeUid}`)
    expect(api.requests.slice(before)).toEqual([
      'POST /apis/authentication.k8s.io/v1/tokenreviews',
      `GET /api/v1/namespaces/spire/pods/${agentPod.name}`,
      'GET /api/v1/nodes/node-a',
    ])
  })

  it('jwks: a token without a node claim is refused (nothing offline names the node)', async () => {
    const token = await api.issueToken({ pod: agentPod, audiences: ['spire-server'], withoutNode: true })
    await expect(attestWith(await server('jwks'), await agentWith(token), ctxNow())).rejects.toThrow(PermissionDeniedError)
  })

  it('tokenreview: the API server is asked with the configured credential (without it: UNAVAILABLE, 401)', async () => {
    const token = await api.issueToken({ pod: agentPod, audiences: ['spire-server'] })
    await writeFile(join(dir, 'bad-token'), 'wrong')
    const err = await attestWith(await server('tokenreview', { token_path: join(dir, 'bad-token') }), await agentWith(token), ctxNow()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnavailableError)
    expect((err as Error).message).toBe(`API server at ${api.url} refused the token review (HTTP 401)`)
  })

  it('an API server or issuer that cannot be reached is UNAVAILABLE, and one with an untrusted certificate too', async () => {
    const token = await api.issueToken({ pod: agentPod, audiences: ['spire-server'] })
    const closed = 'https://127.0.0.1:1'
    await expect(attestWith(await server('tokenreview', { api_server_url: closed }), await agentWith(token), ctxNow())).rejects.toThrow(
      new UnavailableError(`API server at ${closed} is unreachable (ECONNREFUSED)`),
    )
    const noCa = new K8sPsatServerAttestor(await loadClusters(k8sPsatServerConfigSchema.parse({ clusters: { [CLUSTER]: { service_account_allow_list: ['spire:spire-agent'], issuer_url: api.issuer } } }, PATH)))
    const err = await attestWith(noCa, await agentWith(token), ctxNow()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnavailableError)
    expect((err as Error).message).toBe(`issuer at ${api.issuer} is unreachable (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`)
  })

  it('jwks: follows a key rotation (unknown kid refetches, at most every 30 s) and drops the old key within 5 minutes', async () => {
    const attestor = await server('jwks')
    const t0 = Date.now()
    const at = (offsetMs: number) => ({ trustDomain: td, now: new Date(t0 + offsetMs) })
    const oldToken = await api.issueToken({ pod: agentPod, audiences: ['spire-server'], expiresInSeconds: 3600 })
    await attestWith(attestor, await agentWith(oldToken), at(0))
    await api.rotateKey()
    const newToken = await api.issueToken({ pod: agentPod, audiences: ['spire-server'], expiresInSeconds: 3600 })
    // Within 30 s of the last fetch the new key is not fetched yet.
    await expect(attestWith(attestor, await agentWith(newToken), at(1000))).rejects.toThrow(PermissionDeniedError)
    await attestWith(attestor, await agentWith(newToken), at(31_000))
    // The old key is still cached right after; five minutes later the refetched JWKS lacks it.
    await expect(attestWith(attestor, await agentWith(oldToken), at(5 * 60_000 + 32_000))).rejects.toThrow(
      new PermissionDeniedError('token signature or claims are not valid for the cluster'),
    )
  })

  it('the audience config is honoured', async () => {
    const token = await api.issueToken({ pod: agentPod, audiences: ['steeple'] })
    for (const mode of ['tokenreview', 'jwks'] as const) {
      const result = await attestWith(await server(mode, { audience: ['steeple'] }), await agentWith(token), ctxNow())
      expect(result.agentId.toString()).toContain(nodeUid)
    }
  })

  it.each([
    ['{}', 'payload must name the cluster'],
    ['{"cluster":"prod-1","token":"a.b"}', 'payload token must be a JWT in compact form'],
    ['[1]', 'payload must be a JSON object'],
  ])('a payload %s is INVALID_ARGUMENT', async (text, message) => {
    const err = await (await server('jwks')).attest(new TextEncoder().encode(text), async () => new Uint8Array(), ctxNow()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as SteepleError).message).toBe(message)
  })
})

describe('k8s_psat config', () => {
  it('agent: cluster required; token_path defaults as SPIRE', () => {
    expect(k8sPsatAgentAttestor.config.parse({ cluster: 'c' }, PATH)).toEqual({ cluster: 'c', token_path: '/var/run/secrets/tokens/spire-agent' })
    expect(() => k8sPsatAgentAttestor.config.parse({}, PATH)).toThrow(`${PATH}.cluster must be set`)
  })

  it('agent: an unreadable token file is a ConfigError naming the key', async () => {
    const plugin = new K8sPsatAgentPlugin({ cluster: 'c', token_path: join(dir, 'absent') })
    await expect(plugin.begin()).rejects.toThrow(new ConfigError(`${PATH}.token_path: cannot read ${join(dir, 'absent')}: ENOENT`))
  })

  it('server: audience defaults to ["spire-server"]', () => {
    const config = k8sPsatServerConfigSchema.parse({ clusters: { c: { service_account_allow_list: ['a:b'], issuer_url: 'https://issuer.example' } } }, PATH)
    expect(config.clusters['c']!.audience).toEqual(['spire-server'])
  })

  it.each([
    [{ c: { service_account_allow_list: ['a:b'] } }, `${PATH}.clusters.c must set exactly one of api_server_url (TokenReview) and issuer_url (offline JWKS)`],
    [{ c: { service_account_allow_list: ['a:b'], api_server_url: 'https://x', issuer_url: 'https://y' } }, `${PATH}.clusters.c must set exactly one of`],
    [{ c: { service_account_allow_list: [], api_server_url: 'https://x' } }, `${PATH}.clusters.c.service_account_allow_list must have at least 1 item(s)`],
    [{ c: { service_account_allow_list: ['web'], api_server_url: 'https://x' } }, `${PATH}.clusters.c.service_account_allow_list[0] must be namespace:service-account`],
    [{ c: { service_account_allow_list: ['a:b'], api_server_url: 'http://x' } }, `${PATH}.clusters.c.api_server_url must be an https:// URL`],
    [{ 'a/b': { service_account_allow_list: ['a:b'], api_server_url: 'https://x' } }, 'cluster names are letters'],
    [{ c: { service_account_allow_list: ['a:b'], issuer_url: 'https://x', audience: [] } }, `${PATH}.clusters.c.audience must not be empty with issuer_url`],
  ])('server: refuses %j', (clusters, message) => {
    expect(() => k8sPsatServerConfigSchema.parse({ clusters }, PATH)).toThrow(message)
  })

  it('server: a token file that cannot be read is a ConfigError at load', async () => {
    const config = k8sPsatServerConfigSchema.parse({ clusters: { c: { service_account_allow_list: ['a:b'], api_server_url: 'https://x', token_path: join(dir, 'absent') } } }, PATH)
    await expect(loadClusters(config)).rejects.toThrow(`${PATH}.clusters.c.token_path: cannot read ${join(dir, 'absent')}: ENOENT`)
  })
})
