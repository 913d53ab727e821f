import type { KeyObject } from 'node:crypto'
import { SpiffeError } from './errors.js'
import type { TrustDomain } from './id.js'

/** A JWT-SVID signing key as published in a bundle (JWT-SVID.md §6.1: always with a `kid`). */
export interface JwtAuthority {
  readonly kid: string
  readonly publicKey: KeyObject
}

export interface BundleInit {
  /** DER X.509 CA certificates (X.509-SVID authorities), in publication order. */
  x509Authorities?: readonly Uint8Array[]
  jwtAuthorities?: readonly JwtAuthority[]
  /** `spiffe_sequence`: grows with every content change (SPIFFE_Trust_Domain_and_Bundle.md §4.1.1). */
  sequenceNumber?: bigint
  /** `spiffe_refresh_hint` in whole seconds. */
  refreshHintSeconds?: number
}

/**
 * The trust material of one trust domain: X.509 authorities and JWT authorities. A bundle never
 * names its trust domain on the wire, so it is always held together with one (BUN-11).
 * Immutable: "changing" a bundle makes a new one.
 */
export class Bundle {
  readonly trustDomain: TrustDomain
  readonly x509Authorities: readonly Uint8Array[]
  readonly jwtAuthorities: ReadonlyMap<string, JwtAuthority>
  readonly sequenceNumber: bigint | undefined
  readonly refreshHintSeconds: number | undefined

  constructor(trustDomain: TrustDomain, init: BundleInit = {}) {
    this.trustDomain = trustDomain
    this.x509Authorities = Object.freeze([...(init.x509Authorities ?? [])])
    const jwt = new Map<string, JwtAuthority>()
    for (const authority of init.jwtAuthorities ?? []) {
      if (authority.kid === '') {
        throw new SpiffeError('INVALID_BUNDLE', 'bundle: JWT authority key ID must not be empty')
      }
      if (jwt.has(authority.kid)) {
        throw new SpiffeError('INVALID_BUNDLE', `bundle: duplicate JWT authority key ID ${JSON.stringify(authority.kid)}`)
      }
      jwt.set(authority.kid, authority)
    }
    this.jwtAuthorities = jwt
    if (init.sequenceNumber !== undefined && init.sequenceNumber < 0n) {
      throw new SpiffeError('INVALID_BUNDLE', 'bundle: sequence number must not be negative')
    }
    this.sequenceNumber = init.sequenceNumber
    if (init.refreshHintSeconds !== undefined && !(Number.isSafeInteger(init.refreshHintSeconds) && init.refreshHintSeconds >= 0)) {
      throw new SpiffeError('INVALID_BUNDLE', 'bundle: refresh hint must be a whole number of seconds')
    }
    this.refreshHintSeconds = init.refreshHintSeconds
  }

  /** The JWT authority with this key ID, or undefined. */
  findJwtAuthority(kid: string): JwtAuthority | undefined {
    return this.jwtAuthorities.get(kid)
  }

  /** All X.509 authorities as one buffer of concatenated DER, as the Workload API sends them. */
  x509AuthoritiesDer(): Buffer {
    return Buffer.concat(this.x509Authorities)
  }

  /** True when the bundle has no keys of either kind (every SVID of the trust domain is untrusted). */
  get isEmpty(): boolean {
    return this.x509Authorities.length === 0 && this.jwtAuthorities.size === 0
  }

  /** A copy with some fields replaced. */
  with(changes: BundleInit): Bundle {
    return new Bundle(this.trustDomain, {
      x509Authorities: changes.x509Authorities ?? this.x509Authorities,
      jwtAuthorities: changes.jwtAuthorities ?? [...this.jwtAuthorities.values()],
      sequenceNumber: 'sequenceNumber' in changes ? changes.sequenceNumber : this.sequenceNumber,
      refreshHintSeconds: 'refreshHintSeconds' in changes ? changes.refreshHintSeconds : this.refreshHintSeconds,
    })
  }
}

/** Bundles keyed by trust domain; never pools bundles of different trust domains (WAPI-12, FED-07). */
export class BundleSet {
  readonly #bundles = new Map<string, Bundle>()

  constructor(bundles: Iterable<Bundle> = []) {
    for (const bundle of bundles) this.add(bundle)
  }

  /** Adds or replaces the bundle of `bundle.trustDomain`. */
  add(bundle: Bundle): void {
    this.#bundles.set(bundle.trustDomain.name, bundle)
  }

  remove(trustDomain: TrustDomain): boolean {
    return this.#bundles.delete(trustDomain.name)
  }

  /** The bundle for this trust domain, or undefined when there is none (its SVIDs are then untrusted). */
  get(trustDomain: TrustDomain): Bundle | undefined {
    return this.#bundles.get(trustDomain.name)
  }

  has(trustDomain: TrustDomain): boolean {
    return this.#bundles.has(trustDomain.name)
  }

  get size(): number {
    return this.#bundles.size
  }

  values(): IterableIterator<Bundle> {
    return this.#bundles.values()
  }

  [Symbol.iterator](): IterableIterator<Bundle> {
    return this.#bundles.values()
  }
}

/**
 * Anything that can hand out the bundle of a trust domain: a {@link Bundle} (answers for its own
 * trust domain only) or a {@link BundleSet}.
 */
export type BundleSource = Bundle | BundleSet

/** The bundle for `trustDomain` from a source, or undefined. */
export function bundleFor(source: BundleSource, trustDomain: TrustDomain): Bundle | undefined {
  if (source instanceof Bundle) return source.trustDomain.equals(trustDomain) ? source : undefined
  return source.get(trustDomain)
}
