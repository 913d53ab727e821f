import { SpiffeError } from './errors.js'

/**
 * SPIFFE IDs and trust domain names (SPIFFE-ID.md §2).
 *
 * Parsing follows go-spiffe's `spiffeid` package byte for byte (same verdicts, same messages), so
 * that an ID we accept is accepted by every go-spiffe workload and vice versa. The spec's length
 * limits are not parse rules (go-spiffe accepts longer IDs); issuers check them with
 * {@link assertIssuableId} before they create anything.
 */

const SCHEME_PREFIX = 'spiffe://'

/** Longest SPIFFE ID we create, in bytes (SPIFFE-ID.md §2.3). */
export const MAX_SPIFFE_ID_BYTES = 2048
/** Longest trust domain name, in bytes (SPIFFE-ID.md §2.3). */
export const MAX_TRUST_DOMAIN_BYTES = 255

const MESSAGES = {
  empty: 'cannot be empty',
  scheme: 'scheme is missing or invalid',
  missingTrustDomain: 'trust domain is missing',
  trustDomainChar:
    'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores',
  pathChar: 'path segment characters are limited to letters, numbers, dots, dashes, and underscores',
  emptySegment: 'path cannot contain empty segments',
  dotSegment: 'path cannot contain dot segments',
  noLeadingSlash: 'path must have a leading slash',
  trailingSlash: 'path cannot have a trailing slash',
} as const

function idError(message: string): SpiffeError {
  return new SpiffeError('INVALID_SPIFFE_ID', `spiffeid: ${message}`)
}

function isTrustDomainChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2e || // .
    c === 0x2d || // -
    c === 0x5f // _
  )
}

function isPathChar(c: number): boolean {
  return isTrustDomainChar(c) || (c >= 0x41 && c <= 0x5a) // plus A-Z
}

/** Returns the broken rule for `path`, or undefined when it is a valid (possibly empty) path. */
function pathProblem(path: string): string | undefined {
  if (path === '') return undefined
  if (path.charCodeAt(0) !== 0x2f) return MESSAGES.noLeadingSlash
  let segmentStart = 0
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    if (c === 0x2f) {
      const segment = path.slice(segmentStart, i)
      if (segment === '/') return MESSAGES.emptySegment
      if (segment === '/.' || segment === '/..') return MESSAGES.dotSegment
      segmentStart = i
      continue
    }
    if (!isPathChar(c)) return MESSAGES.pathChar
  }
  const last = path.slice(segmentStart)
  if (last === '/') return MESSAGES.trailingSlash
  if (last === '/.' || last === '/..') return MESSAGES.dotSegment
  return undefined
}

/** Returns the broken rule for one path segment (no slashes), or undefined when it is valid. */
function segmentProblem(segment: string): string | undefined {
  // Checked on its own, not as the path '/' + segment: an empty segment would then read as a
  // trailing slash, and go-spiffe reports it as an empty segment.
  if (segment === '') return MESSAGES.emptySegment
  if (segment === '.' || segment === '..') return MESSAGES.dotSegment
  for (let i = 0; i < segment.length; i++) {
    if (!isPathChar(segment.charCodeAt(i))) return MESSAGES.pathChar
  }
  return undefined
}

// Only the parse functions below may build these values, so holding one means it is valid.
const CONSTRUCT = Symbol('construct')

/** A trust domain name (`example.org`). Compare with {@link TrustDomain.equals}. */
export class TrustDomain {
  readonly #name: string

  /** @internal use {@link parseTrustDomain} */
  constructor(token: symbol, name: string) {
    if (token !== CONSTRUCT) throw new TypeError('use parseTrustDomain() to create a TrustDomain')
    this.#name = name
  }

  /** The bare name, e.g. `example.org`. */
  get name(): string {
    return this.#name
  }

  /** The trust domain's own SPIFFE ID, `spiffe://<name>` (the CA's ID and the Workload API map key). */
  get id(): SpiffeId {
    return new SpiffeId(CONSTRUCT, this, '')
  }

