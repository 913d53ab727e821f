import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UnavailableError } from '../../common/errors.js'
import { DockerAttestor, dockerWorkloadAttestor } from '../../plugins/workload-attestor/docker/index.js'
import { readCgroupContainerInfo } from '../../plugins/workload-attestor/container-id.js'
import { runWorkloadAttestorSuite } from '../conformance/workload-attestor-suite.js'
import { BUSYBOX_IMAGE, Podman, podmanUnavailableReason } from '../tools/podman.js'
import { AGENT_BIN, deploy, waitFor, type Deployment } from './agent-helpers.js'
import { ROOT } from './server-cli-helpers.js'

/**
 * The docker workload attestor against a real container runtime: Debian's podman (runc) serving
 * the Docker Engine API with `podman system service`, containers from a busybox image, and a real
 * steeple-server and steeple-agent whose socket is bind-mounted into the containers.
 */

// In CI (root, podman installed by .ci/run) these tests must run: a missing runtime fails them there.
const unavailable = process.env['CI'] === 'true' ? undefined : await podmanUnavailableReason()
const needs = 'needs root and podman'

let podman: Podman
let ready: Promise<Podman> | undefined
/** Starts the podman service once, for whichever describe block runs first. */
function startPodman(): Promise<Podman> {
  ready ??= Podman.start().then((p) => (podman = p))
  return ready
}

afterAll(async () => {
  await podman?.stop()
}, 30_000)

function attestorFor(p: Podman): DockerAttestor {
  const socket = `unix://${p.socketPath}`
  return new DockerAttestor(dockerWorkloadAttestor.config.parse({ docker_socket_path: socket, podman_socket_path: socket }, 'plugins.WorkloadAttestor.docker'))
}

describe.skipIf(unavailable !== undefined)(`docker attestor on podman containers (${needs})`, () => {
  beforeAll(startPodman, 120_000)

  it('reads the libpod container ID of a container process from its cgroup', async () => {
    const { id, pid } = await podman.runDetached(['--label', 'app=blue', BUSYBOX_IMAGE, 'sleep', '30'])
    const info = await readCgroupContainerInfo(pid)
    expect(info.containerId).toBe(id)
    expect(info.podman).toBe(true)
    await podman.remove(id)
  })

  it('gives the labels, image name and image ID that podman inspect shows', async () => {
    const { id, pid } = await podman.runDetached(['--label', 'app=blue', '--label', 'tier=web', '-e', 'MODE=test', BUSYBOX_IMAGE, 'sleep', '30'])
    const imageId = (await podman.podman(['image', 'inspect', '--format', '{{.Id}}', BUSYBOX_IMAGE])).trim()
    const values = await attestorFor(podman).attest(pid, new AbortController().signal)
    expect(values).toEqual([`image:${BUSYBOX_IMAGE}`, `image_config_digest:sha256:${imageId}`, `image_id:${BUSYBOX_IMAGE}`, 'label:app:blue', 'label:tier:web'])
    const withEnv = new DockerAttestor(
      dockerWorkloadAttestor.config.parse({ podman_socket_path: `unix://${podman.socketPath}`, env_selectors: true }, 'plugins.WorkloadAttestor.docker'),
    )
    expect(await withEnv.attest(pid, new AbortController().signal)).toContain('env:MODE=test')
    await podman.remove(id)
  })

  it('fails with "unreachable" when the engine socket is not there', async () => {
    const { id, pid } = await podman.runDetached([BUSYBOX_IMAGE, 'sleep', '30'])
    const socket = join(podman.dir, 'absent.sock')
    const attestor = new DockerAttestor(dockerWorkloadAttestor.config.parse({ podman_socket_path: socket }, 'p'))
    const err = await attestor.attest(pid, new AbortController().signal).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnavailableError)
    expect((err as Error).message).toBe(`container engine at ${socket} is unreachable (ENOENT)`)
    await podman.remove(id)
  })
})

