import { createPublicKey } from 'node:crypto'
import { Bundle, parseTrustDomain } from '../spiffe/index.js'
import type { Bundle as BundleMessage, Bundle__Output } from './generated/steeple/common/v1/Bundle.js'

/** A bundle as Steeple's own APIs carry it (`steeple.common.v1.Bundle`). */
export function bundleToMessage(bundle: Bundle): BundleMessage {
  return {
    trust_domain: bundle.trustDomain.name,
    x509_authorities: bundle.x509Authorities.map((der) => Buffer.from(der)),
    jwt_authorities: [...bundle.jwtAuthorities.values()].map((a) => ({
      kid: a.kid,
      public_key: a.publicKey.export({ format: 'der', type: 'spki' }),
    })),
    sequence_number: bundle.sequenceNumber === undefined ? '' : bundle.sequenceNumber.toString(),
    refresh_hint: bundle.refreshHintSeconds ?? 0,
  }
}

/**
 * The bundle in a `steeple.common.v1.Bundle` message. Callers decide whose fault a bad one is.
 * @throws SpiffeError or Error when the message is not a valid bundle.
 */
export function bundleFromMessage(message: Bundle__Output): Bundle {
  return new Bundle(parseTrustDomain(message.trust_domain), {
    x509Authorities: message.x509_authorities.map((b) => new Uint8Array(b)),
    jwtAuthorities: message.jwt_authorities.map((a) => ({
      kid: a.kid,
      publicKey: createPublicKey({ key: a.public_key, format: 'der', type: 'spki' }),
    })),
    sequenceNumber: message.sequence_number === '' ? undefined : BigInt(message.sequence_number),
    refreshHintSeconds: Number(message.refresh_hint) === 0 ? undefined : Number(message.refresh_hint),
  })
}
