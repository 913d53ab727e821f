import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, SteepleError, UnavailableError } from '../../../common/errors.js'
import { runWorkloadAttestorSuite } from '../../../test/conformance/workload-attestor-suite.js'
import { KubeletStandIn, standInPod } from '../../../test/standins/kubelet.js'
import { makeLoopbackTls, type LoopbackTls } from '../../../test/standins/tls.js'
import { K8sAttestor, k8sWorkloadAttestor, kubeletEndpoint, type K8sAttestorConfig } from './index.js'

/**
 * The k8s workload attestor against a STAND-IN kubelet (test/standins/kubelet.ts): a loopback
 * server with a real TLS certificate and bearer token on its "secure port", or plain HTTP on its
 * "read-only port", answering GET /pods with v1 PodLists. No kubelet can run on our machines.
 */

const POD_UID = '2c48913c-b29f-11e7-9350-020968147796'
const CID = 'c'.repeat(64)
const INIT_CID = 'd'.repeat(64)
const CGROUP = `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID.replaceAll('-', '_')}.slice/cri-containerd-${CID}.scope\n`
const PATH = 'plugins.WorkloadAttestor.k8s'

const POD = standInPod({
  uid: POD_UID,
  name: 'web-7d4b9c-x2x9k',
  namespace: 'shop',
  serviceAccount: 'web',
  nodeName: 'node-a',
  labels: { app: 'web', tier: 'front' },
  owner: { kind: 'ReplicaSet', name: 'web-7d4b9c', uid: '11111111-2222-3333-4444-555555555555' },
  containers: [
    { name: 'app', id: CID, image: 'registry.example/web:1.2', imageId: 'registry.example/web@sha256:' + 'a'.repeat(64) },
    { name: 'sidecar', id: 'e'.repeat(64), image: 'envoy:1.29', imageId: 'envoy@sha256:' + 'b'.repeat(64) },
  ],
  initContainers: [{ name: 'init', id: INIT_CID, image: 'busybox:1', imageId: 'busybox@sha256:' + 'f'.repeat(64) }],
})

const EXPECTED = [
  `container-image:registry.example/web:1.2`,
  `container-image:registry.example/web@sha256:${'a'.repeat(64)}`,
  'container-name:app',
  'node-name:node-a',
  'ns:shop',
  'pod-image-count:2',
  'pod-image:envoy:1.29',
  `pod-image:envoy@sha256:${'b'.repeat(64)}`,
  'pod-image:registry.example/web:1.2',
  `pod-image:registry.example/web@sha256:${'a'.repeat(64)}`,
  'pod-init-image-count:1',
  'pod-init-image:busybox:1',
  `pod-init-image:busybox@sha256:${'f'.repeat(64)}`,
  'pod-label:app:web',
  'pod-label:tier:front',
  'pod-name:web-7d4b9c-x2x9k',
  'pod-owner-uid:ReplicaSet:11111111-2222-3333-4444-555555555555',
  'pod-owner:ReplicaSet:web-7d4b9c',
  `pod-uid:${POD_UID}`,
  'sa:web',
].sort()

let tls: LoopbackTls
let secure: KubeletStandIn
let readOnly: KubeletStandIn
let dir: string

beforeAll(async () => {
  tls = await makeLoopbackTls()
  secure = await KubeletStandIn.start({ tls, token: 'kubelet-client-token' })
  readOnly = await KubeletStandIn.start()
  secure.pods = [POD]
  readOnly.pods = [POD]
  dir = await mkdtemp(join(tmpdir(), 'steeple-k8s-'))
  await writeFile(join(dir, 'token'), 'kubelet-client-token\n')
}, 30_000)

