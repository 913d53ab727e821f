import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  ENDPOINT_SOCKET_ENV,
  grpcTarget,
  parseWorkloadEndpointAddress,
  resolveEndpointAddress,
  type WorkloadEndpointAddress,
} from './endpoint.js'
import { SpiffeError } from '../spiffe/index.js'
import { thrown as caught } from '../spiffe/testdata/thrown.js'

interface AcceptedAddress {
  address: string
  go_spiffe_grpc_target: string
}
interface Vectors {
  spec_vs_go_spiffe: { kind: 'spiffe_id' | 'workload_endpoint_address'; input?: string; steeple: string }[]
  workload_endpoint_addresses: {
    valid: AcceptedAddress[]
    invalid: { address: string; go_spiffe_error: string }[]
    spec_invalid_but_go_spiffe_accepts: AcceptedAddress[]
    lenient: AcceptedAddress[]
  }
}

const vectors = JSON.parse(readFileSync(new URL('../test/data/vectors/spiffe-ids.json', import.meta.url), 'utf8')) as Vectors
const addresses = vectors.workload_endpoint_addresses


/** WEP-09 for unix addresses, WEP-10 for tcp, WEP-08 for everything else. */
function tagFor(address: string): string {
  if (/^unix:/i.test(address)) return 'WEP-08, WEP-09'
  if (/^tcp:/i.test(address)) return 'WEP-08, WEP-10'
  return 'WEP-08'
}

/** grpc-js and go-spiffe spell TCP targets differently for IPv6; both name the same socket. */
function expectedGrpcTarget(goTarget: string): string {
  if (goTarget.startsWith('unix:/') && !goTarget.startsWith('unix://')) return `unix://${goTarget.slice('unix:'.length)}`
  return goTarget.startsWith('[') ? `ipv6:${goTarget}` : goTarget
}

describe('workload_endpoint_addresses vectors', () => {
  it.each(addresses.valid.map((c) => [`${tagFor(c.address)}: accepts ${c.address}`, c] as const))(
    '%s',
    (_title, c) => {
      const parsed = parseWorkloadEndpointAddress(c.address)
      expect(grpcTarget(parsed)).toBe(expectedGrpcTarget(c.go_spiffe_grpc_target))
      expect(Object.isFrozen(parsed)).toBe(true)
    },
  )

  it.each(addresses.lenient.map((c) => [`WEP-08: accepts ${c.address} (scheme is case-insensitive)`, c] as const))(
    '%s',
    (_title, c) => {
      expect(grpcTarget(parseWorkloadEndpointAddress(c.address))).toBe(c.go_spiffe_grpc_target)
    },
  )

  it.each(
    addresses.invalid.map((c) => [`${tagFor(c.address)}: rejects ${JSON.stringify(c.address)}`, c] as const),
  )('%s', (_title, c) => {
    const err = caught(() => parseWorkloadEndpointAddress(c.address))
    expect(err.code).toBe('INVALID_ENDPOINT_ADDRESS')
    const rule = err.message.replace(/^workloadapi: /, '')
    expect(err.message).toBe(`workloadapi: ${rule}`)
    // go-spiffe appends Go's URL parser error to this one; the rule itself is the same.
    const goRule = c.go_spiffe_error.replace(/: parse .*$/, '')
    if (goRule === c.go_spiffe_error) expect(rule).toBe(goRule)
    else expect(rule.startsWith(`${goRule}:`)).toBe(true)
  })

  it.each(
    addresses.spec_invalid_but_go_spiffe_accepts.map(
      (c) => [`WEP-09: rejects ${c.address} (go-spiffe accepts it, the spec does not)`, c] as const,
    ),
  )('%s', (_title, c) => {
    const err = caught(() => parseWorkloadEndpointAddress(c.address))
    expect(err.code).toBe('INVALID_ENDPOINT_ADDRESS')
    expect(err.message).toBe(
      'workloadapi: workload endpoint unix socket URI must not include an authority (use unix:///absolute/path)',
    )
  })
})

describe('spec_vs_go_spiffe vectors (we follow the steeple column)', () => {
  const cases = vectors.spec_vs_go_spiffe
    .filter((c) => c.kind === 'workload_endpoint_address')
    .map((c) => [`WEP-09: ${JSON.stringify(c.input)} → ${c.steeple}`, c] as const)

  it.each(cases)('%s', (_title, c) => {
    expect(c.steeple).toBe('reject')
    expect(() => parseWorkloadEndpointAddress(c.input!)).toThrow(SpiffeError)
  })
})

