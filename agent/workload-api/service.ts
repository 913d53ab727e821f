import * as grpc from '@grpc/grpc-js'
import type { Logger } from '../../common/logger.js'
import type { JWTBundlesRequest__Output } from '../../proto/generated/JWTBundlesRequest.js'
import type { JWTBundlesResponse } from '../../proto/generated/JWTBundlesResponse.js'
import type { JWTSVIDRequest__Output } from '../../proto/generated/JWTSVIDRequest.js'
import type { JWTSVIDResponse } from '../../proto/generated/JWTSVIDResponse.js'
import type { SpiffeWorkloadAPIHandlers } from '../../proto/generated/SpiffeWorkloadAPI.js'
import type { ValidateJWTSVIDRequest__Output } from '../../proto/generated/ValidateJWTSVIDRequest.js'
import type { ValidateJWTSVIDResponse } from '../../proto/generated/ValidateJWTSVIDResponse.js'
import type { X509BundlesRequest__Output } from '../../proto/generated/X509BundlesRequest.js'
import type { X509BundlesResponse } from '../../proto/generated/X509BundlesResponse.js'
import type { X509SVIDRequest__Output } from '../../proto/generated/X509SVIDRequest.js'
import type { X509SVIDResponse } from '../../proto/generated/X509SVIDResponse.js'
import { loadWorkloadApi } from '../../proto/index.js'
import type { TrustDomain } from '../../spiffe/index.js'
import type { IdentityCache } from '../manager/index.js'
import {
  attestCaller,
  checkSecurityHeader,
  notReady,
  workloadApiStatus,
  type AttestedCaller,
  type CallerLookup,
  type WorkloadAttestation,
} from './caller.js'
import { fetchJwtSvids, jwtBundlesState, validateJwtSvid } from './jwt.js'
import { WarnThrottle } from './log-throttle.js'
import { UpdateStream, type StreamState } from './stream.js'
import { x509BundlesState, x509SvidState } from './x509.js'

/** What the Workload API service works with. */
export interface WorkloadApiServiceDeps {
  readonly cache: IdentityCache
  readonly callers: CallerLookup
  readonly attestation: WorkloadAttestation
  /** The agent's trust domain (claims of foreign tokens are filtered in ValidateJWTSVID). */
  readonly trustDomain: TrustDomain
  readonly log: Logger
  /** Clock for ValidateJWTSVID; the current time when absent. */
  readonly now?: () => Date
  /** How long a new stream waits for an SVID being minted; {@link FIRST_MESSAGE_WAIT_MS} when absent. */
  readonly firstMessageWaitMs?: number
}

/**
 * How long a new stream waits for an SVID that is being minted (a new entry, the server just back)
 * before it ends with UNAVAILABLE; one signing call to a reachable server takes well under this.
 */
export const FIRST_MESSAGE_WAIT_MS = 5000

/** The same "no identity right now" warning goes to the log at most this often per set of entries. */
const UNAVAILABLE_WARN_INTERVAL_MS = 30_000

/** What a handler gets besides the request. */
export interface CallContext {
  readonly deps: WorkloadApiServiceDeps
  /** Tagged with the method. */
  readonly log: Logger
  /** Aborted when the client cancels the call. */
  readonly signal: AbortSignal
  /** For warnings a retrying client would repeat: once per interval per key. */
  readonly warnings: WarnThrottle
  /** Runs the readiness check and attests the caller (UNAVAILABLE when either fails). */
  attest(): Promise<AttestedCaller>
}

/** How a streaming method computes its messages for one attested caller. */
export interface StreamPlan<M> {
  readonly compute: () => StreamState<M>
  readonly serialize: (message: M) => Buffer
}

/** The SpiffeWorkloadAPI service and what it holds open. */
export interface WorkloadApiService {
  readonly definition: grpc.ServiceDefinition
  readonly handlers: SpiffeWorkloadAPIHandlers
  /** How many streams are open. */
  readonly openStreams: number
  /** Ends every open stream (status OK: clients reconnect, WAPI-04) and refuses new calls. */
  close(): void
}

/**
 * The SpiffeWorkloadAPI handlers (SPIFFE_Workload_API.md). Every call is checked in this order:
 * the security header before anything else (WEP-04, WEP-05; the WIT methods too), then the
 * request's own fields, then readiness (WEP-12) and attestation of the caller; errors leave through
 * {@link workloadApiStatus}, so callers see generic messages only.
 */
