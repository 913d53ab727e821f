import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { InvalidArgumentError, NotFoundError, SteepleError, InternalError } from '../../common/errors.js'

/**
 * Where a process sits among containers, read from its cgroup paths: the container ID and, for a
 * Kubernetes pod, the pod UID. Shared by the `docker` and `k8s` workload attestors.
 */
export interface CgroupContainerInfo {
  /** 64 lower-case hex digits; undefined when the process is in no container. */
  readonly containerId: string | undefined
  /** The pod UID with dashes (`0b6b…-…`); undefined outside a Kubernetes pod. */
  readonly podUid: string | undefined
  /** The cgroup names a Podman container (`libpod-…`). */
  readonly podman: boolean
  /** The uid of a `user-<uid>.slice` in the container's path (rootless Podman); undefined when none. */
  readonly userSliceUid: number | undefined
}

const HEX64 = '[0-9a-f]{64}'
// The last path segment naming a container, as runtimes lay them out:
//   /docker/<id>                                     Docker, cgroupfs driver (v1 and v2)
//   /system.slice/docker-<id>.scope                   Docker, systemd driver
//   /libpod_parent/libpod-<id>, …/libpod-<id>.scope   Podman (cgroupfs, systemd)
//   /kubepods/burstable/pod<uid>/<id>                 kubelet cgroupfs driver (containerd, CRI-O, Docker)
//   …/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope, crio-<id>.scope, docker-<id>.scope
const CONTAINER_SEGMENT = new RegExp(`^(?:(?:docker|libpod|cri-containerd|containerd|crio|cri-o|nerdctl)-)?(${HEX64})(?:\\.scope)?$`)
// The conmon monitor of a Podman or CRI-O container sits in a cgroup of its own that carries the
// container's ID; it is not the container and must not be described as one.
const CONMON_SEGMENT = new RegExp(`^(?:libpod|crio)-conmon-${HEX64}(?:\\.scope)?$`)
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
const UUID_UNDERSCORED = '[0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12}'
// cgroupfs driver: `pod<uid>`; systemd driver: `kubepods-pod<uid>.slice` or
// `kubepods-<qos>-pod<uid>.slice` with the UID's dashes turned into underscores.
const POD_SEGMENT = new RegExp(`^(?:pod(${UUID})|kubepods(?:-[a-z]+)?-pod(${UUID_UNDERSCORED})\\.slice)$`)
const USER_SLICE = /^user-(\d+)\.slice$/

interface PathInfo {
  readonly containerId: string | undefined
  readonly podUid: string | undefined
  readonly podman: boolean
  readonly userSliceUid: number | undefined
}

/** What one cgroup path says; no container for a conmon cgroup or a path without an ID segment. */
export function containerInfoFromCgroupPath(path: string): PathInfo {
  const segments = path.split('/').filter((s) => s !== '')
  let index = -1
  let containerId: string | undefined
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i]!
    if (CONMON_SEGMENT.test(segment)) break
    const match = CONTAINER_SEGMENT.exec(segment)
    if (match !== null) {
      index = i
      containerId = match[1]
      break
    }
  }
  if (containerId === undefined) return { containerId: undefined, podUid: undefined, podman: false, userSliceUid: undefined }
  let podUid: string | undefined
  let userSliceUid: number | undefined
  let podman = segments[index]!.startsWith('libpod-')
  for (const segment of segments.slice(0, index)) {
    const pod = POD_SEGMENT.exec(segment)
    if (pod !== null) podUid = pod[1] ?? pod[2]!.replaceAll('_', '-')
    const user = USER_SLICE.exec(segment)
    if (user !== null) userSliceUid = Number(user[1])
    if (segment.startsWith('libpod')) podman = true
  }
  return { containerId, podUid, podman, userSliceUid }
}

/**
 * Reads the text of /proc/<pid>/cgroup (`hierarchy:controllers:path` lines, cgroup v1, v2 or
 * both) into one {@link CgroupContainerInfo}. Lines that name no container (a v1 hierarchy the
 * runtime did not place the process in) are passed over.
 * @throws InternalError when two lines name different containers or pods.
 */
export function parseCgroupContainerInfo(text: string, pid: number): CgroupContainerInfo {
  let found: PathInfo | undefined
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    // The path is everything after the second colon; it may itself contain colons.
    const first = line.indexOf(':')
    const second = first < 0 ? -1 : line.indexOf(':', first + 1)
    if (second < 0) throw internal(`cgroup of process ${pid} has a malformed line`)
    const info = containerInfoFromCgroupPath(line.slice(second + 1))
    if (info.containerId === undefined) continue
    if (found === undefined) {
      found = info
    } else if (found.containerId !== info.containerId) {
      throw internal(`cgroups of process ${pid} name more than one container`)
    } else if (info.podUid !== undefined && found.podUid !== undefined && info.podUid !== found.podUid) {
      throw internal(`cgroups of process ${pid} name more than one pod`)
    } else if (found.podUid === undefined && info.podUid !== undefined) {
      found = info
    }
  }
  return found ?? { containerId: undefined, podUid: undefined, podman: false, userSliceUid: undefined }
}

/** Reads a text file; tests pass one over a fake /proc. */
export type ReadText = (path: string) => Promise<string>

/**
 * Reads with node:fs, synchronously: a cgroup file is read in microseconds, while the async form
 * waits for a slot in libuv's small thread pool, which many callers arriving at once fill.
 */
export const readTextFile: ReadText = async (path) => readFileSync(path, 'utf8')

/**
 * The container facts of process `pid`, from `<procRoot>/<pid>/cgroup`.
 * @throws InvalidArgumentError for a pid that is not a positive integer; NotFoundError when the
 *   process is not running; InternalError when the file cannot be read or is ambiguous.
 */
export async function readCgroupContainerInfo(pid: number, procRoot = '/proc', read: ReadText = readTextFile): Promise<CgroupContainerInfo> {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new InvalidArgumentError(`pid must be a positive integer, not ${pid}`)
  let text: string
  try {
    text = await read(join(procRoot, String(pid), 'cgroup'))
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code
    if (code === 'ENOENT' || code === 'ESRCH') throw new NotFoundError(`process ${pid} is not running`, { cause: err })
    throw internal(`cannot read the cgroup of process ${pid}`, err)
  }
  return parseCgroupContainerInfo(text, pid)
}

function internal(message: string, cause?: unknown): SteepleError {
  return new InternalError(message, cause === undefined ? undefined : { cause })
}
