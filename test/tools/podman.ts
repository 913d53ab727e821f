import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile, copyFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * Podman for tests, as measured on our machines: Debian's podman with
 * runc (crun fails on the hybrid cgroup layout here), capped rlimits, no registry: the image is
 * built from a busybox rootfs and containers run with `--network none`.
 */

/** containers.conf for the tests (pointed to by CONTAINERS_CONF). */
export const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
`

/** The image the tests build: busybox with its applets under /bin, and /lib, /lib64 pointing into /usr. */
export const BUSYBOX_IMAGE = 'localhost/steeple-busybox:test'

const BUSYBOX = '/bin/busybox'
const PACKAGES = ['podman', 'runc', 'busybox-static']

/** Why podman cannot run here, or undefined when it can (after installing it if needed). */
export async function podmanUnavailableReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'podman tests need Linux'
  if (process.geteuid?.() !== 0) return 'podman tests need root (rootful podman, reading /proc of container processes)'
  if (!(await hasCommand('podman')) || !(await hasCommand('runc')) || !existsSync(BUSYBOX)) {
    try {
      await run('apt-get', ['install', '-y', '-q', ...PACKAGES], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 300_000 })
    } catch (err) {
      return `apt-get install ${PACKAGES.join(' ')} failed: ${(err as Error).message}`
    }
  }
  return undefined
}

async function hasCommand(name: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${name}`])
    return true
  } catch {
    return false
  }
}

/** A running `podman system service` on a private socket, with the busybox image imported. */
export class Podman {
  readonly #service: ChildProcess
  readonly #containers = new Set<string>()

  private constructor(
    /** Temp directory holding containers.conf, the socket and the rootfs tar. */
    readonly dir: string,
    /** Path of the Docker-compatible API socket. */
    readonly socketPath: string,
    /** Environment for podman commands (CONTAINERS_CONF set). */
    readonly env: NodeJS.ProcessEnv,
    service: ChildProcess,
  ) {
    this.#service = service
  }

  /**
   * Installs podman if missing (see {@link podmanUnavailableReason}), writes containers.conf,
   * starts the API service and imports {@link BUSYBOX_IMAGE}.
   * @throws when podman is unavailable or the service does not come up within 20 s.
   */
  static async start(): Promise<Podman> {
    const reason = await podmanUnavailableReason()
    if (reason !== undefined) throw new Error(reason)
    const dir = await mkdtemp(join(tmpdir(), 'steeple-podman-'))
    const confPath = join(dir, 'containers.conf')
    await writeFile(confPath, CONTAINERS_CONF)
    const env = { ...process.env, CONTAINERS_CONF: confPath }
    const socketPath = join(dir, 'podman.sock')
    const service = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    service.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const podman = new Podman(dir, socketPath, env, service)
    try {
      await podman.#importBusybox()
      const deadline = Date.now() + 20_000
      while (!(await ping(socketPath))) {
        if (service.exitCode !== null || Date.now() > deadline) throw new Error(`podman system service did not start:\n${stderr}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    } catch (err) {
      await podman.stop()
      throw err
    }
    return podman
  }

  async #importBusybox(): Promise<void> {
    // The image is the same every time (this machine's busybox): import it once.
    if (await this.podman(['image', 'exists', BUSYBOX_IMAGE]).then(() => true, () => false)) return
    const rootfs = join(this.dir, 'rootfs')
    await mkdir(join(rootfs, 'bin'), { recursive: true })
    await mkdir(join(rootfs, 'tmp'), { mode: 0o1777 })
    await mkdir(join(rootfs, 'run'))
    await copyFile(BUSYBOX, join(rootfs, 'bin', 'busybox'))
    const { stdout } = await run(BUSYBOX, ['--list'])
    for (const applet of stdout.split('\n').filter((a) => a !== '' && a !== 'busybox')) {
      await symlink('busybox', join(rootfs, 'bin', applet))
    }
    // With /usr bind-mounted from the host, these make the host's dynamically linked binaries
    // (node) runnable inside (Debian's /lib and /lib64 are links into /usr).
    await symlink('usr/lib', join(rootfs, 'lib'))
    await symlink('usr/lib64', join(rootfs, 'lib64'))
    const tar = join(this.dir, 'rootfs.tar')
    await run('tar', ['-C', rootfs, '-cf', tar, ...(await readdir(rootfs))])
    await this.podman(['import', '--change', 'ENV PATH=/bin:/usr/bin', tar, BUSYBOX_IMAGE])
  }

  /** Runs `podman <args>` to completion. @throws with its stderr on a non-zero exit. */
  async podman(args: readonly string[], timeoutMs = 60_000): Promise<string> {
    const { stdout } = await run('podman', [...args], { env: this.env, timeout: timeoutMs, maxBuffer: 16 << 20 })
    return stdout
  }

  /**
   * Starts a detached container (`--network none`) and returns its full ID and the host PID of
   * its first process.
   */
  async runDetached(args: readonly string[]): Promise<{ id: string; pid: number }> {
    const id = (await this.podman(['run', '-d', '--network', 'none', ...args])).trim()
    this.#containers.add(id)
    const pid = Number((await this.podman(['inspect', '--format', '{{.State.Pid}}', id])).trim())
    return { id, pid }
  }

  /** Runs a container to completion (`--rm --network none`); its exit code and output. */
  async runToEnd(args: readonly string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn('podman', ['run', '--rm', '--network', 'none', ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    const [code] = (await once(child, 'close')) as [number | null]
    clearTimeout(timer)
    return { code, stdout, stderr }
  }

  /** Removes a container started by {@link runDetached}. */
  async remove(id: string): Promise<void> {
    this.#containers.delete(id)
    await this.podman(['rm', '-f', '-t', '0', id]).catch(() => undefined)
  }

  /** Stops the API service (containers keep running; the podman CLI works without it). */
  async stopService(): Promise<void> {
    if (this.#service.exitCode === null && this.#service.signalCode === null) {
      this.#service.kill('SIGTERM')
      await once(this.#service, 'exit')
    }
  }

  /** Removes the containers still around, stops the service and deletes the temp directory. */
  async stop(): Promise<void> {
    await Promise.all([...this.#containers].map((id) => this.remove(id)))
    await this.stopService()
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** Whether the Engine API on `socketPath` answers `GET /_ping`. */
function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}
