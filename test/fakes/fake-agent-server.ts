import { randomUUID } from 'node:crypto'
import type { Clock } from '../../agent/manager/clock.js'
import type { AgentServerClient } from '../../agent/client/server-api.js'
import type {
  AgentSvidCredentials,
  AttestationOutcome,
  AuthorizedSync,
  AuthorizedUpdate,
  RenewedSvid,
  SignedJwtSvidResult,
  X509SvidResult,
} from '../../agent/client/server-client.js'
import { NotFoundError, PermissionDeniedError, type SteepleError } from '../../common/errors.js'
import type { RegistrationEntry } from '../../plugins/data-store/types.js'
import type { AgentNodeAttestor, AgentNodeAttestorPlugin } from '../../plugins/node-attestor/types.js'
import type { LoadedPlugin } from '../../plugins/registry.js'
import {
  mintX509Svid,
  parseCsr,
  parseSelector,
  parseSpiffeId,
  signJwtSvid,
  spiffeIdFromSegments,
  type Bundle,
  type SpiffeId,
  type TrustDomain,
} from '../../spiffe/index.js'
import { FakeAuthority } from './fake-identity-cache.js'

/** The server calls a {@link FakeAgentServer} answers, by name. */
export type FakeServerCall = 'attest' | 'renew' | 'syncAuthorized' | 'batchNewX509Svid' | 'newJwtSvid'

const ALL_CALLS: readonly FakeServerCall[] = ['attest', 'renew', 'syncAuthorized', 'batchNewX509Svid', 'newJwtSvid']

/** What a test gives to create or change an entry on a {@link FakeAgentServer}. */
export interface FakeServerEntryInit {
  /** Kept when given: the same id again is a new revision of that entry. */
  readonly id?: string
  /** SPIFFE ID (`spiffe://…`) in the server's trust domain. */
  readonly spiffeId: string
  /** Prefixed selectors (`unix:uid:1000`); default one uid selector. */
  readonly selectors?: readonly string[]
  readonly hint?: string
  readonly federatesWith?: readonly TrustDomain[]
  /** 0 or absent: the server's default. */
  readonly x509SvidTtlSeconds?: number
  readonly jwtSvidTtlSeconds?: number
}

interface OpenStream {
  readonly onUpdate: (update: AuthorizedUpdate) => void
  readonly settle: (error?: SteepleError) => void
}

/**
 * The server's agent API as a plain object, for unit tests of the agent's manager: it implements
 * every narrow interface the manager's parts take (what the gRPC ServerClient implements), with real
 * keys and certificates from a CA started at the test's clock. The test holds the server side:
 * entries and bundles it pushes on open SyncAuthorized streams, an agent it evicts (every call but
 * attestation is then refused until the node attests again), and calls it makes fail
 * ({@link failWith}). It also records what the client side was told: the bundle that verifies the
 * server, the SVID presented, how many calls of each kind were made and how many CSRs each batch had.
 */
export class FakeAgentServer implements AgentServerClient {
  readonly authority: FakeAuthority
  readonly agentId: SpiffeId
  /** TTL of agent SVIDs issued by attestation and renewal. */
  agentSvidTtlSeconds = 3600
  /** TTL of workload X.509-SVIDs of entries without their own. */
  defaultX509SvidTtlSeconds = 3600
  /** False: like a join token, the evidence works once; attesting again is refused. */
  reattestable = true
  /** The agent ID an attestation result names; default the one in the SVID (a broken server names another). */
  namedAgentId: SpiffeId | undefined
  readonly calls: Record<FakeServerCall, number> = { attest: 0, renew: 0, syncAuthorized: 0, batchNewX509Svid: 0, newJwtSvid: 0 }
  /** CSRs in each BatchNewX509SVID call, in order. */
  readonly batchSizes: number[] = []
  /** The bundle the client verifies the server with (its last setBundle). */
  trusted: Bundle | undefined
  /** The SVID the client presents (its last setSvid). */
  presented: AgentSvidCredentials | undefined
  closed = false

  readonly #clock: Clock
  readonly #entries = new Map<string, RegistrationEntry>()
  readonly #streams = new Set<OpenStream>()
  readonly #failures = new Map<FakeServerCall, SteepleError>()
  readonly #itemFailures = new Map<string, SteepleError>()
  #bundles: readonly Bundle[]
  #evicted = false
  #created = 0

