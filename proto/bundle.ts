import { createPublicKey, type KeyObject } from 'node:crypto'
import { Bundle, SpiffeError, parseTrustDomain } from '../spiffe/index.js'
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
 * @throws SpiffeError whose message names the field and the rule (`jwt_authorities[1].public_key:
 *   must be ...`); node:crypto's own error is only the `cause`.
 */
export function bundleFromMessage(message: Bundle__Output): Bundle {
  return new Bundle(parseTrustDomain(message.trust_domain), {
    x509Authorities: message.x509_authorities.map((b) => new Uint8Array(b)),
    jwtAuthorities: message.jwt_authorities.map((a, i) => ({ kid: a.kid, publicKey: spkiPublicKey(a.public_key, `jwt_authorities[${i}].public_key`) })),
    sequenceNumber: message.sequence_number === '' ? undefined : sequenceNumber(message.sequence_number),
    refreshHintSeconds: Number(message.refresh_hint) === 0 ? undefined : Number(message.refresh_hint),
  })
}

function spkiPublicKey(der: Buffer, field: string): KeyObject {
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' })
  } catch (cause) {
    throw new SpiffeError('INVALID_BUNDLE', `${field}: must be a DER SubjectPublicKeyInfo of a supported key type`, { cause })
  }
}

function sequenceNumber(text: string): bigint {
  if (!/^(?:0|[1-9][0-9]*)$/.test(text)) throw new SpiffeError('INVALID_BUNDLE', 'sequence_number: must be an unsigned decimal integer')
  return BigInt(text)
}
