import { randomUUID } from 'node:crypto'
import type { AgentEntry, CachedX509Svid, IdentityCache, SvidShortage, WorkloadIdentities } from '../../agent/manager/types.js'
import type { SteepleError } from '../../common/errors.js'
import {
  Bundle,
  createSelfSignedCa,
  generateKeyPair,
  matchesSelectors,
  mintX509Svid,
  parseSelector,
  parseSpiffeId,
  signJwtSvid,
  type JwtSvidSigningKey,
  type SelectorSet,
  type TrustDomain,
  type X509Ca,
} from '../../spiffe/index.js'

/** What a test gives to create an entry in a {@link FakeIdentityCache}. */
export interface FakeEntryInit {
  /** SPIFFE ID (`spiffe://…`) in the cache's trust domain. */
  readonly spiffeId: string
  /** Prefixed selectors (`unix:uid:1000`). */
  readonly selectors: readonly string[]
  readonly hint?: string
  readonly federatesWith?: readonly TrustDomain[]
  readonly x509SvidTtlSeconds?: number
  readonly jwtSvidTtlSeconds?: number
  /** False: the entry exists but its SVID is not minted yet (until {@link FakeIdentityCache.mint}). */
  readonly mint?: boolean
}

/** A CA and a JWT signing key of one trust domain, with the bundle that trusts both. */
export class FakeAuthority {
  readonly trustDomain: TrustDomain
  readonly ca: X509Ca
  readonly jwtKey: JwtSvidSigningKey
  readonly bundle: Bundle

  /** `now`: the CA's start (a fake clock's reading, so what it signs at that clock chains to it). */
  constructor(trustDomain: TrustDomain, caTtlSeconds = 3600, now?: Date) {
    this.trustDomain = trustDomain
    const caKeys = generateKeyPair('ec-p256')
    this.ca = createSelfSignedCa({ trustDomain, privateKey: caKeys.privateKey, ttlSeconds: caTtlSeconds, ...(now !== undefined && { now }) })
    const jwtKeys = generateKeyPair('ec-p256')
    this.jwtKey = { kid: randomUUID().replaceAll('-', ''), privateKey: jwtKeys.privateKey }
    this.bundle = new Bundle(trustDomain, {
      x509Authorities: [this.ca.certificateDer],
      jwtAuthorities: [{ kid: this.jwtKey.kid, publicKey: jwtKeys.publicKey }],
    })
  }
}

/**
 * An {@link IdentityCache} held in memory, with real keys and certificates, for tests of the
 * Workload API: entries are added and removed by the test, SVIDs are minted by a real CA, JWT-SVIDs
 * signed with a real key, and every change is announced to subscribers as the SVID manager does.
 */
export class FakeIdentityCache implements IdentityCache {
  readonly authority: FakeAuthority
  readonly #entries = new Map<string, AgentEntry>()
  readonly #svids = new Map<string, CachedX509Svid>()
  readonly #federated = new Map<string, Bundle>()
  readonly #listeners = new Set<() => void>()
  #ready = true
  #jwtFailure: SteepleError | undefined
  #unreachableSince: Date | undefined
  readonly #signingRetryAt = new Map<string, Date>()
  #created = 0
  /** Every `fetchJwtSvid` call: entry id and audience. */
  readonly jwtRequests: { entryId: string; audience: readonly string[] }[] = []

  constructor(trustDomain: TrustDomain) {
    this.authority = new FakeAuthority(trustDomain)
  }

  get trustDomain(): TrustDomain {
    return this.authority.trustDomain
  }

  get bundle(): Bundle {
    return this.authority.bundle
  }

  /** How many listeners are subscribed (streams that are open). */
  get subscriberCount(): number {
    return this.#listeners.size
  }

  setReady(ready: boolean): void {
    this.#ready = ready
    this.#notify()
  }

  /** Says the server has been unreachable since `since` (undefined: reachable), as the manager reports it. */
  setServerUnreachable(since: Date | undefined): void {
    this.#unreachableSince = since
  }

  /** Says signing the entry's SVID failed and is tried again at `retryAt` (until {@link mint}). */
  failSigning(id: string, retryAt: Date): void {
    this.#signingRetryAt.set(id, retryAt)
  }

  /**
   * Replaces the entry's SVID with one that has just expired (a real certificate, notAfter 2 s ago),
   * as the manager holds it after an expiry with no replacement, and tells subscribers.
   */
  expire(id: string): void {
    const entry = this.#entries.get(id)
    if (entry === undefined) throw new TypeError(`no entry ${id}`)
    this.#mintFor(entry, { now: new Date(Date.now() - 5000), ttlSeconds: 3 })
    this.#notify()
  }

  /** Makes `fetchJwtSvid` reject with `error` (undefined: sign again). */
  failJwtSvids(error: SteepleError | undefined): void {
    this.#jwtFailure = error
  }

