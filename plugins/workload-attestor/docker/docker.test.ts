import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FailedPreconditionError, SteepleError, UnavailableError } from '../../../common/errors.js'
import { runWorkloadAttestorSuite, type LiveProcess } from '../../../test/conformance/workload-attestor-suite.js'
import { DockerAttestor, dockerWorkloadAttestor, parseInspectReply, type DockerAttestorConfig, type EngineGet } from './index.js'

const ID = '15ecf1888953f8795a037416c8c63b41afb06aa09516878a7e4eed6665a3cb8b'
const IMAGE_ID = 'sha256:046f2b9b1764e1b8be71c2de6e864cf1692f941f68bd241f5ca491eae11498db'
const PATH = 'plugins.WorkloadAttestor.docker'

function config(overrides: Record<string, unknown> = {}): DockerAttestorConfig {
  return dockerWorkloadAttestor.config.parse(overrides, PATH)
}

const INSPECT = {
  Id: ID,
  Image: IMAGE_ID,
  Config: { Image: 'localhost/steeple-busybox:test', Labels: { app: 'blue', 'com.example.tier': 'a:b' }, Env: ['PATH=/bin', 'SECRET=x'] },
}

/** A fake engine: replies per path, and records which socket and path were asked. */
function fakeEngine(reply: (path: string) => { statusCode: number; body: string } | Error): EngineGet & { calls: string[] } {
  const calls: string[] = []
  const get: EngineGet = async (socketPath, path) => {
    calls.push(`${socketPath} ${path}`)
    const r = reply(path)
    if (r instanceof Error) throw r
    return r
  }
  return Object.assign(get, { calls })
}

const okEngine = () => fakeEngine(() => ({ statusCode: 200, body: JSON.stringify(INSPECT) }))

/** readText over the real /proc, except the cgroup file of `pid`, which reads `cgroup`. */
function procWith(pid: number, cgroup: string): (path: string) => Promise<string> {
  return async (path) => (path === `/proc/${pid}/cgroup` ? cgroup : readFile(path, 'utf8'))
}

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

async function sleeper(): Promise<LiveProcess> {
  const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' })
  await once(child, 'spawn')
  return { pid: child.pid!, cleanup: async () => void child.kill('SIGKILL') }
}

runWorkloadAttestorSuite({ name: 'docker', variant: 'process in no container', make: async () => new DockerAttestor(config(), { engineGet: okEngine() }), expectSelectors: false })

// The live process is a real one; only its cgroup file is replaced to place it in a container.
let livePid = 0
runWorkloadAttestorSuite({
  name: 'docker',
  variant: 'containerised process, fake engine',
  make: async () => new DockerAttestor(config(), { engineGet: okEngine(), readText: async (path) => procWith(livePid, `0::/system.slice/docker-${ID}.scope\n`)(path) }),
  liveProcess: async () => {
    const live = await sleeper()
    livePid = live.pid
    return live
  },
  expectSelectors: true,
})

