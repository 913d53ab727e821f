import type { KeyObject } from 'node:crypto'
import { InvalidArgumentError, SteepleError, errorMessage } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { AuditEvent, AuditStore } from '../../plugins/data-store/types.js'
import { SpiffeError, type MintedX509Svid, type SignedJwtSvid, type SpiffeId } from '../../spiffe/index.js'
import { checkAudience, validateDnsNames } from '../registration/index.js'
import { recordAudit } from '../store/record-audit.js'

/**
 * The issuance policy: every X.509-SVID and JWT-SVID the server signs, for agents (for their
 * authorized entries), for operators (`x509 mint`, `jwt mint`) and for agents themselves, is
 * signed here, with the lifetime, DNS name and audience rules and the audit record of each SVID.
 * The APIs decode requests, check who may ask for what, and encode what this returns.
 */

/** Signs SVIDs with the active CA (the CA manager); lifetimes are capped by the signing key. */
export interface SvidSigner {
  signX509Svid(request: { spiffeId: SpiffeId; publicKey: KeyObject; ttlSeconds: number; dnsNames?: readonly string[] }): MintedX509Svid
  signJwtSvid(request: { spiffeId: SpiffeId; audience: readonly string[]; ttlSeconds: number }): SignedJwtSvid
}

/** What {@link SvidIssuer} works with. */
export interface SvidIssuerOptions {
  readonly signer: SvidSigner
  readonly audit: Pick<AuditStore, 'append'>
  /** Lifetimes used when a request (or its entry) sets none. */
  readonly defaults: { readonly x509SvidTtlSeconds: number; readonly jwtSvidTtlSeconds: number }
  readonly clock: () => Date
  readonly log: Logger
}

/** Who asks and through which path, for the audit trail and the logs. */
export interface IssuanceCaller {
  /** `admin:uid:<uid>` or the agent's SPIFFE ID. */
  readonly actor: string
  /** Recorded as `details.via` (e.g. `admin mint`); omitted for agents' requests. */
  readonly via?: string
}

/** One X.509-SVID to sign. */
export interface X509SvidRequest {
  readonly spiffeId: SpiffeId
  readonly publicKey: KeyObject
  /** 0 = the server default. */
  readonly ttlSeconds: number
  readonly dnsNames?: readonly string[]
  /** The registration entry it is issued for; '' for none. */
  readonly entryId?: string
}

/** One JWT-SVID to sign. */
export interface JwtSvidRequest {
  readonly spiffeId: SpiffeId
  readonly audience: readonly string[]
  /** 0 = the server default. */
  readonly ttlSeconds: number
  readonly entryId?: string
}

/** A signed X.509-SVID and its serial number as lower-case hex (an even number of digits). */
export interface IssuedX509Svid {
  readonly svid: MintedX509Svid
  readonly serial: string
}

/** The longest lifetime a request may ask for: an int32 of seconds, as on the wire. */
export const MAX_TTL_SECONDS = 2 ** 31 - 1

/** A certificate serial number as hex with an even number of digits, as logs and the audit trail show it. */
export function serialHex(serial: bigint): string {
  const hex = serial.toString(16)
  return hex.length % 2 === 1 ? `0${hex}` : hex
}

/** See the module comment. */
export class SvidIssuer {
  readonly #o: SvidIssuerOptions

  constructor(options: SvidIssuerOptions) {
    this.#o = options
  }

