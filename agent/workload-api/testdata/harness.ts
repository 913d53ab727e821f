import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { createLogger, type Logger } from '../../../common/logger.js'
import { loadWorkloadApi } from '../../../proto/index.js'
import { SelectorSet, parseSelector, parseTrustDomain, type TrustDomain } from '../../../spiffe/index.js'
import { WorkloadApiClient } from '../../../workloadapi/index.js'
import { FakeIdentityCache } from '../../../test/fakes/fake-identity-cache.js'
import type { WorkloadAttestation } from '../caller.js'
import { startWorkloadApi, type RunningWorkloadApi } from '../server.js'

/** Test support for the Workload API: a real socket and service over a fake identity cache. */

export const TRUST_DOMAIN: TrustDomain = parseTrustDomain('example.org')
export const WorkloadApi = loadWorkloadApi()

export type LogLine = Record<string, unknown>

/** The outcome of a raw call: status code and details, and the messages received. */
export interface RawResult<M = Record<string, unknown>> {
  code: number
  details: string
  messages: M[]
}

/**
 * A Workload API on a socket in a temporary directory. Callers are attested by a fake: every pid
 * gets `selectors` unless `selectorsByPid` says otherwise, and `beforeAttest` may stall or fail it.
 */
export class Harness {
  readonly logs: LogLine[] = []
  readonly log: Logger = createLogger({ level: 'debug', write: (line) => this.logs.push(JSON.parse(line) as LogLine) })
  readonly cache = new FakeIdentityCache(TRUST_DOMAIN)
  selectors: string[] = ['test:caller']
  readonly selectorsByPid = new Map<number, string[]>()
  /** Pids attested, in order. */
  readonly attested: number[] = []
  beforeAttest: ((pid: number, signal?: AbortSignal) => Promise<void>) | undefined
  now: Date | undefined
  api!: RunningWorkloadApi
  #clients: grpc.Client[] = []
  #apiClients: WorkloadApiClient[] = []

  private constructor(readonly dir: string) {}

  /** `firstMessageWaitMs`: how long new streams wait for an SVID being minted (the service default when absent). */
  static async start(options: { firstMessageWaitMs?: number } = {}): Promise<Harness> {
    const h = new Harness(await mkdtemp(join(tmpdir(), 'steeple-wapi-')))
    const attestation: WorkloadAttestation = {
      attest: async (pid, signal) => {
        h.attested.push(pid)
        await h.beforeAttest?.(pid, signal)
        return new SelectorSet((h.selectorsByPid.get(pid) ?? h.selectors).map(parseSelector))
      },
    }
    h.api = await startWorkloadApi({
      config: { socketPath: join(h.dir, 'agent', 'api.sock'), trustDomain: TRUST_DOMAIN },
      cache: h.cache,
      attestors: attestation,
      log: h.log,
      now: () => h.now ?? new Date(),
      ...options,
    })
    return h
  }

  get address(): string {
    return `unix://${this.api.socketPath}`
  }

  /** The project's client, closed by {@link stop}. */
  client(): WorkloadApiClient {
    const client = WorkloadApiClient.connect({ address: this.address, backoff: { initialMs: 50, maxMs: 200 } })
    this.#apiClients.push(client)
    return client
  }

  /** A plain grpc-js client, so tests choose the metadata. */
  raw(): grpc.Client {
    const client = new WorkloadApi(this.address, grpc.credentials.createInsecure())
    this.#clients.push(client)
    return client
  }

  /** Log lines with this message. */
  logsWith(msg: string): LogLine[] {
    return this.logs.filter((line) => line['msg'] === msg)
  }

  async stop(): Promise<void> {
    for (const client of this.#apiClients) client.close()
    for (const client of this.#clients) client.close()
    await this.api.close()
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** Metadata with `workload.spiffe.io` set to each of `values` (none: no header). */
export function headerMetadata(...values: string[]): grpc.Metadata {
  const metadata = new grpc.Metadata()
  for (const value of values) metadata.add('workload.spiffe.io', value)
  return metadata
}

const STREAMING = new Set(['FetchX509SVID', 'FetchX509Bundles', 'FetchJWTBundles', 'FetchWITSVID', 'FetchWITBundles'])

/**
 * One raw call of any Workload API method. Streams are read until they end or `maxMessages` have
 * arrived (then cancelled, which counts as code 0). `options` may set a deadline.
 */
export function rawCall(
  client: grpc.Client,
  method: string,
  request: object,
  metadata: grpc.Metadata,
  maxMessages = 1,
  options: grpc.CallOptions = {},
): Promise<RawResult> {
  const def = WorkloadApi.service[method]!
  return new Promise((resolve) => {
    if (!STREAMING.has(method)) {
      client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata, options, (err, response) => {
        if (err) resolve({ code: err.code, details: err.details, messages: [] })
        else resolve({ code: 0, details: '', messages: [response as Record<string, unknown>] })
      })
      return
    }
    const call = client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata, options)
    const messages: Record<string, unknown>[] = []
    let done = false
    const finish = (code: number, details: string): void => {
      if (done) return
      done = true
      resolve({ code, details, messages })
    }
    call.on('data', (message: Record<string, unknown>) => {
      messages.push(message)
      if (messages.length >= maxMessages) {
        finish(0, '')
        call.cancel()
      }
    })
    call.on('error', (err: grpc.ServiceError) => finish(err.code, err.details))
    call.on('end', () => finish(0, ''))
  })
}

/** An open stream whose messages and final status a test reads one at a time. */
export class OpenStream<M = Record<string, unknown>> {
  readonly #messages: M[] = []
  readonly #waiters: (() => void)[] = []
  #status: { code: number; details: string } | undefined
  readonly call: grpc.ClientReadableStream<M>

  constructor(client: grpc.Client, method: string, metadata: grpc.Metadata = headerMetadata('true')) {
    const def = WorkloadApi.service[method]!
    this.call = client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, {}, metadata) as grpc.ClientReadableStream<M>
    this.call.on('data', (message: M) => {
      this.#messages.push(message)
      this.#wake()
    })
    this.call.on('error', (err: grpc.ServiceError) => {
      this.#status = { code: err.code, details: err.details }
      this.#wake()
    })
    this.call.on('end', () => {
      this.#status ??= { code: 0, details: '' }
      this.#wake()
    })
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter()
  }

  /** Messages received and not yet taken. */
  get pending(): number {
    return this.#messages.length
  }

  /** The next message; rejects when the stream ends first or nothing arrives within `timeoutMs`. */
  async next(timeoutMs = 5000): Promise<M> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const message = this.#messages.shift()
      if (message !== undefined) return message
      if (this.#status !== undefined) throw new Error(`stream ended (${this.#status.code}: ${this.#status.details}) before a message`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no message within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** The status the stream ended with; rejects when it is still open after `timeoutMs`. */
  async ended(timeoutMs = 5000): Promise<{ code: number; details: string }> {
    const deadline = Date.now() + timeoutMs
    while (this.#status === undefined) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`stream still open after ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    return this.#status
  }

  /** Waits `ms` and says whether a message arrived meanwhile (without taking it). */
  async quietFor(ms: number): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, ms))
    return this.#messages.length === 0 && this.#status === undefined
  }

  cancel(): void {
    this.call.cancel()
  }
}
