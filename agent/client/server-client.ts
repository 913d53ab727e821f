import * as grpc from '@grpc/grpc-js'
import { status } from '@grpc/grpc-js'
import type { KeyObject } from 'node:crypto'
import type { PeerCertificate } from 'node:tls'
import { FailedPreconditionError, SteepleError, errorMessage } from '../../common/errors.js'
import type { RegistrationEntry } from '../../plugins/data-store/types.js'
import type { AgentNodeAttestor } from '../../plugins/node-attestor/types.js'
import type { AgentAPIClient } from '../../proto/generated/steeple/agent/v1/AgentAPI.js'
import type { AttestAgentRequest } from '../../proto/generated/steeple/agent/v1/AttestAgentRequest.js'
import type { AttestAgentResponse__Output } from '../../proto/generated/steeple/agent/v1/AttestAgentResponse.js'
import type { SyncAuthorizedResponse__Output } from '../../proto/generated/steeple/agent/v1/SyncAuthorizedResponse.js'
import { loadAgentApi } from '../../proto/index.js'
import {
  certificatesToPem,
  parseSpiffeId,
  presentedChain,
  spiffeIdFromSegments,
  verifyX509Svid,
  type Bundle,
  type SpiffeId,
  type TrustDomain,
} from '../../spiffe/index.js'
import { bundleFromMessage, dateFromUnixSeconds, entryFromMessage } from './convert.js'
import type { AgentServerClient } from './server-api.js'
import { codeOfStatus } from '../../common/grpc-status.js'

/** The agent's own SVID, used as client certificate on every call but AttestAgent. */
export interface AgentSvidCredentials {
  /** Leaf first, then intermediates (DER). */
  readonly chainDer: readonly Uint8Array[]
  readonly privateKey: KeyObject
}

/** How to reach and authenticate the server, and how the agent authenticates. */
export interface ServerClientOptions {
  /** `host:port` of the server's agent API. */
  readonly address: string
  /** The agent's trust domain: the server must present `spiffe://<td>/steeple/server`. */
  readonly trustDomain: TrustDomain
  /** The bundle the server's certificate must chain to; required for every call unless bootstrapping insecurely. */
  readonly bundle?: Bundle
  /** The agent SVID; without one, calls go without a client certificate (and only AttestAgent can succeed). */
  readonly svid?: AgentSvidCredentials
  /**
   * Skip verifying the server, for AttestAgent only (`--insecure-bootstrap`): the agent trusts the
   * first server it reaches and takes the bundle from the attestation result. Every other call
   * still verifies the server against the bundle. Ignored with `bundle`, and over once
   * {@link ServerClient.setBundle} is called.
   */
  readonly insecureBootstrap?: boolean
  /** Deadline of unary calls and of a whole attestation; default 30 s. */
  readonly callTimeoutMs?: number
  /** Verification time of the server's SVID; defaults to the current time. */
  readonly clock?: () => Date
}

/** What attestation gives the agent. */
export interface AttestationOutcome {
  readonly agentId: SpiffeId
  /** Agent SVID chain, leaf first (DER). */
  readonly svidChainDer: readonly Buffer[]
  readonly expiresAt: Date
  /** The trust domain's bundle at attestation time. */
  readonly bundle: Bundle
  /** Whether the node may attest again with the same method (for an agent that lost its SVID). */
  readonly reattestable: boolean
}

/** A renewed agent SVID. */
export interface RenewedSvid {
  readonly svidChainDer: readonly Buffer[]
  readonly expiresAt: Date
}

/** One SyncAuthorized message. */
export interface AuthorizedUpdate {
  /** True on the first message: `upserted` is the complete set. */
  readonly full: boolean
  readonly upserted: readonly RegistrationEntry[]
  readonly deletedIds: readonly string[]
  /** The complete current bundle set (own first), or undefined when unchanged. */
  readonly bundles: readonly Bundle[] | undefined
}

/** An open SyncAuthorized stream. */
export interface AuthorizedSync {
  /**
   * Resolves when the stream ends normally or by {@link AuthorizedSync.close}; rejects with a
   * SteepleError carrying the status otherwise (PERMISSION_DENIED: evicted or banned).
   */
  readonly done: Promise<void>
  close(): void
}