if (unavailable === undefined) {
  runWorkloadAttestorSuite({
    name: 'docker',
    variant: `podman container (${needs})`,
    make: async () => attestorFor(await startPodman()),
    liveProcess: async () => {
      const p = await startPodman()
      const { id, pid } = await p.runDetached(['--label', 'app=conformance', BUSYBOX_IMAGE, 'sleep', '30'])
      return { pid, cleanup: () => p.remove(id) }
    },
    expectSelectors: true,
  })
}

describe.skipIf(unavailable !== undefined)(`steeple-agent with the docker attestor, workloads in podman containers (${needs})`, () => {
  const BLUE_ID = 'spiffe://example.org/podman/blue'
  let d: Deployment
  let dir: string

  beforeAll(async () => {
    await startPodman()
    dir = await mkdtemp(join(tmpdir(), 'steeple-podman-e2e-'))
    const socket = `unix://${podman.socketPath}`
    const config = join(dir, 'agent.yaml')
    await writeFile(
      config,
      `plugins:\n  WorkloadAttestor:\n    unix: {}\n    docker:\n      docker_socket_path: ${JSON.stringify(socket)}\n      podman_socket_path: ${JSON.stringify(socket)}\n`,
    )
    d = await deploy({ prefix: 'steeple-podman-', agentConfigPath: config, agentArgs: ['--socket-path', join(dir, 'sock', 'api.sock')] })
    await d.createEntry(BLUE_ID, ['docker:label:app:blue'])
  }, 120_000)

  afterAll(async () => {
    await d?.stop()
    if (d !== undefined) await rm(d.root, { recursive: true, force: true })
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  }, 30_000)

  /** Runs the agent CLI in a busybox container with these labels, the agent socket mounted at /run/spire. */
  function fetchInContainer(labels: readonly string[]) {
    return podman.runToEnd([
      ...labels.flatMap((l) => ['--label', l]),
      '-v', `${join(dir, 'sock')}:/run/spire:ro`,
      // node is dynamically linked: the host's /usr (the image links /lib and /lib64 into it).
      '-v', '/usr:/usr:ro',
      '-v', `${ROOT}:${ROOT}:ro`,
      BUSYBOX_IMAGE,
      'node', AGENT_BIN, 'api', 'fetch', 'x509', '--socket-path', '/run/spire/api.sock', '--output', 'json', '--timeout', '5',
    ])
  }

  it('WAPI-03: a container labelled app=blue gets the SVID of the entry docker:label:app:blue', async () => {
    // The entry reaches the agent on its next sync; until then the container gets PERMISSION_DENIED.
    const result = await waitFor(
      'the blue container to get its SVID',
      async () => {
        const r = await fetchInContainer(['app=blue', 'tier=web'])
        return r.code === 0 ? r : undefined
      },
      40_000,
      500,
    )
    const json = JSON.parse(result.stdout) as { svids: { spiffe_id: string }[] }
    expect(json.svids.map((s) => s.spiffe_id)).toEqual([BLUE_ID])
  }, 60_000)

  it('WEP-13, WAPI-03: a container with other labels gets PERMISSION_DENIED', async () => {
    const result = await fetchInContainer(['app=red'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('PERMISSION_DENIED: no identity issued')
  }, 30_000)

  it('with the engine gone, the caller gets the generic UNAVAILABLE and the agent log says why', async () => {
    await podman.stopService()
    const result = await fetchInContainer(['app=blue'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('UNAVAILABLE: workload attestation failed')
    expect(result.stderr).not.toContain(podman.socketPath)
    const record = await d.agent.waitForLog((r) => r['msg'] === 'Workload attestor failed' && r['pluginName'] === 'docker')
    expect(String(record['err'])).toMatch(/^workloadattestor\(docker\): container engine at .* is unreachable \((ENOENT|ECONNREFUSED)\)$/)
  }, 30_000)
})
