import { FailedPreconditionError, InvalidArgumentError, NotFoundError, errorMessage } from '../../../common/errors.js'
import type { DeleteFederatedBundleRequest__Output } from '../../../proto/generated/steeple/admin/v1/DeleteFederatedBundleRequest.js'
import type { DeleteFederatedBundleResponse } from '../../../proto/generated/steeple/admin/v1/DeleteFederatedBundleResponse.js'
import type { ListFederatedBundlesResponse } from '../../../proto/generated/steeple/admin/v1/ListFederatedBundlesResponse.js'
import type { SetFederatedBundleRequest__Output } from '../../../proto/generated/steeple/admin/v1/SetFederatedBundleRequest.js'
import type { Bundle as BundleMessage } from '../../../proto/generated/steeple/common/v1/Bundle.js'
import {
  SpiffeError,
  parseSpiffeBundle,
  parseTrustDomain,
  parseX509BundlePem,
  type Bundle,
  type TrustDomain,
} from '../../../spiffe/index.js'
import { bundleToMessage } from '../convert.js'
import { recordAudit, type AdminContext } from './common.js'

/** Largest bundle document accepted (a bundle holds a few certificates and keys). */
export const MAX_BUNDLE_BYTES = 1024 * 1024

/** GetBundle, ListFederatedBundles, SetFederatedBundle, DeleteFederatedBundle. */
export class BundleHandlers {
  readonly #ctx: AdminContext

  constructor(ctx: AdminContext) {
    this.#ctx = ctx
  }

  /** The server's own trust domain bundle, as published. */
  async get(): Promise<BundleMessage> {
    return bundleToMessage(this.#ctx.core.ownBundle.current())
  }

  /** Every bundle of another trust domain, by trust domain name. */
  async listFederated(): Promise<ListFederatedBundlesResponse> {
    const own = this.#ctx.core.config.trustDomain
    const bundles = (await this.#ctx.core.store.bundles.list())
      .filter((b) => !b.trustDomain.equals(own))
      .sort((a, b) => (a.trustDomain.name < b.trustDomain.name ? -1 : a.trustDomain.name > b.trustDomain.name ? 1 : 0))
    return { bundles: bundles.map(bundleToMessage) }
  }

  /**
   * Adds or replaces the bundle of another trust domain, from a SPIFFE bundle document or PEM
   * certificates. A PEM bundle carries no sequence number: the stored one goes up by one.
   * @throws InvalidArgumentError naming `trust_domain`, `format` or `data`.
   */
  async setFederated(request: SetFederatedBundleRequest__Output): Promise<BundleMessage> {
    const td = this.#federatedTrustDomain(request.trust_domain)
    const data = request.data
    if (data.length === 0) throw new InvalidArgumentError('data: the bundle is empty')
    if (data.length > MAX_BUNDLE_BYTES) throw new InvalidArgumentError(`data: must not be larger than ${MAX_BUNDLE_BYTES} bytes`)
    let bundle: Bundle
    try {
      if (request.format === 'spiffe') bundle = parseSpiffeBundle(td, new Uint8Array(data))
      else if (request.format === 'pem') bundle = parseX509BundlePem(td, new Uint8Array(data))
      else throw new InvalidArgumentError('format: must be "pem" or "spiffe"')
    } catch (err) {
      // The parsers name the member and the rule; anything else is a bug, not the caller's fault,
      // and must not hand the caller a third-party message.
      if (!(err instanceof SpiffeError)) throw err
      throw new InvalidArgumentError(`data: ${err.message}`, { cause: err })
    }
    if (bundle.x509Authorities.length === 0 && bundle.jwtAuthorities.size === 0) {
      throw new InvalidArgumentError('data: the bundle has no X.509 or JWT authorities')
    }
    const bundles = this.#ctx.core.store.bundles
    if (bundle.sequenceNumber === undefined) {
      const stored = await bundles.get(td)
      bundle = bundle.with({ sequenceNumber: (stored?.sequenceNumber ?? 0n) + 1n })
    }
    const saved = await bundles.set(bundle)
    await this.#audit('bundle.set', td, {
      x509Authorities: saved.x509Authorities.length,
      jwtAuthorities: saved.jwtAuthorities.size,
      sequenceNumber: saved.sequenceNumber?.toString(),
    })
    this.#ctx.log.info('Federated bundle set', { trustDomain: td.name, actor: this.#ctx.actor })
    return bundleToMessage(saved)
  }

  /**
   * Deletes the bundle of another trust domain, refusing while entries federate with it (their
   * workloads would silently lose that trust).
   * @throws InvalidArgumentError, NotFoundError, FailedPreconditionError.
   */
  async deleteFederated(request: DeleteFederatedBundleRequest__Output): Promise<DeleteFederatedBundleResponse> {
    const td = this.#federatedTrustDomain(request.trust_domain)
    const users = await this.#ctx.core.store.entries.count({ federatesWith: td })
    if (users > 0) {
      throw new FailedPreconditionError(
        `bundle: ${users} registration ${users === 1 ? 'entry federates' : 'entries federate'} with "${td.name}": remove it from their federates_with first`,
      )
    }
    try {
      await this.#ctx.core.store.bundles.delete(td)
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`bundle: no federated bundle for trust domain "${td.name}"`, { cause: err })
      throw err
    }
    await this.#audit('bundle.delete', td, {})
    this.#ctx.log.info('Federated bundle deleted', { trustDomain: td.name, actor: this.#ctx.actor })
    return {}
  }

  #federatedTrustDomain(value: string): TrustDomain {
    if (value === '') throw new InvalidArgumentError('trust_domain: is required')
    let td: TrustDomain
    try {
      td = parseTrustDomain(value)
    } catch (err) {
      throw new InvalidArgumentError(`trust_domain: ${errorMessage(err)}`, { cause: err })
    }
    const own = this.#ctx.core.config.trustDomain
    if (td.equals(own)) throw new InvalidArgumentError(`trust_domain: "${td.name}" is the server's own trust domain, whose bundle the CA manages`)
    return td
  }

  async #audit(action: string, td: TrustDomain, details: Record<string, unknown>): Promise<void> {
    await recordAudit(this.#ctx, [{ at: this.#ctx.core.clock(), action, actor: this.#ctx.actor, subject: td.idString(), entryId: '', details }])
  }
}
