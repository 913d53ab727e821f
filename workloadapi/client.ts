import * as grpc from '@grpc/grpc-js'
import { loadWorkloadApi } from '../proto/index.js'
import { SpiffeError, type BundleSet, type SpiffeId } from '../spiffe/index.js'
import { grpcTarget, resolveEndpointAddress, type WorkloadEndpointAddress } from './endpoint.js'
import {
  decodeJwtBundles,
  decodeJwtSvidValidation,
  decodeJwtSvids,
  decodeX509Bundles,
  decodeX509Context,
  type JwtSvidValidation,
  type WorkloadJwtSvid,
  type X509Context,
} from './decode.js'

/**
 * A Workload API client (SPIFFE_Workload_API.md) over gRPC, for workloads and our CLI. Every call
 * carries the `workload.spiffe.io: true` header (WEP-04); answers are decoded into our types.
 *
 * `fetch*` calls return the first message of a stream; `watch*` calls keep a stream open, hand every
 * message to `onUpdate` and reconnect when the stream ends or fails (WAPI-04): at once after a
 * stream that delivered messages ended cleanly, else after a growing delay. They give up on
 * INVALID_ARGUMENT and UNIMPLEMENTED (the spec: report, do not retry; INTEROP-13) and on a
 * CANCELLED sent by the server.
 */

export const SECURITY_HEADER = 'workload.spiffe.io'

/** Statuses after which a watch stops instead of reconnecting. */
const FINAL_STATUSES: ReadonlySet<grpc.status> = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.UNIMPLEMENTED,
  grpc.status.CANCELLED,
])

export interface WorkloadApiClientOptions {
  /** Endpoint address (`unix:///path`, `tcp://IP:port`); `SPIFFE_ENDPOINT_SOCKET` when absent. */
  address?: string
  /** Where `SPIFFE_ENDPOINT_SOCKET` is read from; `process.env` when absent. */
  env?: Readonly<Record<string, string | undefined>>
  /** Reconnect delays of watches: `initialMs` (1000), doubled per failure up to `maxMs` (30000). */
  backoff?: { initialMs?: number; maxMs?: number }
}

export interface CallOptions {
  /** Aborting cancels the call; the promise then rejects with the signal's reason. */
  signal?: AbortSignal
}

/** A Workload API call the server (or the transport) answered with an error status. */
export class WorkloadApiError extends SpiffeError {
  /** The gRPC status, e.g. `PERMISSION_DENIED` when the caller has no identity. */
  readonly grpcStatus: grpc.status
  readonly method: string

  constructor(method: string, grpcStatus: grpc.status, details: string, options?: { cause?: unknown }) {
    super('WORKLOAD_API_REQUEST_FAILED', `workloadapi: ${method} failed: ${grpc.status[grpcStatus]}: ${details}`, options)
    this.method = method
    this.grpcStatus = grpcStatus
  }
}

type StreamMethod = 'FetchX509SVID' | 'FetchX509Bundles' | 'FetchJWTBundles'
type UnaryMethod = 'FetchJWTSVID' | 'ValidateJWTSVID'

function toWorkloadApiError(method: string, err: unknown): WorkloadApiError {
  const e = err as Partial<grpc.ServiceError>
  const code = typeof e.code === 'number' ? e.code : grpc.status.UNKNOWN
  return new WorkloadApiError(method, code, e.details || e.message || 'no details', { cause: err })
}

function requestError(message: string): SpiffeError {
  return new SpiffeError('INVALID_WORKLOAD_API_REQUEST', `workloadapi: ${message}`)
}

function securityMetadata(): grpc.Metadata {
  const metadata = new grpc.Metadata()
  metadata.set(SECURITY_HEADER, 'true')
  return metadata
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done)
  })
}

/** Client for one Workload Endpoint. Create with {@link WorkloadApiClient.connect}; `close()` when done. */
export class WorkloadApiClient {
  readonly address: WorkloadEndpointAddress
  readonly #client: grpc.Client
  readonly #service: grpc.ServiceDefinition
  readonly #initialBackoffMs: number
  readonly #maxBackoffMs: number
  // Aborted by close(): ends every open watch and call.
  readonly #closing = new AbortController()

  private constructor(address: WorkloadEndpointAddress, options: WorkloadApiClientOptions) {
    const ctor = loadWorkloadApi()
    this.address = address
    this.#service = ctor.service
    this.#client = new ctor(grpcTarget(address), grpc.credentials.createInsecure())
    this.#initialBackoffMs = options.backoff?.initialMs ?? 1000
    this.#maxBackoffMs = options.backoff?.maxMs ?? 30_000
  }