export function createWorkloadApiService(deps: WorkloadApiServiceDeps): WorkloadApiService {
  const definition = loadWorkloadApi().service
  const streams = new Set<UpdateStream<unknown>>()
  const warnings = new WarnThrottle(UNAVAILABLE_WARN_INTERVAL_MS)
  let closed = false

  const context = (method: string, call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): CallContext => {
    const log = deps.log.child({ method })
    const controller = new AbortController()
    call.on('cancelled', () => controller.abort())
    const peer = call.getPeer()
    return {
      deps,
      log,
      signal: controller.signal,
      warnings,
      attest: async () => {
        if (closed || !deps.cache.isReady()) throw notReady()
        return attestCaller(peer, deps.callers, deps.attestation, log, controller.signal)
      },
    }
  }

  function unary<Req, Res>(method: string, run: (request: Req, ctx: CallContext) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const ctx = context(method, call)
      let result: Promise<Res>
      try {
        checkSecurityHeader(call.metadata)
        result = run(call.request, ctx)
      } catch (err) {
        result = Promise.reject(err)
      }
      result.then(
        (response) => callback(null, response),
        (err: unknown) => callback(workloadApiStatus(err, ctx.log)),
      )
    }
  }

  function streaming<Req, Res>(
    method: string,
    plan: (request: Req, ctx: CallContext) => Promise<{ caller: AttestedCaller; plan: StreamPlan<Res> }>,
  ): grpc.handleServerStreamingCall<Req, Res> {
    return (call) => {
      const ctx = context(method, call)
      let planned: Promise<{ caller: AttestedCaller; plan: StreamPlan<Res> }>
      try {
        checkSecurityHeader(call.metadata)
        planned = plan(call.request, ctx)
      } catch (err) {
        planned = Promise.reject(err)
      }
      planned.then(
        ({ caller, plan: { compute, serialize } }) => {
          if (ctx.signal.aborted) return
          if (closed) {
            call.emit('error', workloadApiStatus(notReady(), ctx.log))
            return
          }
          const stream: UpdateStream<Res> = new UpdateStream<Res>({
            call,
            cache: deps.cache,
            caller: caller.caller,
            compute,
            serialize,
            log: caller.log,
            firstMessageWaitMs: deps.firstMessageWaitMs ?? FIRST_MESSAGE_WAIT_MS,
            onDone: () => streams.delete(stream as UpdateStream<unknown>),
          })
          streams.add(stream as UpdateStream<unknown>)
          stream.start()
        },
        (err: unknown) => call.emit('error', workloadApiStatus(err, ctx.log)),
      )
    }
  }

  /** The WIT-SVID profile is not built (WW-01); the header is still checked first (WEP-05). */
  function unimplemented(method: string): grpc.handleServerStreamingCall<unknown, unknown> {
    return (call) => {
      const log = deps.log.child({ method })
      try {
        checkSecurityHeader(call.metadata)
      } catch (err) {
        call.emit('error', workloadApiStatus(err, log))
        return
      }
      log.debug('Request refused', { code: 'UNIMPLEMENTED' })
      call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'the WIT-SVID profile is not implemented' })
    }
  }

  const serializer = <M>(name: string) => definition[name]!.responseSerialize as (message: M) => Buffer

  const handlers: SpiffeWorkloadAPIHandlers = {
    FetchX509SVID: streaming<X509SVIDRequest__Output, X509SVIDResponse>('FetchX509SVID', async (_request, ctx) => {
      const caller = await ctx.attest()
      return { caller, plan: { compute: () => x509SvidState(deps.cache, caller, warnings), serialize: serializer('FetchX509SVID') } }
    }),
    FetchX509Bundles: streaming<X509BundlesRequest__Output, X509BundlesResponse>('FetchX509Bundles', async (_request, ctx) => {
      const caller = await ctx.attest()
      return { caller, plan: { compute: () => x509BundlesState(deps.cache, caller), serialize: serializer('FetchX509Bundles') } }
    }),
    FetchJWTBundles: streaming<JWTBundlesRequest__Output, JWTBundlesResponse>('FetchJWTBundles', async (_request, ctx) => {
      const caller = await ctx.attest()
      return { caller, plan: { compute: () => jwtBundlesState(deps.cache, caller), serialize: serializer('FetchJWTBundles') } }
    }),
    FetchJWTSVID: unary<JWTSVIDRequest__Output, JWTSVIDResponse>('FetchJWTSVID', fetchJwtSvids),
    ValidateJWTSVID: unary<ValidateJWTSVIDRequest__Output, ValidateJWTSVIDResponse>('ValidateJWTSVID', validateJwtSvid),
    FetchWITSVID: unimplemented('FetchWITSVID'),
    FetchWITBundles: unimplemented('FetchWITBundles'),
  }

  return {
    definition,
    handlers,
    get openStreams() {
      return streams.size
    },
    close() {
      closed = true
      for (const stream of [...streams]) stream.end()
    },
  }
}
