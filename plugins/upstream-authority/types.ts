import type { KeyObject } from 'node:crypto'
import type { TrustDomain } from '../../spiffe/index.js'

/** What an upstream authority returns for the server's new CA key. */
export interface UpstreamMintResult {
  /** The server's new CA certificate (DER), signed under the upstream CA. */
  readonly caCertificateDer: Uint8Array
  /** Certificates between it and the upstream roots, leaf side first (may be empty). */
  readonly intermediatesDer: readonly Uint8Array[]
  /** The trust anchors to publish in the bundle instead of the server CA itself. */
  readonly upstreamRootsDer: readonly Uint8Array[]
}

/**
 * Signs the server's X.509 CA under an operator's CA (SPIRE's UpstreamAuthority), making the
 * server CA an intermediate. The lifetime may come out shorter than preferred (never longer than
 * the upstream CA's own).
 */
export interface UpstreamAuthority {
  mintX509Ca(publicKey: KeyObject, trustDomain: TrustDomain, preferredTtlSeconds: number, now: Date): Promise<UpstreamMintResult>
}
