import { SpiffeError, type BundleSet } from '../spiffe/index.js'
import type { WorkloadApiClient } from './client.js'
import type { WorkloadX509Svid, X509Context } from './decode.js'

/** Which of the caller's SVIDs a source hands out; the default identity (the first) when absent. */
export type X509SvidPicker = (svids: readonly WorkloadX509Svid[]) => WorkloadX509Svid | undefined

/** Picks the SVID with this hint (operators set hints on entries to tell identities apart). */
export function pickByHint(hint: string): X509SvidPicker {
  return (svids) => svids.find((s) => s.hint === hint)
}

/** Picks the SVID with this SPIFFE ID. */
export function pickById(id: string): X509SvidPicker {
  return (svids) => svids.find((s) => s.id.toString() === id)
}

export interface X509SourceOptions {
  /** Defaults to the default identity (the first SVID). */
  readonly picker?: X509SvidPicker
  /** Called with errors the watch recovers from (the agent restarting, a bad message). */
  readonly onError?: (err: Error) => void
  /** Aborting stops the first wait as well. */
  readonly signal?: AbortSignal
}

/**
 * The caller's current X509-SVID and bundles, kept up to date from a Workload API watch (as
 * go-spiffe's `workloadapi.X509Source`): TLS code asks it for the SVID and bundles at each
 * handshake, and listeners hear of every rotation.
 */
export class X509Source {
  readonly #picker: X509SvidPicker
  readonly #listeners = new Set<(source: X509Source) => void>()
  readonly #stop = new AbortController()
  #context: X509Context | undefined
  #svid: WorkloadX509Svid | undefined
  #watch: Promise<void> | undefined

  private constructor(picker: X509SvidPicker) {
    this.#picker = picker
  }

  /**
   * Starts watching and resolves with the first context that has an SVID for the picker.
   * @throws the WorkloadApiError that ended the watch for good, or the signal's reason.
   */
  static async create(client: WorkloadApiClient, options: X509SourceOptions = {}): Promise<X509Source> {
    const source = new X509Source(options.picker ?? ((svids) => svids[0]))
    const first = new Promise<void>((resolve, reject) => {
      const onFirst = (): void => {
        source.#listeners.delete(onFirst)
        resolve()
      }
      source.#listeners.add(onFirst)
      const stop = options.signal !== undefined ? AbortSignal.any([options.signal, source.#stop.signal]) : source.#stop.signal
      source.#watch = client
        .watchX509Context((context) => source.#update(context), options.onError ?? (() => {}), stop)
        .then(() => reject(stop.reason ?? new SpiffeError('WORKLOAD_API_REQUEST_FAILED', 'x509source: closed before the first SVID')), reject)
    })
    try {
      await first
    } catch (err) {
      source.close()
      throw err
    }
    return source
  }

  /** The SVID to present now. */
  get svid(): WorkloadX509Svid {
    return this.#svid!
  }

  /** The bundles to verify peers with now (own trust domain and federated ones). */
  get bundles(): BundleSet {
    return this.#context!.bundles
  }

  /** Calls `listener` after each update that the picker found an SVID in; returns the unsubscribe. */
  onUpdate(listener: (source: X509Source) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Stops watching. */
  close(): void {
    this.#stop.abort(new SpiffeError('WORKLOAD_API_REQUEST_FAILED', 'x509source: closed'))
    void this.#watch?.catch(() => {})
  }

  #update(context: X509Context): void {
    const svid = this.#picker(context.svids)
    // A context without the picked identity keeps the last one until it comes back or expires.
    if (svid === undefined) return
    this.#context = context
    this.#svid = svid
    for (const listener of [...this.#listeners]) listener(this)
  }
}
