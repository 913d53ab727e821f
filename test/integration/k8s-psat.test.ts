import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KubeApiServerStandIn, type StandInPod } from '../standins/kube-apiserver.js'
import { makeLoopbackTls, type LoopbackTls } from '../standins/tls.js'
import { AgentProcess, agentCli, waitFor } from './agent-helpers.js'
import { ServerProcess, jsonOf } from './server-cli-helpers.js'

/**
 * `steeple-server run` with the k8s_psat node attestor checking tokens against a STAND-IN
 * Kubernetes API server (test/standins/kube-apiserver.ts: loopback HTTPS, real RS256 key, real
 * signed tokens, documented TokenReview shape; no real API server can run on our machines), and
 * `steeple-agent run` attesting with a projected service account token from a file.
 */

const CLUSTER = 'prod-1'
const NODE_UID = '0f7c1c4e-8a0b-4d3e-9b7a-2f6d5c4b3a21'
const MY_UID = process.getuid!()

let tls: LoopbackTls
let api: KubeApiServerStandIn
let dir: string
let server: ServerProcess
let agentPod: StandInPod
const agents: AgentProcess[] = []

beforeAll(async () => {
  tls = await makeLoopbackTls()
  api = await KubeApiServerStandIn.start(tls)
  agentPod = api.addPod({ namespace: 'spire', name: 'steeple-agent-abcde', serviceAccount: 'steeple-agent', nodeName: 'node-a' }, NODE_UID)
  dir = await mkdtemp(join(tmpdir(), 'steeple-psat-e2e-'))
  await chmod(dir, 0o755)
  await writeFile(join(dir, 'reviewer.token'), api.clientToken)
  const serverConfig = join(dir, 'server.yaml')
  await writeFile(
    serverConfig,
    [
      'plugins:',
      '  NodeAttestor:',
      '    k8s_psat:',
      '      clusters:',
      `        ${CLUSTER}:`,
      '          service_account_allow_list: ["spire:steeple-agent"]',
      '          audience: ["steeple-server"]',
      `          api_server_url: ${JSON.stringify(api.url)}`,
      `          ca_path: ${JSON.stringify(tls.caPath)}`,
      `          token_path: ${JSON.stringify(join(dir, 'reviewer.token'))}`,
      '',
    ].join('\n'),
  )
  server = await ServerProcess.start(['--config', serverConfig, '--data-dir', join(dir, 'server'), '--bind-port', '0'])
  const bundle = await server.cli('bundle', 'show')
  await writeFile(join(dir, 'bundle.pem'), bundle.stdout)
}, 60_000)

afterAll(async () => {
  for (const agent of agents) await agent.stop()
  await server?.stop()
  await api?.stop()
  await tls?.cleanup()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
}, 30_000)

/** Starts an agent whose projected token file holds `token`. */
async function startAgent(name: string, token: string): Promise<AgentProcess> {
  await writeFile(join(dir, `${name}.token`), token)
  const config = join(dir, `${name}.yaml`)
  await writeFile(config, `plugins:\n  NodeAttestor:\n    k8s_psat:\n      cluster: ${CLUSTER}\n      token_path: ${JSON.stringify(join(dir, `${name}.token`))}\n`)
  const agent = await AgentProcess.start({ dataDir: join(dir, name), serverAddress: server.agentApiAddress, trustBundlePath: join(dir, 'bundle.pem'), configPath: config })
  agents.push(agent)
  return agent
}

describe('k8s_psat between real server and agent processes, stand-in API server', () => {
  it('an agent with a token of an allowed service account is named after its node and serves SVIDs', async () => {
    const agent = await startAgent('good', await api.issueToken({ pod: agentPod, audiences: ['steeple-server'] }))
    expect(agent.agentId).toBe(`spiffe://example.org/steeple/agent/k8s_psat/${CLUSTER}/${NODE_UID}`)
    const listed = jsonOf<{ agents: { spiffe_id: string; attestation_type: string; can_reattest: boolean; selectors: { type: string; value: string }[] }[] }>(
      await server.cli('agent', 'list', '--output', 'json'),
    )
    const me = listed.agents.find((a) => a.spiffe_id === agent.agentId)
    expect(me?.attestation_type).toBe('k8s_psat')
    expect(me?.can_reattest).toBe(true)
    expect(me?.selectors.filter((s) => s.type === 'k8s_psat').map((s) => s.value)).toEqual([
      'agent_node_name:node-a',
      `agent_node_uid:${NODE_UID}`,
      'agent_ns:spire',
      `agent_pod_name:${agentPod.name}`,
      `agent_pod_uid:${agentPod.uid}`,
      'agent_sa:steeple-agent',
      `cluster:${CLUSTER}`,
    ])
    const created = await server.cli('entry', 'create', '--spiffe-id', 'spiffe://example.org/k8s/workload', '--parent-id', agent.agentId, '--selector', `unix:uid:${MY_UID}`)
    expect(created.code, created.stderr).toBe(0)
    const fetched = await waitFor('the workload SVID', async () => {
      const r = await agentCli(['api', 'fetch', 'x509', '--socket-path', agent.socketPath, '--output', 'json'])
      return r.code === 0 ? r : undefined
    }, 20_000, 300)
    expect(fetched.stdout).toContain('spiffe://example.org/k8s/workload')
  }, 60_000)

  it.each([
    ['a service account outside the allow list', 'service account default:web is not in the allow list of cluster prod-1', async () => api.issueToken({ pod: api.addPod({ namespace: 'default', name: 'web-0', serviceAccount: 'web', nodeName: 'node-a' }), audiences: ['steeple-server'] })],
    ['an expired token', 'token was not authenticated by the cluster', async () => api.issueToken({ pod: agentPod, audiences: ['steeple-server'], expiresInSeconds: -30 })],
    ['a token for another audience', 'token was not authenticated by the cluster', async () => api.issueToken({ pod: agentPod, audiences: ['spire-server'] })],
  ] as const)('an agent with %s is refused and exits, saying why', async (name, reason, token) => {
    const err = await startAgent(`bad-${name.length}`, await token()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toContain(`nodeattestor(k8s_psat): ${reason}`)
    // The server's log names the refusal but never the token.
    expect(server.stderr).not.toContain('eyJ')
  }, 60_000)
})