  /** Adds an entry (minting its SVID unless `mint: false`) and returns its id. */
  addEntry(init: FakeEntryInit): string {
    const id = randomUUID()
    const entry: AgentEntry = {
      id,
      spiffeId: parseSpiffeId(init.spiffeId),
      selectors: init.selectors.map(parseSelector),
      federatesWith: [...(init.federatesWith ?? [])],
      hint: init.hint ?? '',
      x509SvidTtlSeconds: init.x509SvidTtlSeconds ?? 600,
      jwtSvidTtlSeconds: init.jwtSvidTtlSeconds ?? 300,
      revisionNumber: 1,
      // Distinct creation times keep the order stable, as the manager's (created, id) order does.
      createdAt: new Date(Date.UTC(2025, 0, 1) + this.#created++ * 1000),
    }
    this.#entries.set(id, entry)
    if (init.mint !== false) this.#mintFor(entry)
    this.#notify()
    return id
  }

  removeEntry(id: string): void {
    this.#entries.delete(id)
    this.#svids.delete(id)
    this.#notify()
  }

  /** Mints (or rotates) the SVID of an entry. */
  mint(id: string): void {
    const entry = this.#entries.get(id)
    if (entry === undefined) throw new TypeError(`no entry ${id}`)
    this.#signingRetryAt.delete(id)
    this.#mintFor(entry)
    this.#notify()
  }

  /** The SVID the cache holds for an entry. */
  svidOf(id: string): CachedX509Svid | undefined {
    return this.#svids.get(id)
  }

  setFederatedBundle(bundle: Bundle): void {
    this.#federated.set(bundle.trustDomain.name, bundle)
    this.#notify()
  }

  deleteFederatedBundle(trustDomain: TrustDomain): void {
    this.#federated.delete(trustDomain.name)
    this.#notify()
  }

  /** Tells subscribers something changed, without changing anything (a no-op update). */
  touch(): void {
    this.#notify()
  }

  isReady(): boolean {
    return this.#ready
  }

  identitiesFor(selectors: SelectorSet): WorkloadIdentities {
    const entries = [...this.#entries.values()]
      .filter((entry) => matchesSelectors(entry.selectors, selectors))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1))
    const svids = entries.flatMap((entry) => {
      const svid = this.#svids.get(entry.id)
      return svid !== undefined && svid.notAfter.getTime() > Date.now() ? [svid] : []
    })
    const federated = new Map<string, Bundle>()
    for (const entry of entries) {
      for (const td of entry.federatesWith) {
        const bundle = this.#federated.get(td.name)
        if (bundle !== undefined) federated.set(td.name, bundle)
      }
    }
    return { svids, entries, bundle: this.bundle, federatedBundles: [...federated.values()] }
  }

  svidShortage(entryIds: readonly string[]): SvidShortage {
    return {
      serverUnreachableSince: this.#unreachableSince,
      entries: entryIds.map((entryId) => {
        const held = this.#svids.get(entryId)
        return {
          entryId,
          expiredAt: held !== undefined && held.notAfter.getTime() <= Date.now() ? held.notAfter : undefined,
          signingRetryAt: this.#signingRetryAt.get(entryId),
        }
      }),
    }
  }

  allBundles(): readonly Bundle[] {
    return [this.bundle, ...this.#federated.values()]
  }

  subscribe(listener: () => void): () => void {
    // A wrapper, so the same function subscribed twice is two subscriptions.
    const wrapped = (): void => listener()
    this.#listeners.add(wrapped)
    return () => this.#listeners.delete(wrapped)
  }

  async fetchJwtSvid(entry: AgentEntry, audience: readonly string[]): Promise<{ token: string; expiresAt: Date }> {
    this.jwtRequests.push({ entryId: entry.id, audience: [...audience] })
    if (this.#jwtFailure !== undefined) throw this.#jwtFailure
    const signed = signJwtSvid({ spiffeId: entry.spiffeId, audience, ttlSeconds: entry.jwtSvidTtlSeconds, key: this.authority.jwtKey })
    return { token: signed.token, expiresAt: signed.expiresAt }
  }

  #mintFor(entry: AgentEntry, at: { now: Date; ttlSeconds: number } = { now: new Date(), ttlSeconds: entry.x509SvidTtlSeconds }): void {
    const keys = generateKeyPair('ec-p256')
    const minted = mintX509Svid({
      ca: this.authority.ca,
      spiffeId: entry.spiffeId,
      publicKey: keys.publicKey,
      ttlSeconds: at.ttlSeconds,
      now: at.now,
    })
    this.#svids.set(entry.id, {
      entryId: entry.id,
      spiffeId: entry.spiffeId,
      hint: entry.hint,
      chainDer: minted.chainDer,
      privateKeyDer: keys.privateKey.export({ format: 'der', type: 'pkcs8' }),
      notAfter: minted.notAfter,
    })
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener()
  }
}