  /** `spiffe://<name>`, the form used as key of Workload API bundle maps. */
  idString(): string {
    return SCHEME_PREFIX + this.#name
  }

  equals(other: TrustDomain): boolean {
    return this.#name === other.#name
  }

  toString(): string {
    return this.#name
  }

  toJSON(): string {
    return this.#name
  }
}

/** A parsed, valid SPIFFE ID. */
export class SpiffeId {
  readonly #trustDomain: TrustDomain
  readonly #path: string

  /** @internal use {@link parseSpiffeId} */
  constructor(token: symbol, trustDomain: TrustDomain, path: string) {
    if (token !== CONSTRUCT) throw new TypeError('use parseSpiffeId() to create a SpiffeId')
    this.#trustDomain = trustDomain
    this.#path = path
  }

  get trustDomain(): TrustDomain {
    return this.#trustDomain
  }

  /** The path, `''` for the trust domain's root ID, else starting with `/`. */
  get path(): string {
    return this.#path
  }

  /** True for `spiffe://<td>` (no path): valid for a CA, never for a leaf SVID. */
  get isRoot(): boolean {
    return this.#path === ''
  }

  memberOf(trustDomain: TrustDomain): boolean {
    return this.#trustDomain.equals(trustDomain)
  }

  /** Paths compare byte-exact; trust domains are lowercase by construction (SPIFFE-ID.md §2.4). */
  equals(other: SpiffeId): boolean {
    return this.#path === other.#path && this.#trustDomain.equals(other.#trustDomain)
  }

  toString(): string {
    return SCHEME_PREFIX + this.#trustDomain.name + this.#path
  }

  toJSON(): string {
    return this.toString()
  }
}

/**
 * Parses `spiffe://<trust-domain>[/<path>]`.
 * @throws SpiffeError `INVALID_SPIFFE_ID` naming the broken rule.
 */
export function parseSpiffeId(s: string): SpiffeId {
  if (s === '') throw idError(MESSAGES.empty)
  if (!s.startsWith(SCHEME_PREFIX)) throw idError(MESSAGES.scheme)
  const rest = s.slice(SCHEME_PREFIX.length)
  let i = 0
  for (; i < rest.length; i++) {
    const c = rest.charCodeAt(i)
    if (c === 0x2f) break
    if (!isTrustDomainChar(c)) throw idError(MESSAGES.trustDomainChar)
  }
  if (i === 0) throw idError(MESSAGES.missingTrustDomain)
  const path = rest.slice(i)
  const problem = pathProblem(path)
  if (problem !== undefined) throw idError(problem)
  return new SpiffeId(CONSTRUCT, new TrustDomain(CONSTRUCT, rest.slice(0, i)), path)
}

/**
 * Parses a trust domain from a bare name (`example.org`) or from any SPIFFE ID in it
 * (`spiffe://example.org/x`), as go-spiffe's `TrustDomainFromString` does; the latter is how
 * Workload API map keys are read.
 * @throws SpiffeError `INVALID_TRUST_DOMAIN` naming the broken rule.
 */
export function parseTrustDomain(nameOrId: string): TrustDomain {
  if (nameOrId === '') {
    throw new SpiffeError('INVALID_TRUST_DOMAIN', `spiffeid: ${MESSAGES.missingTrustDomain}`)
  }
  if (nameOrId.includes(':/')) {
    try {
      return parseSpiffeId(nameOrId).trustDomain
    } catch (err) {
      throw new SpiffeError('INVALID_TRUST_DOMAIN', (err as Error).message, { cause: err })
    }
  }
  for (let i = 0; i < nameOrId.length; i++) {
    if (!isTrustDomainChar(nameOrId.charCodeAt(i))) {
      throw new SpiffeError('INVALID_TRUST_DOMAIN', `spiffeid: ${MESSAGES.trustDomainChar}`)
    }
  }
  return new TrustDomain(CONSTRUCT, nameOrId)
}