  /** The same policy signing through `signer` (the host wraps the CA to count signatures). */
  withSigner(signer: SvidSigner): SvidIssuer {
    return new SvidIssuer({ ...this.#o, signer })
  }

  /**
   * Signs one X.509-SVID per request, each on its own: the result at the same index is the SVID,
   * or the error refusing that request (InvalidArgumentError naming `ttl`, `dns_names` or `csr`).
   * Every SVID signed gets an audit record (one append for all); an append that fails is logged and
   * does not take back what was signed.
   */
  async issueX509(requests: readonly X509SvidRequest[], caller: IssuanceCaller): Promise<(IssuedX509Svid | SteepleError)[]> {
    const audit: AuditEvent[] = []
    const results = requests.map((request): IssuedX509Svid | SteepleError => {
      try {
        const issued = this.#signX509(request)
        audit.push(this.#event('svid.x509.sign', caller, request.spiffeId, request.entryId, {
          serial: issued.serial,
          notAfter: issued.svid.notAfter.toISOString(),
          dnsNames: [...(request.dnsNames ?? [])],
        }))
        return issued
      } catch (err) {
        if (err instanceof SteepleError) return err
        throw err
      }
    })
    await recordAudit(this.#o.audit, this.#o.log, audit)
    return results
  }

  /**
   * Signs one X.509-SVID and audits it.
   * @throws InvalidArgumentError naming `ttl`, `dns_names` or `csr`.
   */
  async issueOneX509(request: X509SvidRequest, caller: IssuanceCaller): Promise<IssuedX509Svid> {
    const [result] = await this.issueX509([request], caller)
    if (result instanceof SteepleError) throw result
    return result!
  }

  /**
   * Signs a JWT-SVID and audits it.
   * @throws InvalidArgumentError naming `ttl` or `audience`.
   */
  async issueJwt(request: JwtSvidRequest, caller: IssuanceCaller): Promise<SignedJwtSvid> {
    checkAudience(request.audience)
    const ttlSeconds = this.#ttl(request.ttlSeconds, this.#o.defaults.jwtSvidTtlSeconds)
    const jwt = this.#o.signer.signJwtSvid({ spiffeId: request.spiffeId, audience: request.audience, ttlSeconds })
    await recordAudit(this.#o.audit, this.#o.log, [
      this.#event('svid.jwt.sign', caller, request.spiffeId, request.entryId, {
        audience: [...request.audience],
        issuedAt: jwt.issuedAt.toISOString(),
        expiresAt: jwt.expiresAt.toISOString(),
      }),
    ])
    return jwt
  }

  /**
   * An agent's own X.509-SVID (the default X.509-SVID lifetime). Not audited here: attestation and
   * renewal record it with the node's change.
   */
  signAgentSvid(agentId: SpiffeId, publicKey: KeyObject): IssuedX509Svid {
    return this.#signX509({ spiffeId: agentId, publicKey, ttlSeconds: 0 })
  }

  #signX509(request: X509SvidRequest): IssuedX509Svid {
    const ttlSeconds = this.#ttl(request.ttlSeconds, this.#o.defaults.x509SvidTtlSeconds)
    const dnsNames = request.dnsNames === undefined ? [] : validateDnsNames(request.dnsNames)
    let svid: MintedX509Svid
    try {
      svid = this.#o.signer.signX509Svid({ spiffeId: request.spiffeId, publicKey: request.publicKey, ttlSeconds, dnsNames })
    } catch (err) {
      // The lifetime and DNS names are checked above, so what minting refuses is the key.
      if (err instanceof SpiffeError && err.code === 'INVALID_MINT_REQUEST') {
        throw new InvalidArgumentError(`csr: ${errorMessage(err).replace(/^x509mint: /, '')}`, { cause: err })
      }
      throw err
    }
    return { svid, serial: serialHex(svid.serial) }
  }

  #ttl(ttlSeconds: number, fallback: number): number {
    if (ttlSeconds === 0) return fallback
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_TTL_SECONDS) {
      throw new InvalidArgumentError(`ttl: must be a whole number of seconds between 1 and ${MAX_TTL_SECONDS} (0 = the server default)`)
    }
    return ttlSeconds
  }

  #event(action: string, caller: IssuanceCaller, subject: SpiffeId, entryId: string | undefined, details: Record<string, unknown>): AuditEvent {
    return {
      at: this.#o.clock(),
      action,
      actor: caller.actor,
      subject: subject.toString(),
      entryId: entryId ?? '',
      details: caller.via === undefined ? details : { ...details, via: caller.via },
    }
  }

}