  /**
   * Creates a client for `options.address`, else `SPIFFE_ENDPOINT_SOCKET` (WEP-07). The connection
   * is made on the first call, so the agent need not be up yet.
   * @throws SpiffeError `INVALID_ENDPOINT_ADDRESS` when there is no valid address.
   */
  static connect(options: WorkloadApiClientOptions = {}): WorkloadApiClient {
    return new WorkloadApiClient(resolveEndpointAddress(options.address, options.env), options)
  }

  /** The caller's X509-SVIDs and bundles, once. @throws WorkloadApiError, SpiffeError (bad response) */
  fetchX509Context(options: CallOptions = {}): Promise<X509Context> {
    return this.#fetchFirst('FetchX509SVID', decodeX509Context, options.signal)
  }

  /**
   * Calls `onUpdate` with every new X.509 context until `signal` aborts or the client closes.
   * Resolves then; rejects with the {@link WorkloadApiError} that ended the watch for good. Errors
   * it recovers from (reconnects, undecodable messages, a throwing `onUpdate`) go to `onError`.
   */
  watchX509Context(
    onUpdate: (context: X509Context) => void,
    onError: (err: Error) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    return this.#watch('FetchX509SVID', decodeX509Context, onUpdate, onError, signal)
  }

  /** X.509 bundles by trust domain, once. @throws WorkloadApiError, SpiffeError (bad response) */
  fetchX509Bundles(options: CallOptions = {}): Promise<BundleSet> {
    return this.#fetchFirst('FetchX509Bundles', decodeX509Bundles, options.signal)
  }

  /** Like {@link watchX509Context}, for FetchX509Bundles. */
  watchX509Bundles(onUpdate: (bundles: BundleSet) => void, onError: (err: Error) => void, signal?: AbortSignal): Promise<void> {
    return this.#watch('FetchX509Bundles', decodeX509Bundles, onUpdate, onError, signal)
  }

  /** JWT bundles (JWT-SVID keys) by trust domain, once. @throws WorkloadApiError, SpiffeError */
  fetchJwtBundles(options: CallOptions = {}): Promise<BundleSet> {
    return this.#fetchFirst('FetchJWTBundles', decodeJwtBundles, options.signal)
  }

  /** Like {@link watchX509Context}, for FetchJWTBundles. */
  watchJwtBundles(onUpdate: (bundles: BundleSet) => void, onError: (err: Error) => void, signal?: AbortSignal): Promise<void> {
    return this.#watch('FetchJWTBundles', decodeJwtBundles, onUpdate, onError, signal)
  }

  /**
   * JWT-SVIDs for `audience`: one per identity of the caller, or only `spiffeId`'s. The first is
   * the default identity.
   * @throws SpiffeError `INVALID_WORKLOAD_API_REQUEST` when `audience` is empty; WorkloadApiError.
   */
  async fetchJwtSvids(params: { audience: readonly string[]; spiffeId?: SpiffeId } & CallOptions): Promise<WorkloadJwtSvid[]> {
    if (params.audience.length === 0 || params.audience.some((a) => a === '')) {
      throw requestError('audience must have at least one value and no empty values')
    }
    const request = { audience: [...params.audience], spiffe_id: params.spiffeId?.toString() ?? '' }
    return decodeJwtSvids(await this.#unary('FetchJWTSVID', request, params.signal))
  }

  /** The first (default) JWT-SVID of {@link fetchJwtSvids}. */
  async fetchJwtSvid(params: { audience: readonly string[]; spiffeId?: SpiffeId } & CallOptions): Promise<WorkloadJwtSvid> {
    return (await this.fetchJwtSvids(params))[0]!
  }

  /**
   * Has the agent validate a JWT-SVID for our `audience` (the preferred way, WJ-15).
   * @throws SpiffeError `INVALID_WORKLOAD_API_REQUEST` for an empty argument; WorkloadApiError
   * (INVALID_ARGUMENT when the token is not valid).
   */
  async validateJwtSvid(params: { audience: string; token: string } & CallOptions): Promise<JwtSvidValidation> {
    if (params.audience === '') throw requestError('audience must not be empty')
    if (params.token === '') throw requestError('token must not be empty')
    const request = { audience: params.audience, svid: params.token }
    return decodeJwtSvidValidation(await this.#unary('ValidateJWTSVID', request, params.signal))
  }

  /** Ends all watches (they resolve) and closes the connection. Further calls fail. */
  close(): void {
    this.#closing.abort()
    this.#client.close()
  }

  #checkOpen(method: string): void {
    if (this.#closing.signal.aborted) throw new WorkloadApiError(method, grpc.status.CANCELLED, 'client is closed')
  }

  #openStream(method: StreamMethod): grpc.ClientReadableStream<unknown> {
    const def = this.#service[method]!
    return this.#client.makeServerStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      {},
      securityMetadata(),
    ) as grpc.ClientReadableStream<unknown>
  }