/** The outcome of one BatchNewX509SVID item: the SVID, or the item's status as an error. */
export type X509SvidResult =
  | { readonly entryId: string; readonly ok: true; readonly spiffeId: SpiffeId; readonly svidChainDer: readonly Buffer[]; readonly expiresAt: Date }
  | { readonly entryId: string; readonly ok: false; readonly error: SteepleError }

/** A JWT-SVID signed by the server (the token is a secret: never log it). */
export interface SignedJwtSvidResult {
  readonly spiffeId: SpiffeId
  readonly token: string
  readonly issuedAt: Date
  readonly expiresAt: Date
}

const DEFAULT_CALL_TIMEOUT_MS = 30_000


/** A status from the server (or the channel) as a SteepleError with the domain code it stands for. */
export function statusError(code: status, details: string, cause?: unknown): SteepleError {
  return new SteepleError(codeOfStatus(code), details, cause === undefined ? undefined : { cause })
}

function fromServiceError(err: unknown): SteepleError {
  if (err instanceof SteepleError) return err
  const e = err as Partial<grpc.ServiceError>
  if (typeof e.code === 'number') return statusError(e.code, e.details ?? errorMessage(err), err)
  return statusError(status.INTERNAL, errorMessage(err), err)
}

/**
 * The agent's client of the server's agent API (`steeple.agent.v1.AgentAPI`). The server is
 * authenticated as an X509-SVID for exactly `spiffe://<td>/steeple/server` chaining to the agent's
 * trust bundle (not by host name); the agent authenticates with its SVID. Credentials are fixed per
 * channel, so {@link setBundle} and {@link setSvid} start new channels for later calls. Implements
 * the narrow interfaces of server-api.ts that the parts of the agent's manager each take.
 */
export class ServerClient implements AgentServerClient {
  readonly #o: ServerClientOptions
  readonly #serverId: SpiffeId
  readonly #Client: grpc.ServiceClientConstructor
  #bundle: Bundle | undefined
  #svid: AgentSvidCredentials | undefined
  /** Insecure bootstrap holds only until a bundle is known. */
  #insecure: boolean
  #mtls: AgentAPIClient | undefined
  #closed = false

  constructor(options: ServerClientOptions) {
    this.#o = options
    this.#serverId = spiffeIdFromSegments(options.trustDomain, 'steeple', 'server')
    this.#Client = loadAgentApi()
    this.#bundle = options.bundle
    this.#svid = options.svid
    this.#insecure = options.insecureBootstrap === true && options.bundle === undefined
  }

  /** Uses this trust bundle to verify the server from now on (AttestAgent included: insecure bootstrap ends). */
  setBundle(bundle: Bundle): void {
    this.#bundle = bundle
    this.#insecure = false
    this.#resetChannel()
  }

  /** Presents this SVID from now on (after attestation or renewal). */
  setSvid(svid: AgentSvidCredentials): void {
    this.#svid = svid
    this.#resetChannel()
  }

  /** Closes the channels; streams still open end. */
  close(): void {
    this.#closed = true
    this.#resetChannel()
  }

