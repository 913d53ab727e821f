import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, NotFoundError, SteepleError } from '../../common/errors.js'
import { containerInfoFromCgroupPath, parseCgroupContainerInfo, readCgroupContainerInfo } from './container-id.js'

const ID = '15ecf1888953f8795a037416c8c63b41afb06aa09516878a7e4eed6665a3cb8b'
const ID2 = 'a'.repeat(64)
const POD = '2c48913c-b29f-11e7-9350-020968147796'
const POD_ = POD.replaceAll('-', '_')

describe('container ID and pod UID from one cgroup path', () => {
  it.each([
    ['Docker, cgroupfs driver', `/docker/${ID}`, ID, undefined, false, undefined],
    ['Docker, systemd driver', `/system.slice/docker-${ID}.scope`, ID, undefined, false, undefined],
    ['Podman, cgroupfs (as measured here)', `/libpod_parent/libpod-${ID}`, ID, undefined, true, undefined],
    ['Podman, systemd, rootful', `/machine.slice/libpod-${ID}.scope`, ID, undefined, true, undefined],
    ['Podman, systemd, rootless', `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`, ID, undefined, true, 1000],
    ['Podman, a sub-cgroup inside the container', `/machine.slice/libpod-${ID}.scope/container`, ID, undefined, true, undefined],
    ['kubelet cgroupfs (containerd, CRI-O)', `/kubepods/burstable/pod${POD}/${ID}`, ID, POD, false, undefined],
    ['kubelet cgroupfs, guaranteed QoS', `/kubepods/pod${POD}/${ID}`, ID, POD, false, undefined],
    ['kubelet systemd, containerd', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/cri-containerd-${ID}.scope`, ID, POD, false, undefined],
    ['kubelet systemd, CRI-O', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-${ID}.scope`, ID, POD, false, undefined],
    ['kubelet systemd, guaranteed, Docker', `/kubepods.slice/kubepods-pod${POD_}.slice/docker-${ID}.scope`, ID, POD, false, undefined],
    ['Docker in Docker: the innermost container', `/docker/${ID2}/docker/${ID}`, ID, undefined, false, undefined],
  ])('%s', (_name, path, containerId, podUid, podman, userSliceUid) => {
    expect(containerInfoFromCgroupPath(path)).toEqual({ containerId, podUid, podman, userSliceUid })
  })

  it.each([
    ['the root cgroup', '/'],
    ['a systemd service', '/system.slice/ssh.service'],
    ['a user session', '/user.slice/user-1000.slice/session-3.scope'],
    ['a 32-hex directory (not a container ID)', '/process_api/22c87a1a8c41c7fdc20d332878631aec'],
    ['Podman conmon', `/machine.slice/libpod-conmon-${ID}.scope`],
    ['CRI-O conmon', `/kubepods.slice/kubepods-pod${POD_}.slice/crio-conmon-${ID}.scope`],
    ['an ID with upper-case hex', `/docker/${ID.toUpperCase()}`],
    ['an ID one digit short', `/docker/${ID.slice(1)}`],
    ['an ID inside a longer name', `/docker/x${ID}`],
    ['a pod without a container (the pod sandbox parent)', `/kubepods/burstable/pod${POD}`],
  ])('no container: %s', (_name, path) => {
    expect(containerInfoFromCgroupPath(path).containerId).toBeUndefined()
  })
})

describe('container info from /proc/<pid>/cgroup', () => {
  it('reads a cgroup v1 file of a Podman container (all hierarchies agree)', () => {
    const text = ['9:name=systemd:/libpod_parent/libpod-' + ID, '4:memory:/libpod_parent/libpod-' + ID, '0::/libpod_parent/libpod-' + ID, ''].join('\n')
    expect(parseCgroupContainerInfo(text, 7)).toEqual({ containerId: ID, podUid: undefined, podman: true, userSliceUid: undefined })
  })

  it('reads a cgroup v2 file (one line)', () => {
    const text = `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/cri-containerd-${ID}.scope\n`
    expect(parseCgroupContainerInfo(text, 7)).toMatchObject({ containerId: ID, podUid: POD })
  })

  it('passes over hierarchies that name no container', () => {
    const text = `9:name=systemd:/\n4:memory:/docker/${ID}\n1:cpu:/\n0::/\n`
    expect(parseCgroupContainerInfo(text, 7).containerId).toBe(ID)
  })

  it('gives no container for a process outside containers', () => {
    expect(parseCgroupContainerInfo('9:name=systemd:/\n4:memory:/process_api/22c87a1a8c41c7fdc20d332878631aec\n0::/\n', 7)).toEqual({
      containerId: undefined,
      podUid: undefined,
      podman: false,
      userSliceUid: undefined,
    })
  })

  it('keeps a path with colons whole', () => {
    expect(parseCgroupContainerInfo(`1:name=a:b:/docker/${ID}\n`, 7).containerId).toBe(ID)
  })

  it.each([
    ['two containers', `4:memory:/docker/${ID}\n0::/docker/${ID2}\n`, 'cgroups of process 7 name more than one container'],
    ['two pods', `4:memory:/kubepods/pod${POD}/${ID}\n0::/kubepods/pod${POD.replace('2c', '3d')}/${ID}\n`, 'cgroups of process 7 name more than one pod'],
    ['a line without colons', 'garbage\n', 'cgroup of process 7 has a malformed line'],
  ])('fails on %s', (_name, text, message) => {
    const err = (() => {
      try {
        parseCgroupContainerInfo(text, 7)
        return undefined
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(SteepleError)
    expect((err as SteepleError).code).toBe('INTERNAL')
    expect((err as Error).message).toBe(message)
  })

  it('this test process is in no container', async () => {
    expect((await readCgroupContainerInfo(process.pid)).containerId).toBeUndefined()
  })

  it('a PID with no process is NOT_FOUND; a non-PID is INVALID_ARGUMENT', async () => {
    const missing = (Object.assign(new Error('gone'), { code: 'ENOENT' }))
    await expect(readCgroupContainerInfo(4242, '/proc', async () => Promise.reject(missing))).rejects.toThrow(NotFoundError)
    await expect(readCgroupContainerInfo(-1)).rejects.toThrow(InvalidArgumentError)
  })
})
