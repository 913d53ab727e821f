import { InvalidArgumentError, errorMessage } from '../../../common/errors.js'
import type { MintJWTSVIDRequest__Output } from '../../../proto/generated/steeple/admin/v1/MintJWTSVIDRequest.js'
import type { MintJWTSVIDResponse } from '../../../proto/generated/steeple/admin/v1/MintJWTSVIDResponse.js'
import type { MintX509SVIDRequest__Output } from '../../../proto/generated/steeple/admin/v1/MintX509SVIDRequest.js'
import type { MintX509SVIDResponse } from '../../../proto/generated/steeple/admin/v1/MintX509SVIDResponse.js'
import { SpiffeError } from '../../../spiffe/errors.js'
import { parseCsr, type CertificateRequest, type MintedX509Svid } from '../../../spiffe/index.js'
import { serialHex } from '../agent/index.js'
import { unixSeconds } from '../convert.js'
import { recordAudit, ttlField, workloadIdField, type AdminContext } from './common.js'

/** Most audience values of one JWT-SVID. */
export const MAX_AUDIENCE_VALUES = 32
/** Most DNS names of one X.509-SVID. */
export const MAX_DNS_NAMES = 100

/**
 * MintX509SVID and MintJWTSVID: SVIDs for any workload ID of the trust domain, without a
 * registration entry (SPIRE's `x509 mint` / `jwt mint`). Each is recorded in the audit trail with
 * the admin as actor.
 */
export class MintHandlers {
  readonly #ctx: AdminContext

  constructor(ctx: AdminContext) {
    this.#ctx = ctx
  }

  /**
   * Signs the CSR's public key (its names are ignored) for `spiffe_id`; the lifetime is `ttl` or
   * the default, capped at the CA's.
   * @throws InvalidArgumentError naming `spiffe_id`, `csr`, `ttl` or `dns_names`.
   */
  async x509(request: MintX509SVIDRequest__Output): Promise<MintX509SVIDResponse> {
    const core = this.#ctx.core
    const spiffeId = workloadIdField(this.#ctx, request.spiffe_id, 'spiffe_id')
    const csr = csrField(request.csr)
    const ttlSeconds = ttlField(request.ttl, 'ttl', core.config.defaultX509SvidTtlSeconds)
    if (request.dns_names.length > MAX_DNS_NAMES) throw new InvalidArgumentError(`dns_names: at most ${MAX_DNS_NAMES} names`)
    let svid: MintedX509Svid
    try {
      svid = core.ca.signX509Svid({ spiffeId, publicKey: csr.publicKey, ttlSeconds, dnsNames: request.dns_names })
    } catch (err) {
      // The ID and TTL are checked above; what minting can still refuse is a DNS name or the key.
      if (err instanceof SpiffeError && err.code === 'INVALID_MINT_REQUEST') {
        const rule = errorMessage(err).replace(/^x509mint: /, '')
        if (/DNS name/.test(rule)) throw new InvalidArgumentError(`dns_names: ${rule}`, { cause: err })
        if (/key/i.test(rule)) throw new InvalidArgumentError(`csr: ${rule}`, { cause: err })
      }
      throw err
    }
    const serial = serialHex(svid.serial)
    await recordAudit(this.#ctx, [
      {
        at: core.clock(),
        action: 'svid.x509.sign',
        actor: this.#ctx.actor,
        subject: spiffeId.toString(),
        entryId: '',
        details: { serial, notAfter: svid.notAfter.toISOString(), dnsNames: [...request.dns_names], via: 'admin mint' },
      },
    ])
    this.#ctx.log.info('X.509-SVID minted', { spiffeId: spiffeId.toString(), serial, notAfter: svid.notAfter.toISOString(), actor: this.#ctx.actor })
    const bundle = await core.ca.bundle()
    return {
      svid_chain: [...svid.chainDer],
      expires_at: unixSeconds(svid.notAfter),
      bundle: bundle.x509Authorities.map((der) => Buffer.from(der)),
    }
  }

  /**
   * Signs a JWT-SVID for `spiffe_id` and `audience`; the lifetime is `ttl` or the default, capped
   * at the signing key's.
   * @throws InvalidArgumentError naming `spiffe_id`, `audience` or `ttl`.
   */
  async jwt(request: MintJWTSVIDRequest__Output): Promise<MintJWTSVIDResponse> {
    const core = this.#ctx.core
    const spiffeId = workloadIdField(this.#ctx, request.spiffe_id, 'spiffe_id')
    const audience = request.audience
    if (audience.length === 0) throw new InvalidArgumentError('audience: at least one value is required')
    if (audience.length > MAX_AUDIENCE_VALUES) throw new InvalidArgumentError(`audience: at most ${MAX_AUDIENCE_VALUES} values`)
    for (const [i, value] of audience.entries()) {
      if (value === '') throw new InvalidArgumentError(`audience[${i}]: must not be empty`)
    }
    const ttlSeconds = ttlField(request.ttl, 'ttl', core.config.defaultJwtSvidTtlSeconds)
    const jwt = core.ca.signJwtSvid({ spiffeId, audience, ttlSeconds })
    await recordAudit(this.#ctx, [
      {
        at: core.clock(),
        action: 'svid.jwt.sign',
        actor: this.#ctx.actor,
        subject: spiffeId.toString(),
        entryId: '',
        details: { audience: [...audience], expiresAt: jwt.expiresAt.toISOString(), via: 'admin mint' },
      },
    ])
    this.#ctx.log.info('JWT-SVID minted', { spiffeId: spiffeId.toString(), audience, expiresAt: jwt.expiresAt.toISOString(), actor: this.#ctx.actor })
    return { token: jwt.token, expires_at: unixSeconds(jwt.expiresAt) }
  }
}

function csrField(bytes: Buffer | undefined): CertificateRequest {
  if (bytes === undefined || bytes.length === 0) throw new InvalidArgumentError('csr: a PKCS#10 certificate request (DER) is required')
  try {
    return parseCsr(new Uint8Array(bytes))
  } catch (err) {
    throw new InvalidArgumentError(`csr: ${errorMessage(err)}`, { cause: err })
  }
}
