import * as grpc from '@grpc/grpc-js'
import { resolve } from 'node:path'
import type { Agent__Output } from '../../proto/generated/steeple/admin/v1/Agent.js'
import type { AgentRequest } from '../../proto/generated/steeple/admin/v1/AgentRequest.js'
import type { CountResponse__Output } from '../../proto/generated/steeple/admin/v1/CountResponse.js'
import type { CreateEntriesRequest } from '../../proto/generated/steeple/admin/v1/CreateEntriesRequest.js'
import type { CreateJoinTokenRequest } from '../../proto/generated/steeple/admin/v1/CreateJoinTokenRequest.js'
import type { CreateJoinTokenResponse__Output } from '../../proto/generated/steeple/admin/v1/CreateJoinTokenResponse.js'
import type { DeleteEntriesRequest } from '../../proto/generated/steeple/admin/v1/DeleteEntriesRequest.js'
import type { DeleteFederatedBundleRequest } from '../../proto/generated/steeple/admin/v1/DeleteFederatedBundleRequest.js'
import type { DeleteFederatedBundleResponse__Output } from '../../proto/generated/steeple/admin/v1/DeleteFederatedBundleResponse.js'
import type { EntryResults__Output } from '../../proto/generated/steeple/admin/v1/EntryResults.js'
import type { GetEntryRequest } from '../../proto/generated/steeple/admin/v1/GetEntryRequest.js'
import type { HealthResponse__Output } from '../../proto/generated/steeple/admin/v1/HealthResponse.js'
import type { ListAgentsRequest } from '../../proto/generated/steeple/admin/v1/ListAgentsRequest.js'
import type { ListAgentsResponse__Output } from '../../proto/generated/steeple/admin/v1/ListAgentsResponse.js'
import type { ListAuditEventsRequest } from '../../proto/generated/steeple/admin/v1/ListAuditEventsRequest.js'
import type { ListAuditEventsResponse__Output } from '../../proto/generated/steeple/admin/v1/ListAuditEventsResponse.js'
import type { ListEntriesRequest } from '../../proto/generated/steeple/admin/v1/ListEntriesRequest.js'
import type { ListEntriesResponse__Output } from '../../proto/generated/steeple/admin/v1/ListEntriesResponse.js'
import type { ListFederatedBundlesResponse__Output } from '../../proto/generated/steeple/admin/v1/ListFederatedBundlesResponse.js'
import type { MintJWTSVIDRequest } from '../../proto/generated/steeple/admin/v1/MintJWTSVIDRequest.js'
import type { MintJWTSVIDResponse__Output } from '../../proto/generated/steeple/admin/v1/MintJWTSVIDResponse.js'
import type { MintX509SVIDRequest } from '../../proto/generated/steeple/admin/v1/MintX509SVIDRequest.js'
import type { MintX509SVIDResponse__Output } from '../../proto/generated/steeple/admin/v1/MintX509SVIDResponse.js'
import type { SetFederatedBundleRequest } from '../../proto/generated/steeple/admin/v1/SetFederatedBundleRequest.js'
import type { UpdateEntriesRequest } from '../../proto/generated/steeple/admin/v1/UpdateEntriesRequest.js'
import type { Bundle__Output } from '../../proto/generated/steeple/common/v1/Bundle.js'
import type { RegistrationEntry__Output } from '../../proto/generated/steeple/common/v1/RegistrationEntry.js'
import { loadAdminApi } from '../../proto/index.js'
import { CliError } from './output.js'

/** Every admin RPC: [request, response]. */
export interface AdminMethods {
  CreateEntries: [CreateEntriesRequest, EntryResults__Output]
  UpdateEntries: [UpdateEntriesRequest, EntryResults__Output]
  DeleteEntries: [DeleteEntriesRequest, EntryResults__Output]
  GetEntry: [GetEntryRequest, RegistrationEntry__Output]
  ListEntries: [ListEntriesRequest, ListEntriesResponse__Output]
  CountEntries: [ListEntriesRequest, CountResponse__Output]
  ListAgents: [ListAgentsRequest, ListAgentsResponse__Output]
  GetAgent: [AgentRequest, Agent__Output]
  EvictAgent: [AgentRequest, Agent__Output]
  BanAgent: [AgentRequest, Agent__Output]
  CreateJoinToken: [CreateJoinTokenRequest, CreateJoinTokenResponse__Output]
  GetBundle: [Record<string, never>, Bundle__Output]
  ListFederatedBundles: [Record<string, never>, ListFederatedBundlesResponse__Output]
  SetFederatedBundle: [SetFederatedBundleRequest, Bundle__Output]
  DeleteFederatedBundle: [DeleteFederatedBundleRequest, DeleteFederatedBundleResponse__Output]
  MintX509SVID: [MintX509SVIDRequest, MintX509SVIDResponse__Output]
  MintJWTSVID: [MintJWTSVIDRequest, MintJWTSVIDResponse__Output]
  ListAuditEvents: [ListAuditEventsRequest, ListAuditEventsResponse__Output]
  Health: [Record<string, never>, HealthResponse__Output]
}

/** How long one call may take. */
const CALL_TIMEOUT_MS = 60_000

type UnaryMethod = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<unknown>) => unknown

/** The operator CLI's connection to the admin API on the server's Unix socket. */
export class AdminClient {
  readonly socketPath: string
  readonly #client: grpc.Client

  /** `socketPath` may be relative to the working directory. */
  constructor(socketPath: string) {
    this.socketPath = resolve(socketPath)
    const Client = loadAdminApi()
    this.#client = new Client(`unix:${this.socketPath}`, grpc.credentials.createInsecure())
  }

  /** Calls one admin RPC. @throws CliError with the server's message, or saying why the server is unreachable. */
  call<M extends keyof AdminMethods>(method: M, request: AdminMethods[M][0]): Promise<AdminMethods[M][1]> {
    const fn = (this.#client as unknown as Record<string, UnaryMethod>)[method]
    if (fn === undefined) throw new TypeError(`admin client: no method ${method}`)
    return new Promise((resolvePromise, reject) => {
      fn.call(this.#client, request, new grpc.Metadata(), { deadline: Date.now() + CALL_TIMEOUT_MS }, (err, response) => {
        if (err !== null) reject(this.#describe(err))
        else resolvePromise(response as AdminMethods[M][1])
      })
    })
  }

  close(): void {
    this.#client.close()
  }

  #describe(err: grpc.ServiceError): CliError {
    if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
      const reason = /EACCES/.test(err.details)
        ? 'permission denied: the admin socket is owner-only, run as the user the server runs as'
        : /ENOENT|ECONNREFUSED|No connection established|connect/.test(err.details)
          ? 'nothing answers there; is steeple-server running, and is --socket-path right?'
          : err.details
      return new CliError(`cannot reach steeple-server at ${this.socketPath}: ${reason}`, { cause: err })
    }
    return new CliError(err.details, { cause: err })
  }
}

/** Runs `use` with a client for `socketPath`, closing it afterwards. */
export async function withClient<T>(socketPath: string, use: (client: AdminClient) => Promise<T>): Promise<T> {
  const client = new AdminClient(socketPath)
  try {
    return await use(client)
  } finally {
    client.close()
  }
}