  constructor(trustDomain: TrustDomain, clock: Clock) {
    this.#clock = clock
    this.authority = new FakeAuthority(trustDomain, 30 * 86_400, clock.now())
    this.agentId = spiffeIdFromSegments(trustDomain, 'spire', 'agent', 'fake', 'node-1')
    this.#bundles = [this.authority.bundle]
  }

  get trustDomain(): TrustDomain {
    return this.authority.trustDomain
  }

  /** The bundles sent on SyncAuthorized (own first). */
  get bundles(): readonly Bundle[] {
    return this.#bundles
  }

  /** SyncAuthorized streams open now. */
  get openStreams(): number {
    return this.#streams.size
  }

  /** Makes these calls (default: all) reject with `error`; undefined answers them again. */
  failWith(error: SteepleError | undefined, calls: readonly FakeServerCall[] = ALL_CALLS): void {
    for (const call of calls) {
      if (error === undefined) this.#failures.delete(call)
      else this.#failures.set(call, error)
    }
  }

  /** Makes BatchNewX509SVID refuse this one entry's item (undefined: sign it again). */
  failItem(entryId: string, error: SteepleError | undefined): void {
    if (error === undefined) this.#itemFailures.delete(entryId)
    else this.#itemFailures.set(entryId, error)
  }

  /** Evicts the agent: open streams end and every call but attestation is PERMISSION_DENIED until it attests again. */
  evict(): void {
    this.#evicted = true
    this.endStreams(new PermissionDeniedError('agent: the agent SVID is not authorized (evicted)'))
  }