  /**
   * Attests the node: sends the session's payload and a CSR for the agent SVID, answers the
   * server's challenges with the session, and returns the agent SVID and bundle.
   * @throws SteepleError with the server's status (PERMISSION_DENIED for refused evidence, a
   *   banned agent or a used join token); the session's own errors; FailedPreconditionError
   *   without a bundle unless bootstrapping insecurely.
   */
  async attest(attestorName: string, session: AgentNodeAttestor, csrDer: Uint8Array): Promise<AttestationOutcome> {
    const payload = await session.payload()
    const client = this.#newClient(this.#insecure ? 'insecure' : 'verified-anonymous')
    try {
      const call = client.AttestAgent({ deadline: this.#deadline() })
      const result = await new Promise<AttestAgentResponse__Output['result']>((resolve, reject) => {
        let settled = false
        const settle = (fn: () => void) => {
          if (settled) return
          settled = true
          fn()
        }
        call.on('data', (message: AttestAgentResponse__Output) => {
          if (message.step === 'result' && message.result != null) {
            settle(() => resolve(message.result))
            call.end()
            return
          }
          if (message.step !== 'challenge' || message.challenge === undefined) {
            settle(() => reject(statusError(status.INTERNAL, 'serverclient: the server sent an attestation message without challenge or result')))
            call.cancel()
            return
          }
          session.answer(new Uint8Array(message.challenge)).then(
            (answer) => call.write({ challenge_response: Buffer.from(answer) } satisfies AttestAgentRequest),
            (err: unknown) => {
              settle(() => reject(err))
              call.cancel()
            },
          )
        })
        call.on('error', (err) => settle(() => reject(fromServiceError(err))))
        call.on('end', () => settle(() => reject(statusError(status.INTERNAL, 'serverclient: the server ended attestation without a result'))))
        call.write({ params: { data: { type: attestorName, payload: Buffer.from(payload) }, csr: Buffer.from(csrDer) } } satisfies AttestAgentRequest)
      })
      const r = result!
      if (r.bundle == null) throw statusError(status.INTERNAL, 'serverclient: the server sent an attestation result without a bundle')
      return {
        agentId: parseId(r.agent_id),
        svidChainDer: r.svid_chain,
        expiresAt: dateFromUnixSeconds(r.expires_at) ?? new Date(0),
        bundle: bundleFromMessage(r.bundle),
        reattestable: r.reattestable,
      }
    } finally {
      client.close()
    }
  }

  /** A new agent SVID for `csrDer` (call {@link setSvid} with it; the server switches on first use). */
  async renew(csrDer: Uint8Array): Promise<RenewedSvid> {
    const client = this.#channel()
    const res = await this.#unary<{ svid_chain: Buffer[]; expires_at: string }>((cb) => client.RenewAgent({ csr: Buffer.from(csrDer) }, { deadline: this.#deadline() }, cb))
    return { svidChainDer: res.svid_chain, expiresAt: dateFromUnixSeconds(res.expires_at) ?? new Date(0) }
  }

  /**
   * Opens SyncAuthorized: `onUpdate` gets the full set first, then each change. An exception from
   * `onUpdate` (or a message that does not convert) cancels the stream and rejects `done` with it.
   */
  syncAuthorized(onUpdate: (update: AuthorizedUpdate) => void): AuthorizedSync {
    const client = this.#channel()
    const call = client.SyncAuthorized({})
    let closedByUs = false
    const done = new Promise<void>((resolve, reject) => {
      let settled = false
      const settle = (fn: () => void) => {
        if (!settled) {
          settled = true
          fn()
        }
      }
      call.on('data', (m: SyncAuthorizedResponse__Output) => {
        if (settled) return
        try {
          onUpdate({
            full: m.full,
            upserted: m.upserted.map(entryFromMessage),
            deletedIds: m.deleted_ids,
            bundles: m.bundles.length === 0 ? undefined : m.bundles.map(bundleFromMessage),
          })
        } catch (err) {
          settle(() => reject(err))
          closedByUs = true
          call.cancel()
        }
      })
      call.on('error', (err: grpc.ServiceError) => settle(() => (closedByUs && err.code === status.CANCELLED ? resolve() : reject(fromServiceError(err)))))
      call.on('status', (s: grpc.StatusObject) => {
        if (s.code === status.OK) settle(resolve)
      })
    })
    return {
      done,
      close: () => {
        closedByUs = true
        call.cancel()
      },
    }
  }

  /** Signs X.509-SVIDs for entries from CSRs (DER); one result per item, in order. */
  async batchNewX509Svid(params: readonly { readonly entryId: string; readonly csrDer: Uint8Array }[]): Promise<X509SvidResult[]> {
    const client = this.#channel()
    const res = await this.#unary<{
      results: { status: { code: number; message: string } | null; entry_id: string; spiffe_id: string; svid_chain: Buffer[]; expires_at: string }[]
    }>((cb) => client.BatchNewX509SVID({ params: params.map((p) => ({ entry_id: p.entryId, csr: Buffer.from(p.csrDer) })) }, { deadline: this.#deadline() }, cb))
    return res.results.map((r): X509SvidResult => {
      const code = r.status?.code ?? status.OK
      if (code !== status.OK) return { entryId: r.entry_id, ok: false, error: statusError(code, r.status?.message ?? '') }
      return { entryId: r.entry_id, ok: true, spiffeId: parseId(r.spiffe_id), svidChainDer: r.svid_chain, expiresAt: dateFromUnixSeconds(r.expires_at) ?? new Date(0) }
    })
  }

  /** Signs a JWT-SVID for an entry. */
  async newJwtSvid(entryId: string, audience: readonly string[]): Promise<SignedJwtSvidResult> {
    const client = this.#channel()
    const res = await this.#unary<{ spiffe_id: string; token: string; issued_at: string; expires_at: string }>((cb) =>
      client.NewJWTSVID({ entry_id: entryId, audience: [...audience] }, { deadline: this.#deadline() }, cb),
    )
    return {
      spiffeId: parseId(res.spiffe_id),
      token: res.token,
      issuedAt: dateFromUnixSeconds(res.issued_at) ?? new Date(0),
      expiresAt: dateFromUnixSeconds(res.expires_at) ?? new Date(0),
    }
  }

  /** The own bundle and the federated bundles the agent's entries federate with. */
  async getBundles(): Promise<Bundle[]> {
    const client = this.#channel()
    const res = await this.#unary<{ bundles: Parameters<typeof bundleFromMessage>[0][] }>((cb) => client.GetBundles({}, { deadline: this.#deadline() }, cb))
    return res.bundles.map(bundleFromMessage)
  }

  #deadline(): Date {
    return new Date(Date.now() + (this.#o.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS))
  }

  #unary<T>(start: (cb: (err: grpc.ServiceError | null, res?: T) => void) => unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      start((err, res) => (err !== null ? reject(fromServiceError(err)) : resolve(res!)))
    })
  }

  #channel(): AgentAPIClient {
    if (this.#closed) throw new FailedPreconditionError('serverclient: the client is closed')
    this.#mtls ??= this.#newClient('mtls')
    return this.#mtls
  }

  #resetChannel(): void {
    this.#mtls?.close()
    this.#mtls = undefined
  }

  #newClient(mode: 'mtls' | 'verified-anonymous' | 'insecure'): AgentAPIClient {
    if (this.#closed) throw new FailedPreconditionError('serverclient: the client is closed')
    let credentials: grpc.ChannelCredentials
    if (mode === 'insecure') {
      credentials = grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined })
    } else {
      const bundle = this.#bundle
      if (bundle === undefined || bundle.x509Authorities.length === 0) {
        throw new FailedPreconditionError('serverclient: no trust bundle to verify the server with: configure one or bootstrap insecurely')
      }
      const svid = mode === 'mtls' ? this.#svid : undefined
      credentials = grpc.credentials.createSsl(
        Buffer.from(certificatesToPem(bundle.x509Authorities)),
        svid === undefined ? null : Buffer.from(svid.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
        svid === undefined ? null : Buffer.from(certificatesToPem(svid.chainDer)),
        { checkServerIdentity: (_host, cert) => this.#checkServer(bundle, cert) },
      )
    }
    return new this.#Client(this.#o.address, credentials, {
      // The server is named by its SPIFFE ID, not a host name; this keeps an IP address out of SNI.
      'grpc.ssl_target_name_override': this.#o.trustDomain.name,
      'grpc.default_authority': this.#o.trustDomain.name,
      // A channel per credential set: connections made with other client certificates are never shared.
      'grpc.use_local_subchannel_pool': 1,
      // grpc-js waits up to 120 s between reconnects by default; an agent whose server was down
      // for a minute must be back within seconds of it returning.
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 5000,
    }) as unknown as AgentAPIClient
  }

  /** Node's TLS already checked the chain against the bundle's roots; this makes it an SVID check with the exact server ID. */
  #checkServer(bundle: Bundle, cert: PeerCertificate): Error | undefined {
    try {
      const { id } = verifyX509Svid(presentedChain(cert), bundle, { now: this.#o.clock?.() ?? new Date() })
      if (!id.equals(this.#serverId)) {
        return new Error(`serverclient: the server presented ${id.toString()}, expected ${this.#serverId.toString()}`)
      }
      return undefined
    } catch (err) {
      return new Error(`serverclient: the server certificate is not a valid X509-SVID: ${errorMessage(err)}`)
    }
  }
}

function parseId(value: string): SpiffeId {
  try {
    return parseSpiffeId(value)
  } catch (err) {
    throw statusError(status.INTERNAL, `serverclient: the server sent an invalid SPIFFE ID: ${errorMessage(err)}`, err)
  }
}