/**
 * Validates a path on its own (`''` or `/a/b`).
 * @throws SpiffeError `INVALID_PATH` naming the broken rule.
 */
export function validatePath(path: string): void {
  const problem = pathProblem(path)
  if (problem !== undefined) throw new SpiffeError('INVALID_PATH', `spiffeid: ${problem}`)
}

/**
 * Builds the ID `spiffe://<td><path>` from a trust domain and a path such as `/ns/web`.
 * @throws SpiffeError `INVALID_PATH` naming the broken rule.
 */
export function spiffeIdFromPath(trustDomain: TrustDomain, path: string): SpiffeId {
  validatePath(path)
  return new SpiffeId(CONSTRUCT, trustDomain, path)
}

/**
 * Builds an ID from path segments (`['steeple', 'agent', 'x']` → `/steeple/agent/x`). Each segment
 * must be non-empty, not `.`/`..`, and use path characters only.
 * @throws SpiffeError `INVALID_PATH` naming the broken rule.
 */
export function spiffeIdFromSegments(trustDomain: TrustDomain, ...segments: string[]): SpiffeId {
  for (const segment of segments) {
    const problem = segmentProblem(segment)
    if (problem !== undefined) throw new SpiffeError('INVALID_PATH', `spiffeid: ${problem}`)
  }
  return new SpiffeId(CONSTRUCT, trustDomain, segments.map((s) => '/' + s).join(''))
}

/**
 * Rules an issuer adds on top of parsing before it creates an ID (SPIFFE-ID.md §2.3; Go's
 * `crypto/x509` needs DNS-like trust domain labels): at most 2048 bytes, a trust domain of at most
 * 255 bytes without empty labels.
 * @throws SpiffeError `INVALID_SPIFFE_ID` naming the broken rule.
 */
export function assertIssuableId(id: SpiffeId): void {
  assertIssuableTrustDomain(id.trustDomain)
  if (Buffer.byteLength(id.toString()) > MAX_SPIFFE_ID_BYTES) {
    throw idError(`must not be longer than ${MAX_SPIFFE_ID_BYTES} bytes`)
  }
}

/**
 * The trust-domain half of {@link assertIssuableId}.
 * @throws SpiffeError `INVALID_TRUST_DOMAIN` naming the broken rule.
 */
export function assertIssuableTrustDomain(td: TrustDomain): void {
  const name = td.name
  if (name.length > MAX_TRUST_DOMAIN_BYTES) {
    throw new SpiffeError(
      'INVALID_TRUST_DOMAIN',
      `spiffeid: trust domain must not be longer than ${MAX_TRUST_DOMAIN_BYTES} bytes`,
    )
  }
  if (name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
    throw new SpiffeError(
      'INVALID_TRUST_DOMAIN',
      'spiffeid: trust domain labels must not be empty (no leading, trailing or repeated dots)',
    )
  }
}

/**
 * Rule for the ID of a leaf SVID (X.509 URI SAN, JWT `sub`) and of a registration entry: it must
 * name a workload, not the trust domain itself (X509-SVID.md §3.1; go-spiffe refuses such leaves).
 * @throws SpiffeError `INVALID_SPIFFE_ID` when the path is empty.
 */
export function assertLeafId(id: SpiffeId): void {
  if (id.isRoot) throw idError('leaf SPIFFE ID must have a non-root path')
}

/**
 * Rule for the ID a signing (CA) certificate may carry: the trust domain's own ID, without a path
 * (X509-SVID.md §3.2, SPIFFE-ID.md §3.1).
 * @throws SpiffeError `INVALID_SPIFFE_ID` when the ID has a path.
 */
export function assertSigningAuthorityId(id: SpiffeId): void {
  if (!id.isRoot) throw idError('signing authority SPIFFE ID must not have a path')
}
