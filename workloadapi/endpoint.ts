import { isIPv4, isIPv6 } from 'node:net'
import { SpiffeError } from '../spiffe/index.js'

/**
 * Workload Endpoint addresses (SPIFFE_Workload_Endpoint.md §4): `unix:///absolute/path` or
 * `tcp://<IP>:<port>`, nothing else.
 *
 * We follow the spec where go-spiffe is lenient: a `unix` URI with an authority (`unix://foo`,
 * `unix://localhost/x`) is refused, as are an empty `?` or `#` and IPv6 without brackets. Messages
 * reuse go-spiffe's wording so the two clients explain a bad `SPIFFE_ENDPOINT_SOCKET` the same way.
 */

/** The environment variable a client reads when it has no configured address (WEP §4). */
export const ENDPOINT_SOCKET_ENV = 'SPIFFE_ENDPOINT_SOCKET'

/** A parsed, valid Workload Endpoint address. */
export type WorkloadEndpointAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }

function addressError(message: string, cause?: unknown): SpiffeError {
  return new SpiffeError('INVALID_ENDPOINT_ADDRESS', `workloadapi: ${message}`, { cause })
}

const SCHEME_CHARS = /^[A-Za-z][A-Za-z0-9+.-]*$/

/**
 * Parses a Workload Endpoint address such as `unix:///run/steeple/agent.sock` (`unix:/abs/path` is
 * accepted too) or `tcp://127.0.0.1:8000`. The scheme is case-insensitive; percent-escapes in a
 * socket path are decoded.
 * @throws SpiffeError `INVALID_ENDPOINT_ADDRESS` naming the broken rule (WEP-08, WEP-09, WEP-10).
 */
export function parseWorkloadEndpointAddress(address: string): WorkloadEndpointAddress {
  // Control characters would end up in a socket path or log line unnoticed.
  if (/[\x00-\x1f\x7f]/.test(address)) {
    throw addressError('workload endpoint socket is not a valid URI: it contains a control character')
  }
  const colon = address.indexOf(':')
  const scheme = colon > 0 ? address.slice(0, colon) : ''
  if (!SCHEME_CHARS.test(scheme)) throw addressError('workload endpoint socket URI must have a "tcp" or "unix" scheme')
  const kind = scheme.toLowerCase()
  if (kind !== 'unix' && kind !== 'tcp') {
    throw addressError('workload endpoint socket URI must have a "tcp" or "unix" scheme')
  }

  let rest = address.slice(colon + 1)
  const hash = rest.indexOf('#')
  const hasFragment = hash >= 0
  if (hasFragment) rest = rest.slice(0, hash)
  const question = rest.indexOf('?')
  const hasQuery = question >= 0
  if (hasQuery) rest = rest.slice(0, question)

  const prefix = `workload endpoint ${kind} socket URI`
  if (rest !== '' && !rest.startsWith('/')) throw addressError(`${prefix} must not be opaque`)
  let authority: string | undefined
  let path = rest
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2)
    authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash)
    path = slash < 0 ? '' : rest.slice(slash)
  }
  if (authority?.includes('@')) throw addressError(`${prefix} must not include user info`)

  if (kind === 'unix') {
    if (hasQuery) throw addressError(`${prefix} must not include query values`)
    if (hasFragment) throw addressError(`${prefix} must not include a fragment`)
    if (authority !== undefined && authority !== '') {
      throw addressError(`${prefix} must not include an authority (use unix:///absolute/path)`)
    }
    if (path === '') throw addressError(`${prefix} must include a path`)
    let decoded: string
    try {
      decoded = decodeURIComponent(path)
    } catch (err) {
      throw addressError(`${prefix} path has an invalid percent-escape`, err)
    }
    if (decoded.includes('\0')) throw addressError(`${prefix} path must not contain a NUL byte`)
    return Object.freeze({ kind: 'unix', path: decoded })
  }

  if (authority === undefined || authority === '') throw addressError(`${prefix} must include a host`)
  if (path !== '') throw addressError(`${prefix} must not include a path`)
  if (hasQuery) throw addressError(`${prefix} must not include query values`)
  if (hasFragment) throw addressError(`${prefix} must not include a fragment`)
  return Object.freeze({ kind: 'tcp', ...parseIpPort(authority, prefix) })
}

function parseIpPort(hostPort: string, prefix: string): { host: string; port: number } {
  let host: string
  let portText: string | undefined
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']')
    host = close < 0 ? '' : hostPort.slice(1, close)
    const after = close < 0 ? '' : hostPort.slice(close + 1)
    if (close < 0 || !(after === '' || after.startsWith(':')) || !isIPv6(host) || host.includes('%')) {
      throw addressError(`${prefix} host component must be an IP:port`)
    }
    portText = after === '' ? undefined : after.slice(1)
  } else {
    const colon = hostPort.lastIndexOf(':')
    host = colon < 0 ? hostPort : hostPort.slice(0, colon)
    portText = colon < 0 ? undefined : hostPort.slice(colon + 1)
    if (isIPv6(hostPort) || isIPv6(host)) {
      throw addressError(`${prefix} host component must put an IPv6 address in brackets`)
    }
    if (!isIPv4(host)) throw addressError(`${prefix} host component must be an IP:port`)
  }
  if (portText === undefined || portText === '') throw addressError(`${prefix} host component must include a port`)
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN
  if (!(port >= 1 && port <= 65535)) throw addressError(`${prefix} port must be a number from 1 to 65535`)
  return { host, port }
}

/**
 * The @grpc/grpc-js target for an address: `unix:///abs/path`, `127.0.0.1:8000`, `ipv6:[::1]:8000`.
 */
export function grpcTarget(address: WorkloadEndpointAddress): string {
  if (address.kind === 'unix') return `unix://${address.path}`
  return isIPv6(address.host) ? `ipv6:[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}

/**
 * The address a Workload API client should use: `explicit` when given (and not empty), else the
 * `SPIFFE_ENDPOINT_SOCKET` environment variable (WEP-07).
 * @throws SpiffeError `INVALID_ENDPOINT_ADDRESS` when neither is set, or the address is invalid.
 */
export function resolveEndpointAddress(
  explicit?: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): WorkloadEndpointAddress {
  if (explicit !== undefined && explicit !== '') return parseWorkloadEndpointAddress(explicit)
  const fromEnv = env[ENDPOINT_SOCKET_ENV]
  if (fromEnv === undefined || fromEnv === '') {
    throw addressError(`workload endpoint socket address is not configured and ${ENDPOINT_SOCKET_ENV} is not set`)
  }
  try {
    return parseWorkloadEndpointAddress(fromEnv)
  } catch (err) {
    throw addressError(`${ENDPOINT_SOCKET_ENV} is invalid: ${(err as Error).message.replace(/^workloadapi: /, '')}`, err)
  }
}