afterAll(async () => {
  await secure?.stop()
  await readOnly?.stop()
  await tls?.cleanup()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

function config(overrides: Record<string, unknown> = {}): K8sAttestorConfig {
  return k8sWorkloadAttestor.config.parse(
    { kubelet_secure_port: secure.port, kubelet_ca_path: tls.caPath, token_path: join(dir, 'token'), poll_retry_interval_ms: 20, max_poll_attempts: 5, ...overrides },
    PATH,
  )
}

/** An attestor whose fake /proc puts `pid` (any, when undefined) in the pod's container. */
async function attestor(overrides: Record<string, unknown> = {}, cgroup = CGROUP, pid?: number): Promise<K8sAttestor> {
  const c = config(overrides)
  return new K8sAttestor(c, await kubeletEndpoint(c), {
    readText: async (path) => (pid === undefined || path === `/proc/${pid}/cgroup` ? cgroup : readFile(path, 'utf8')),
  })
}

const signal = new AbortController().signal

runWorkloadAttestorSuite({ name: 'k8s', variant: 'process in no pod, stand-in kubelet', make: async () => new K8sAttestor(config(), await kubeletEndpoint(config())), expectSelectors: false })

let livePid = 0
runWorkloadAttestorSuite({
  name: 'k8s',
  variant: 'process in a pod, stand-in kubelet',
  make: async () => {
    const c = config()
    return new K8sAttestor(c, await kubeletEndpoint(c), { readText: async (path) => (path === `/proc/${livePid}/cgroup` ? CGROUP : readFile(path, 'utf8')) })
  },
  liveProcess: async () => {
    const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' })
    await once(child, 'spawn')
    livePid = child.pid!
    return { pid: child.pid!, cleanup: async () => void child.kill('SIGKILL') }
  },
  expectSelectors: true,
})

describe('k8s workload attestor against a stand-in kubelet', () => {
  it('secure port (TLS verified with the CA, bearer token): SPIRE\'s selectors for the pod and the container', async () => {
    expect(await (await attestor()).attest(4242, signal)).toEqual(EXPECTED)
  })

  it('read-only port (plain HTTP, no token): the same selectors', async () => {
    expect(await (await attestor({ kubelet_read_only_port: readOnly.port })).attest(4242, signal)).toEqual(EXPECTED)
  })

  it('an init container gets its own container selectors; disable_container_selectors leaves them out', async () => {
    const initCgroup = CGROUP.replace(CID, INIT_CID)
    const values = await (await attestor({}, initCgroup)).attest(4242, signal)
    expect(values).toContain('container-name:init')
    expect(values).toContain('container-image:busybox:1')
    const without = await (await attestor({ disable_container_selectors: true })).attest(4242, signal)
    expect(without).toEqual(EXPECTED.filter((v) => !v.startsWith('container-')))
  })

  it('a process in a plain container (no pod in its cgroup) gives [] without asking the kubelet', async () => {
    const before = secure.requests
    expect(await (await attestor({}, `0::/system.slice/docker-${CID}.scope\n`)).attest(4242, signal)).toEqual([])
    expect(secure.requests).toBe(before)
  })

  it('retries while the kubelet does not list the pod yet, and succeeds once it does', async () => {
    const standIn = await KubeletStandIn.start()
    try {
      standIn.pods = [POD]
      standIn.hideUntilRequest = 2
      expect(await (await attestor({ kubelet_read_only_port: standIn.port })).attest(4242, signal)).toEqual(EXPECTED)
      expect(standIn.requests).toBe(3)
    } finally {
      await standIn.stop()
    }
  })

  it('gives up after max_poll_attempts with UNAVAILABLE naming the pod', async () => {
    const standIn = await KubeletStandIn.start()
    try {
      const err = await (await attestor({ kubelet_read_only_port: standIn.port, max_poll_attempts: 3 })).attest(4242, signal).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(UnavailableError)
      expect((err as Error).message).toBe(`kubelet does not list pod ${POD_UID} after 3 attempts`)
      expect(standIn.requests).toBe(3)
    } finally {
      await standIn.stop()
    }
  })

  it('a malformed kubelet reply is SteepleError INTERNAL naming what is wrong (no retry)', async () => {
    const standIn = await KubeletStandIn.start()
    try {
      standIn.rawReply = JSON.stringify({ items: [{ metadata: { uid: 'u', name: 'x', namespace: 'y' }, status: { containerStatuses: 'x' } }] })
      const err = await (await attestor({ kubelet_read_only_port: standIn.port })).attest(4242, signal).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(SteepleError)
      expect((err as SteepleError).code).toBe('INTERNAL')
      expect((err as Error).message).toBe(`kubelet at http://127.0.0.1:${standIn.port} sent a malformed pod list (bad status.containerStatuses)`)
      expect(standIn.requests).toBe(1)
    } finally {
      await standIn.stop()
    }
  })

  it('the secure port without the right token is UNAVAILABLE (HTTP 401); an untrusted certificate is unreachable', async () => {
    await writeFile(join(dir, 'wrong'), 'nope')
    await expect((await attestor({ token_path: join(dir, 'wrong') })).attest(4242, signal)).rejects.toThrow(
      new UnavailableError(`kubelet at https://127.0.0.1:${secure.port} refused to list pods (HTTP 401)`),
    )
    const other = await makeLoopbackTls()
    try {
      await expect((await attestor({ kubelet_ca_path: other.caPath })).attest(4242, signal)).rejects.toThrow(
        new UnavailableError(`kubelet at https://127.0.0.1:${secure.port} is unreachable (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`),
      )
    } finally {
      await other.cleanup()
    }
    expect(await (await attestor({ kubelet_ca_path: join(dir, 'absent'), skip_kubelet_verification: true })).attest(4242, signal)).toEqual(EXPECTED)
  })

  it('an unreadable CA is a ConfigError at load, naming the key', async () => {
    await expect(kubeletEndpoint(config({ kubelet_ca_path: join(dir, 'absent') }))).rejects.toThrow(
      new ConfigError(`${PATH}.kubelet_ca_path: cannot read ${join(dir, 'absent')}: ENOENT`),
    )
  })
})

describe('k8s workload attestor config', () => {
  it('defaults', () => {
    expect(k8sWorkloadAttestor.config.parse(undefined, PATH)).toEqual({
      kubelet_read_only_port: 0,
      kubelet_secure_port: 10250,
      kubelet_host: '127.0.0.1',
      kubelet_ca_path: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
      skip_kubelet_verification: false,
      token_path: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      use_anonymous_authentication: false,
      max_poll_attempts: 20,
      poll_retry_interval_ms: 500,
      disable_container_selectors: false,
    })
  })

  it.each([
    [{ kubelet_read_only_port: 70000 }, /kubelet_read_only_port must be at most 65535/],
    [{ max_poll_attempts: 0 }, /max_poll_attempts must be at least 1/],
    [{ node_name_env: 'X' }, /node_name_env is not a known key/],
  ])('refuses %j', (section, message) => {
    expect(() => k8sWorkloadAttestor.config.parse(section, PATH)).toThrow(message)
  })
})