describe('parseWorkloadEndpointAddress beyond the vectors', () => {
  const accepted: [string, WorkloadEndpointAddress, string][] = [
    ['unix:///run/steeple/agent.sock', { kind: 'unix', path: '/run/steeple/agent.sock' }, 'unix:///run/steeple/agent.sock'],
    ['unix:/tmp/a%20b.sock', { kind: 'unix', path: '/tmp/a b.sock' }, 'unix:///tmp/a b.sock'],
    ['tcp://[2001:db8::7]:443', { kind: 'tcp', host: '2001:db8::7', port: 443 }, 'ipv6:[2001:db8::7]:443'],
    ['tcp://10.0.0.1:65535', { kind: 'tcp', host: '10.0.0.1', port: 65535 }, '10.0.0.1:65535'],
    ['TCP://127.0.0.1:1', { kind: 'tcp', host: '127.0.0.1', port: 1 }, '127.0.0.1:1'],
  ]
  it.each(accepted)('WEP-08: accepts %s', (address, parsed, target) => {
    expect(parseWorkloadEndpointAddress(address)).toEqual(parsed)
    expect(grpcTarget(parsed)).toBe(target)
  })

  const rejected: [string, string][] = [
    ['', 'workload endpoint socket URI must have a "tcp" or "unix" scheme'],
    [':foo', 'workload endpoint socket URI must have a "tcp" or "unix" scheme'],
    ['unix:///tmp/agent.sock#', 'workload endpoint unix socket URI must not include a fragment'],
    ['unix:///tmp/agent.sock?', 'workload endpoint unix socket URI must not include query values'],
    ['unix:///tmp/%zz.sock', 'workload endpoint unix socket URI path has an invalid percent-escape'],
    ['unix:///tmp/%00.sock', 'workload endpoint unix socket URI path must not contain a NUL byte'],
    ['unix:', 'workload endpoint unix socket URI must include a path'],
    ['tcp://::1:8000', 'workload endpoint tcp socket URI host component must put an IPv6 address in brackets'],
    ['tcp://[::1]', 'workload endpoint tcp socket URI host component must include a port'],
    ['tcp://[127.0.0.1]:80', 'workload endpoint tcp socket URI host component must be an IP:port'],
    ['tcp://[fe80::1%25eth0]:80', 'workload endpoint tcp socket URI host component must be an IP:port'],
    ['tcp://[::1]x:80', 'workload endpoint tcp socket URI host component must be an IP:port'],
    ['tcp://[::1:80', 'workload endpoint tcp socket URI host component must be an IP:port'],
    ['tcp://127.0.0.01:80', 'workload endpoint tcp socket URI host component must be an IP:port'],
    ['tcp://127.0.0.1:', 'workload endpoint tcp socket URI host component must include a port'],
    ['tcp://127.0.0.1:0', 'workload endpoint tcp socket URI port must be a number from 1 to 65535'],
    ['tcp://127.0.0.1:65536', 'workload endpoint tcp socket URI port must be a number from 1 to 65535'],
    ['tcp://127.0.0.1:http', 'workload endpoint tcp socket URI port must be a number from 1 to 65535'],
    ['tcp://127.0.0.1:8000?', 'workload endpoint tcp socket URI must not include query values'],
  ]
  it.each(rejected)('WEP-08, WEP-09, WEP-10: rejects %j', (address, rule) => {
    const err = caught(() => parseWorkloadEndpointAddress(address))
    expect(err.code).toBe('INVALID_ENDPOINT_ADDRESS')
    expect(err.message).toBe(`workloadapi: ${rule}`)
  })
})

describe('resolveEndpointAddress', () => {
  it('WEP-07: uses SPIFFE_ENDPOINT_SOCKET when no address is given', () => {
    const env = { [ENDPOINT_SOCKET_ENV]: 'unix:///run/spire/sockets/agent.sock' }
    expect(resolveEndpointAddress(undefined, env)).toEqual({ kind: 'unix', path: '/run/spire/sockets/agent.sock' })
    expect(resolveEndpointAddress('', env)).toEqual({ kind: 'unix', path: '/run/spire/sockets/agent.sock' })
  })

  it('WEP-07: an explicit address wins over the environment', () => {
    const env = { [ENDPOINT_SOCKET_ENV]: 'unix:///run/spire/sockets/agent.sock' }
    expect(resolveEndpointAddress('tcp://127.0.0.1:8000', env)).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 8000 })
  })

  it('WEP-07: fails clearly when neither is set', () => {
    for (const env of [{}, { [ENDPOINT_SOCKET_ENV]: '' }]) {
      const err = caught(() => resolveEndpointAddress(undefined, env))
      expect(err.code).toBe('INVALID_ENDPOINT_ADDRESS')
      expect(err.message).toBe(
        'workloadapi: workload endpoint socket address is not configured and SPIFFE_ENDPOINT_SOCKET is not set',
      )
    }
  })

  it('WEP-07, WEP-09: names the variable when its value is invalid', () => {
    const err = caught(() => resolveEndpointAddress(undefined, { [ENDPOINT_SOCKET_ENV]: 'unix://foo' }))
    expect(err.code).toBe('INVALID_ENDPOINT_ADDRESS')
    expect(err.message).toBe(
      'workloadapi: SPIFFE_ENDPOINT_SOCKET is invalid: workload endpoint unix socket URI must not include an authority (use unix:///absolute/path)',
    )
    expect(err.cause).toBeInstanceOf(SpiffeError)
  })

  it('WEP-07: an invalid explicit address is reported as is', () => {
    const err = caught(() => resolveEndpointAddress('blah', {}))
    expect(err.message).toBe('workloadapi: workload endpoint socket URI must have a "tcp" or "unix" scheme')
  })

  it('WEP-07: reads process.env by default', () => {
    const saved = process.env[ENDPOINT_SOCKET_ENV]
    process.env[ENDPOINT_SOCKET_ENV] = 'unix:///tmp/from-process-env.sock'
    try {
      expect(resolveEndpointAddress()).toEqual({ kind: 'unix', path: '/tmp/from-process-env.sock' })
    } finally {
      if (saved === undefined) delete process.env[ENDPOINT_SOCKET_ENV]
      else process.env[ENDPOINT_SOCKET_ENV] = saved
    }
  })
})