  /** Creates an entry, or a new revision of one (same `id`), and sends it on open streams. */
  putEntry(init: FakeServerEntryInit): RegistrationEntry {
    const id = init.id ?? randomUUID()
    const previous = this.#entries.get(id)
    const entry: RegistrationEntry = Object.freeze({
      id,
      spiffeId: parseSpiffeId(init.spiffeId),
      parentId: this.agentId,
      selectors: (init.selectors ?? ['unix:uid:1000']).map(parseSelector),
      x509SvidTtlSeconds: init.x509SvidTtlSeconds ?? 0,
      jwtSvidTtlSeconds: init.jwtSvidTtlSeconds ?? 0,
      dnsNames: [],
      federatesWith: [...(init.federatesWith ?? [])],
      admin: false,
      downstream: false,
      expiresAt: undefined,
      hint: init.hint ?? '',
      storeSvid: false,
      revisionNumber: (previous?.revisionNumber ?? 0) + 1,
      createdAt: previous?.createdAt ?? new Date(this.#clock.now().getTime() + this.#created++),
      owner: '',
      description: '',
    })
    this.#entries.set(id, entry)
    this.#push({ full: false, upserted: [entry], deletedIds: [], bundles: undefined })
    return entry
  }

  /** Deletes an entry and sends the deletion on open streams. */
  deleteEntry(id: string): void {
    if (this.#entries.delete(id)) this.#push({ full: false, upserted: [], deletedIds: [id], bundles: undefined })
  }

  /** Replaces the bundle set (own first) and sends it on open streams. */
  publishBundles(bundles: readonly Bundle[]): void {
    this.#bundles = [...bundles]
    this.#push({ full: false, upserted: [], deletedIds: [], bundles: this.#bundles })
  }

  /** Ends every open stream: normally, or with `error`. */
  endStreams(error?: SteepleError): void {
    for (const stream of [...this.#streams]) stream.settle(error)
  }

  setBundle(bundle: Bundle): void {
    this.trusted = bundle
  }

  setSvid(svid: AgentSvidCredentials): void {
    this.presented = svid
  }

  close(): void {
    this.closed = true
    this.endStreams()
  }

  async attest(_attestorName: string, session: AgentNodeAttestor, csrDer: Uint8Array): Promise<AttestationOutcome> {
    this.#call('attest', false)
    await session.payload()
    if (this.calls.attest > 1 && !this.reattestable) throw new PermissionDeniedError('nodeattestor: the join token has been used')
    const minted = this.#mintAgentSvid(csrDer)
    this.#evicted = false
    return { agentId: this.namedAgentId ?? this.agentId, svidChainDer: minted.chainDer, expiresAt: minted.notAfter, bundle: this.#bundles[0]!, reattestable: this.reattestable }
  }

  async renew(csrDer: Uint8Array): Promise<RenewedSvid> {
    this.#call('renew')
    const minted = this.#mintAgentSvid(csrDer)
    return { svidChainDer: minted.chainDer, expiresAt: minted.notAfter }
  }

  syncAuthorized(onUpdate: (update: AuthorizedUpdate) => void): AuthorizedSync {
    let stream!: OpenStream
    const done = new Promise<void>((resolve, reject) => {
      stream = {
        onUpdate,
        settle: (error) => {
          if (!this.#streams.delete(stream)) return
          if (error === undefined) resolve()
          else reject(error)
        },
      }
    })
    try {
      this.#call('syncAuthorized')
    } catch (err) {
      return { done: Promise.reject(err as SteepleError), close: () => undefined }
    }
    this.#streams.add(stream)
    // As on the wire, the full set arrives after the call returns.
    queueMicrotask(() => {
      if (this.#streams.has(stream)) onUpdate({ full: true, upserted: [...this.#entries.values()], deletedIds: [], bundles: this.#bundles })
    })
    return { done, close: () => stream.settle() }
  }

  async batchNewX509Svid(params: readonly { readonly entryId: string; readonly csrDer: Uint8Array }[]): Promise<X509SvidResult[]> {
    this.#call('batchNewX509Svid')
    this.batchSizes.push(params.length)
    return params.map(({ entryId, csrDer }): X509SvidResult => {
      const entry = this.#entries.get(entryId)
      const failure = entry === undefined ? new NotFoundError(`entry ${entryId} not found`) : this.#itemFailures.get(entryId)
      if (entry === undefined || failure !== undefined) return { entryId, ok: false, error: failure! }
      const minted = mintX509Svid({
        ca: this.authority.ca,
        spiffeId: entry.spiffeId,
        publicKey: parseCsr(csrDer).publicKey,
        ttlSeconds: entry.x509SvidTtlSeconds || this.defaultX509SvidTtlSeconds,
        now: this.#clock.now(),
      })
      return { entryId, ok: true, spiffeId: entry.spiffeId, svidChainDer: minted.chainDer, expiresAt: minted.notAfter }
    })
  }

  async newJwtSvid(entryId: string, audience: readonly string[]): Promise<SignedJwtSvidResult> {
    this.#call('newJwtSvid')
    const entry = this.#entries.get(entryId)
    if (entry === undefined) throw new NotFoundError(`entry ${entryId} not found`)
    const signed = signJwtSvid({ spiffeId: entry.spiffeId, audience, ttlSeconds: entry.jwtSvidTtlSeconds || 300, key: this.authority.jwtKey, now: this.#clock.now() })
    return { spiffeId: entry.spiffeId, token: signed.token, issuedAt: signed.issuedAt, expiresAt: signed.expiresAt }
  }

  /** Counts a call, then fails it as the test asked, or as an evicted agent's. */
  #call(name: FakeServerCall, needsAgentSvid = true): void {
    this.calls[name]++
    const failure = this.#failures.get(name)
    if (failure !== undefined) throw failure
    if (needsAgentSvid && this.#evicted) throw new PermissionDeniedError('agent: the agent SVID is not authorized (evicted)')
  }

  #mintAgentSvid(csrDer: Uint8Array): { chainDer: Buffer[]; notAfter: Date } {
    const minted = mintX509Svid({
      ca: this.authority.ca,
      spiffeId: this.agentId,
      publicKey: parseCsr(csrDer).publicKey,
      ttlSeconds: this.agentSvidTtlSeconds,
      now: this.#clock.now(),
    })
    return { chainDer: [...minted.chainDer], notAfter: minted.notAfter }
  }

  #push(update: AuthorizedUpdate): void {
    for (const stream of [...this.#streams]) stream.onUpdate(update)
  }
}

/** A node attestor plugin whose sessions send a fixed payload and answer no challenge. */
export function fakeNodeAttestor(name = 'fake'): LoadedPlugin<AgentNodeAttestorPlugin> {
  return {
    name,
    instance: {
      begin: async () => ({
        payload: async () => new TextEncoder().encode('fake evidence'),
        answer: async () => {
          throw new TypeError('the fake node attestor expects no challenge')
        },
      }),
    },
  }
}
