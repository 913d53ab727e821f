import { errorMessage } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { BundleStore } from '../../plugins/data-store/types.js'
import { Bundle, type TrustDomain } from '../../spiffe/index.js'

/** Called with the own bundle after it changed. */
export type OwnBundleListener = (bundle: Bundle) => void

/** What {@link OwnBundle} works with. */
export interface OwnBundleOptions {
  readonly trustDomain: TrustDomain
  /** Only `get` is read. */
  readonly bundles: Pick<BundleStore, 'get'>
  /**
   * This server's CA: calls back, and waits for the returned promise, after it changed the bundle
   * or switched its active authority.
   */
  readonly ca: { onBundleChange(listener: () => Promise<void>): () => void }
  /** The entry cache: reports by trust domain name the bundles any server sharing the store changed. */
  readonly changes: { onChange(listener: (change: { readonly bundleTrustDomains: readonly string[] }) => void): () => void }
  readonly log: Logger
}

/**
 * The one holder of the server's own trust domain bundle, as stored (every server's authorities,
 * when several share a store). It is read once at start and again when this server's CA changes
 * it or the entry cache reports a change by another server; readers get it from memory, since it
 * is read for every SVID signed and reading and decoding it cost about as much as signing.
 *
 * Refreshes run one at a time; requests made while one waits to run share it, and a request made
 * while one runs gets a later one, so its read sees the change it announces. A failed read is
 * logged and the bundle held stays. Subscribers are called once per refresh that found a change;
 * a change announced by the CA always counts, since the CA may have switched its active authority
 * without changing the bundle (the server SVID follows that).
 */
export class OwnBundle {
  readonly #o: OwnBundleOptions
  readonly #listeners = new Set<OwnBundleListener>()
  readonly #unsubscribe: (() => void)[] = []
  #current: Bundle
  #tail: Promise<void> = Promise.resolve()
  #queued: Promise<void> | undefined
  #queuedByCa = false
  #closed = false

  private constructor(options: OwnBundleOptions) {
    this.#o = options
    this.#current = new Bundle(options.trustDomain)
  }

  /**
   * Reads the bundle (an empty one when none is stored) and starts following changes.
   * @throws what the store throws.
   */
  static async start(options: OwnBundleOptions): Promise<OwnBundle> {
    const owner = new OwnBundle(options)
    // Following starts before the first read, so a change made during it is not missed.
    owner.#unsubscribe.push(
      options.ca.onBundleChange(() => owner.#request(true)),
      options.changes.onChange((change) => {
        if (change.bundleTrustDomains.includes(options.trustDomain.name)) void owner.#request(false)
      }),
    )
    const first = owner.#read().then((bundle) => {
      owner.#current = bundle
    })
    owner.#tail = first.catch(() => undefined)
    try {
      await first
    } catch (err) {
      await owner.close()
      throw err
    }
    return owner
  }

  /** The bundle as last read. */
  current(): Bundle {
    return this.#current
  }

  /** Calls `listener` after each change, with the new bundle. Returns a function that unsubscribes. */
  subscribe(listener: OwnBundleListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Reads the bundle again, after any refresh under way, and notifies subscribers if it changed.
   * Never rejects: a failed read is logged and the bundle held stays.
   */
  refresh(): Promise<void> {
    return this.#request(false)
  }

  /** Stops following changes and waits for a refresh under way; subscribers hear nothing more. */
  async close(): Promise<void> {
    this.#closed = true
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe()
    await this.#tail
  }

  #request(byCa: boolean): Promise<void> {
    if (this.#closed) return Promise.resolve()
    if (byCa) this.#queuedByCa = true
    if (this.#queued !== undefined) return this.#queued
    const run = this.#tail.then(() => {
      this.#queued = undefined
      const force = this.#queuedByCa
      this.#queuedByCa = false
      return this.#refresh(force)
    })
    this.#queued = run
    this.#tail = run
    return run
  }

  /** Never rejects. */
  async #refresh(force: boolean): Promise<void> {
    if (this.#closed) return
    let bundle: Bundle
    try {
      bundle = await this.#read()
    } catch (err) {
      this.#o.log.error('Own bundle refresh failed', { trustDomain: this.#o.trustDomain.name, err: errorMessage(err) })
      return
    }
    if (this.#closed) return
    const changed = !sameBundle(this.#current, bundle)
    this.#current = bundle
    if (!changed && !force) return
    for (const listener of [...this.#listeners]) {
      try {
        listener(bundle)
      } catch (err) {
        this.#o.log.error('Bundle listener failed', { err: errorMessage(err) })
      }
    }
  }

  async #read(): Promise<Bundle> {
    return (await this.#o.bundles.get(this.#o.trustDomain)) ?? new Bundle(this.#o.trustDomain)
  }
}

function sameBundle(a: Bundle, b: Bundle): boolean {
  if (a.sequenceNumber !== b.sequenceNumber || a.refreshHintSeconds !== b.refreshHintSeconds) return false
  if (a.x509Authorities.length !== b.x509Authorities.length || a.jwtAuthorities.size !== b.jwtAuthorities.size) return false
  if (!a.x509Authorities.every((der, i) => Buffer.from(der).equals(b.x509Authorities[i]!))) return false
  for (const [kid, authority] of a.jwtAuthorities) {
    const other = b.jwtAuthorities.get(kid)
    if (other === undefined || !other.publicKey.equals(authority.publicKey)) return false
  }
  return true
}
