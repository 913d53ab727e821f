import type { MintJWTSVIDRequest__Output } from '../../../proto/generated/steeple/admin/v1/MintJWTSVIDRequest.js'
import type { MintJWTSVIDResponse } from '../../../proto/generated/steeple/admin/v1/MintJWTSVIDResponse.js'
import type { MintX509SVIDRequest__Output } from '../../../proto/generated/steeple/admin/v1/MintX509SVIDRequest.js'
import type { MintX509SVIDResponse } from '../../../proto/generated/steeple/admin/v1/MintX509SVIDResponse.js'
import { csrFromField, unixSeconds } from '../convert.js'
import { workloadIdField, type AdminContext } from './common.js'

/** How operator mints appear in the audit trail (`details.via`). */
const VIA = 'admin mint'

/**
 * MintX509SVID and MintJWTSVID: SVIDs for any workload ID of the trust domain, without a
 * registration entry (SPIRE's `x509 mint` / `jwt mint`), signed by the server's issuer with the
 * admin as actor.
 */
export class MintHandlers {
  readonly #ctx: AdminContext

  constructor(ctx: AdminContext) {
    this.#ctx = ctx
  }

  /**
   * Signs the CSR's public key (its names are ignored) for `spiffe_id`.
   * @throws InvalidArgumentError naming `spiffe_id`, `csr`, `ttl` or `dns_names`.
   */
  async x509(request: MintX509SVIDRequest__Output): Promise<MintX509SVIDResponse> {
    const core = this.#ctx.core
    const spiffeId = workloadIdField(this.#ctx, request.spiffe_id, 'spiffe_id')
    const csr = csrFromField(request.csr)
    const { svid, serial } = await core.issuer.issueOneX509(
      { spiffeId, publicKey: csr.publicKey, ttlSeconds: request.ttl, dnsNames: request.dns_names },
      { actor: this.#ctx.actor, via: VIA },
    )
    this.#ctx.log.info('X.509-SVID minted', { spiffeId: spiffeId.toString(), serial, notAfter: svid.notAfter.toISOString(), actor: this.#ctx.actor })
    const bundle = core.ownBundle.current()
    return {
      svid_chain: [...svid.chainDer],
      expires_at: unixSeconds(svid.notAfter),
      bundle: bundle.x509Authorities.map((der) => Buffer.from(der)),
    }
  }

  /**
   * Signs a JWT-SVID for `spiffe_id` and `audience`.
   * @throws InvalidArgumentError naming `spiffe_id`, `audience` or `ttl`.
   */
  async jwt(request: MintJWTSVIDRequest__Output): Promise<MintJWTSVIDResponse> {
    const spiffeId = workloadIdField(this.#ctx, request.spiffe_id, 'spiffe_id')
    const jwt = await this.#ctx.core.issuer.issueJwt(
      { spiffeId, audience: request.audience, ttlSeconds: request.ttl },
      { actor: this.#ctx.actor, via: VIA },
    )
    this.#ctx.log.info('JWT-SVID minted', { spiffeId: spiffeId.toString(), audience: request.audience, expiresAt: jwt.expiresAt.toISOString(), actor: this.#ctx.actor })
    return { token: jwt.token, expires_at: unixSeconds(jwt.expiresAt) }
  }
}