describe('docker workload attestor (fake /proc and engine)', () => {
  const signal = new AbortController().signal
  const pid = 4242
  const docker = (text: string) => async (path: string) => {
    if (path !== `/proc/${pid}/cgroup`) throw Object.assign(new Error('no such file'), { code: 'ENOENT' })
    return text
  }

  it('gives labels, image_id and image (the image name, as SPIRE names it image_id) and image_config_digest; env only when asked', async () => {
    const engine = okEngine()
    const attestor = new DockerAttestor(config(), { engineGet: engine, readText: docker(`0::/system.slice/docker-${ID}.scope\n`) })
    expect(await attestor.attest(pid, signal)).toEqual([
      'image:localhost/steeple-busybox:test',
      'image_config_digest:' + IMAGE_ID,
      'image_id:localhost/steeple-busybox:test',
      'label:app:blue',
      'label:com.example.tier:a:b',
    ])
    expect(engine.calls).toEqual([`/var/run/docker.sock /containers/${ID}/json`])
    const withEnv = new DockerAttestor(config({ env_selectors: true }), { engineGet: okEngine(), readText: docker(`0::/docker/${ID}\n`) })
    const values = await withEnv.attest(pid, signal)
    expect(values).toContain('env:PATH=/bin')
    expect(values).toContain('env:SECRET=x')
  })

  it('asks the rootful Podman socket for libpod containers, the rootless template for a user slice, with docker_version', async () => {
    const rootful = okEngine()
    await new DockerAttestor(config({ podman_socket_path: 'unix:///tmp/p.sock', docker_version: '1.41' }), {
      engineGet: rootful,
      readText: docker(`0::/libpod_parent/libpod-${ID}\n`),
    }).attest(pid, signal)
    expect(rootful.calls).toEqual([`/tmp/p.sock /v1.41/containers/${ID}/json`])
    const rootless = okEngine()
    await new DockerAttestor(config(), {
      engineGet: rootless,
      readText: docker(`0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope\n`),
    }).attest(pid, signal)
    expect(rootless.calls).toEqual([`/run/user/1000/podman/podman.sock /containers/${ID}/json`])
  })

  it('gives [] for a process in no container without asking the engine', async () => {
    const engine = okEngine()
    expect(await new DockerAttestor(config(), { engineGet: engine, readText: docker('0::/user.slice/session-1.scope\n') }).attest(pid, signal)).toEqual([])
    expect(engine.calls).toEqual([])
  })

  it.each([
    ['engine unreachable', () => Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }), UnavailableError, 'container engine at /var/run/docker.sock is unreachable (ENOENT)'],
    ['container unknown to the engine', () => ({ statusCode: 404, body: '{"message":"no such container"}' }), FailedPreconditionError, 'container 15ecf1888953 of the process is not known to the engine at /var/run/docker.sock'],
    ['engine error', () => ({ statusCode: 500, body: 'oops' }), UnavailableError, 'container engine at /var/run/docker.sock failed to inspect container 15ecf1888953 (HTTP 500)'],
    ['malformed reply', () => ({ statusCode: 200, body: '{"Config":{"Labels":{"a":1}}}' }), SteepleError, 'container engine at /var/run/docker.sock sent a malformed inspect reply for container 15ecf1888953'],
    ['not JSON', () => ({ statusCode: 200, body: '<html>' }), SteepleError, 'container engine at /var/run/docker.sock sent a malformed inspect reply for container 15ecf1888953'],
  ])('fails when %s', async (_name, reply, type, message) => {
    const attestor = new DockerAttestor(config(), { engineGet: fakeEngine(reply), readText: docker(`0::/docker/${ID}\n`) })
    const err = await attestor.attest(pid, signal).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(type)
    expect((err as Error).message).toBe(message)
  })

  it('reads inspect replies with null labels and env (as engines send for none)', () => {
    expect(parseInspectReply('{"Image":"","Config":{"Labels":null,"Env":null,"Image":"x"}}')).toEqual({ labels: {}, env: [], imageName: 'x', imageId: '' })
    expect(parseInspectReply('[]')).toBeUndefined()
  })
})

describe('docker workload attestor over a real HTTP server on a Unix socket (engine stand-in)', () => {
  let dir: string
  let server: Server
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steeple-docker-'))
    server = createServer((req, res) => {
      if (req.url === `/containers/${ID}/json`) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(INSPECT))
      else res.writeHead(404).end('{"message":"no such container"}')
    })
    server.listen(join(dir, 'engine.sock'))
    await once(server, 'listening')
  })
  afterAll(async () => {
    server.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('talks HTTP over the socket named by docker_socket_path', async () => {
    const attestor = new DockerAttestor(config({ docker_socket_path: `unix://${join(dir, 'engine.sock')}` }), {
      readText: async () => `0::/docker/${ID}\n`,
    })
    expect(await attestor.attest(1234, new AbortController().signal)).toContain('label:app:blue')
  })

  it('an absent socket is "unreachable"', async () => {
    const attestor = new DockerAttestor(config({ docker_socket_path: join(dir, 'none.sock') }), { readText: async () => `0::/docker/${ID}\n` })
    await expect(attestor.attest(1234, new AbortController().signal)).rejects.toThrow(`container engine at ${join(dir, 'none.sock')} is unreachable (ENOENT)`)
  })
})

describe('docker workload attestor config', () => {
  it('defaults as SPIRE (sockets), env selectors off', () => {
    expect(config()).toEqual({
      docker_socket_path: 'unix:///var/run/docker.sock',
      podman_socket_path: 'unix:///run/podman/podman.sock',
      podman_socket_path_template: 'unix:///run/user/%d/podman/podman.sock',
      docker_version: undefined,
      env_selectors: false,
    })
  })

  it.each([
    [{ docker_socket_path: 'tcp://127.0.0.1:2375' }, /docker_socket_path must be a unix:\/\/\/absolute\/path address or an absolute path/],
    [{ podman_socket_path_template: 'unix:///run/user/podman.sock' }, /podman_socket_path_template must contain exactly one %d/],
    [{ docker_version: 'v1' }, /docker_version must be an API version such as "1.41"/],
    [{ use_new_container_locator: true }, /use_new_container_locator is not a known key/],
  ])('refuses %j', (section, message) => {
    expect(() => config(section)).toThrow(message)
  })
})