  #unary<T>(method: UnaryMethod, request: object, signal: AbortSignal | undefined): Promise<T> {
    const def = this.#service[method]!
    return new Promise<T>((resolve, reject) => {
      this.#checkOpen(method)
      signal?.throwIfAborted()
      const onAbort = (): void => call.cancel()
      const call = this.#client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        securityMetadata(),
        (err, response) => {
          signal?.removeEventListener('abort', onAbort)
          if (signal?.aborted) reject(signal.reason)
          else if (err) reject(toWorkloadApiError(method, err))
          else resolve(response as T)
        },
      )
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  #fetchFirst<T>(method: StreamMethod, decode: (message: never) => T, signal: AbortSignal | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Thrown here, these reject the promise rather than escape synchronously.
      this.#checkOpen(method)
      signal?.throwIfAborted()
      const call = this.#openStream(method)
      let settled = false
      const settle = (fn: () => void): void => {
        if (settled) return
        settled = true
        signal?.removeEventListener('abort', onAbort)
        fn()
        // We only wanted the first message; the stream's closing CANCELLED is expected.
        call.cancel()
      }
      const onAbort = (): void => settle(() => reject(signal!.reason))
      signal?.addEventListener('abort', onAbort, { once: true })
      call.on('data', (message) => {
        settle(() => {
          try {
            resolve(decode(message as never))
          } catch (err) {
            reject(err)
          }
        })
      })
      call.on('error', (err) => settle(() => reject(toWorkloadApiError(method, err))))
      call.on('end', () =>
        settle(() => reject(new WorkloadApiError(method, grpc.status.UNAVAILABLE, 'stream ended before any response'))),
      )
    })
  }

  async #watch<T>(
    method: StreamMethod,
    decode: (message: never) => T,
    onUpdate: (value: T) => void,
    onError: (err: Error) => void,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    this.#checkOpen(method)
    const stop = signal ? AbortSignal.any([signal, this.#closing.signal]) : this.#closing.signal
    let failures = 0
    while (!stop.aborted) {
      const outcome = await this.#runStream(method, decode, onUpdate, onError, stop)
      if (stop.aborted) return
      if (outcome.error && FINAL_STATUSES.has(outcome.error.grpcStatus)) throw outcome.error
      if (outcome.error) onError(outcome.error)
      // A stream that delivered messages proves the endpoint works: start the backoff over.
      if (outcome.received) failures = 0
      if (outcome.error || !outcome.received) failures++
      if (failures > 0) {
        const delayMs = Math.min(this.#initialBackoffMs * 2 ** (failures - 1), this.#maxBackoffMs)
        await sleep(delayMs, stop)
      }
    }
  }

  /** One stream of a watch, until it ends, fails or `stop` aborts. */
  #runStream<T>(
    method: StreamMethod,
    decode: (message: never) => T,
    onUpdate: (value: T) => void,
    onError: (err: Error) => void,
    stop: AbortSignal,
  ): Promise<{ received: boolean; error?: WorkloadApiError }> {
    return new Promise((resolve) => {
      const call = this.#openStream(method)
      let received = false
      const onStop = (): void => call.cancel()
      stop.addEventListener('abort', onStop, { once: true })
      const finish = (error?: WorkloadApiError): void => {
        stop.removeEventListener('abort', onStop)
        resolve(error ? { received, error } : { received })
      }
      call.on('data', (message) => {
        received = true
        let value: T
        try {
          value = decode(message as never)
        } catch (err) {
          // A bad message is skipped; the stream and the last good state stay (as go-spiffe does).
          onError(err as Error)
          return
        }
        try {
          onUpdate(value)
        } catch (err) {
          onError(err as Error)
        }
      })
      // grpc-js emits 'end' only after a clean finish (status OK), and 'error' otherwise.
      call.on('error', (err) => finish(toWorkloadApiError(method, err)))
      call.on('end', () => finish())
    })
  }
}
