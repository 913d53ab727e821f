import { describe, expect, it } from 'vitest'
import { parseWorkloadEndpointAddress } from '../../workloadapi/index.js'
import { DEFAULT_SOCKET_PATH, endpointAddress } from './output.js'

describe('endpointAddress', () => {
  it.each([
    ['a relative --socket-path, resolved against the working directory', 'run/api.sock', {}, 'unix:///srv/app/run/api.sock'],
    ['an absolute --socket-path', '/run/steeple/api.sock', {}, 'unix:///run/steeple/api.sock'],
    ['a unix:// address, as given', 'unix:///run/x.sock', {}, 'unix:///run/x.sock'],
    ['a tcp:// address, as given', 'tcp://127.0.0.1:8000', {}, 'tcp://127.0.0.1:8000'],
    ['the flag over SPIFFE_ENDPOINT_SOCKET', '/a.sock', { SPIFFE_ENDPOINT_SOCKET: 'unix:///b.sock' }, 'unix:///a.sock'],
  ] as const)('%s', (_name, flag, env, expected) => {
    expect(endpointAddress(flag, env, '/srv/app')).toBe(expected)
  })

  it('WEP-07: without the flag, SPIFFE_ENDPOINT_SOCKET', () => {
    expect(endpointAddress(undefined, { SPIFFE_ENDPOINT_SOCKET: 'unix:///run/agent.sock' }, '/srv/app')).toBe('unix:///run/agent.sock')
  })

  it('without flag or variable, the agent\'s default socket under the working directory', () => {
    expect(DEFAULT_SOCKET_PATH).toBe('./.steeple/agent/api.sock')
    expect(endpointAddress(undefined, { SPIFFE_ENDPOINT_SOCKET: '' }, '/srv/app')).toBe('unix:///srv/app/.steeple/agent/api.sock')
  })

  it('escapes path characters a URI would read otherwise, so the path comes back unchanged', () => {
    const address = endpointAddress('/tmp/100% sure?#/api.sock', {}, '/')
    expect(parseWorkloadEndpointAddress(address)).toEqual({ kind: 'unix', path: '/tmp/100% sure?#/api.sock' })
  })
})
