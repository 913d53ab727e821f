import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WorkloadAttestorHost } from '../../agent/attestor/workload.js'
import { SteepleError } from '../../common/errors.js'
import { createLogger } from '../../common/logger.js'
import { K8sAttestor, k8sWorkloadAttestor, kubeletEndpoint } from '../../plugins/workload-attestor/k8s/index.js'
import { KubeletStandIn, standInPod } from '../standins/kubelet.js'

/**
 * The agent's workload attestation (WorkloadAttestorHost, as `steeple-agent run` wires it) with
 * the k8s attestor against a STAND-IN kubelet (test/standins/kubelet.ts; no kubelet can run on
 * our machines) that sends malformed pod lists: the attestation fails with a clear log line, the
 * agent goes on, and the next call works once the kubelet answers properly.
 */

const POD_UID = '2c48913c-b29f-11e7-9350-020968147796'
const CID = 'c'.repeat(64)
const CGROUP = `0::/kubepods/burstable/pod${POD_UID}/${CID}\n`
const POD = standInPod({
  uid: POD_UID,
  name: 'web-0',
  namespace: 'shop',
  serviceAccount: 'web',
  nodeName: 'node-a',
  containers: [{ name: 'app', id: CID, image: 'web:1', imageId: 'web@sha256:' + 'a'.repeat(64) }],
})

let kubelet: KubeletStandIn
beforeAll(async () => {
  kubelet = await KubeletStandIn.start()
})
afterAll(async () => {
  await kubelet?.stop()
})

describe('k8s attestor in the agent\'s attestation host, stand-in kubelet (read-only port)', () => {
  it.each([
    ['not JSON', '<html>oops</html>', 'not JSON'],
    ['no items', '{"kind":"PodList"}', 'no items list'],
    ['a pod with a numeric uid', JSON.stringify({ items: [{ metadata: { uid: 7, name: 'x', namespace: 'y' } }] }), 'bad metadata.uid'],
    ['labels that are not strings', JSON.stringify({ items: [{ metadata: { uid: 'u', name: 'x', namespace: 'y', labels: { a: 1 } } }] }), 'bad metadata.labels'],
  ])('a malformed kubelet reply (%s) fails the attestation with a clear log line, and the next call works', async (_name, body, what) => {
    const lines: string[] = []
    const log = createLogger({ level: 'debug', write: (line) => lines.push(line) })
    const config = k8sWorkloadAttestor.config.parse({ kubelet_read_only_port: kubelet.port, max_poll_attempts: 2, poll_retry_interval_ms: 10 }, 'plugins.WorkloadAttestor.k8s')
    const k8s = new K8sAttestor(config, await kubeletEndpoint(config), { readText: async () => CGROUP })
    const host = new WorkloadAttestorHost([{ name: 'k8s', instance: k8s }], { log })
    kubelet.rawReply = body
    const err = await host.attest(4242).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SteepleError)
    const message = `workloadattestor(k8s): kubelet at http://127.0.0.1:${kubelet.port} sent a malformed pod list (${what})`
    expect((err as Error).message).toBe(message)
    const record = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r['msg'] === 'Workload attestor failed')
    expect(record?.['err']).toBe(message)
    expect(record?.['level']).toBe('error')
    kubelet.rawReply = undefined
    kubelet.pods = [POD]
    expect((await host.attest(4242)).toStrings()).toContain('k8s:ns:shop')
  })
})
