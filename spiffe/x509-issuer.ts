import { createPublicKey, hash } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { mintError } from './errors.js'
import { KeyUsage, decodeCertificate } from './x509-certificate.js'
import type { CertificateFields } from './x509-certificate.js'
import { derAuthorityKeyIdentifier } from './x509-builder.js'
import { signerFor } from './x509-keys.js'

/**
 * The CA side of issuing, shared by leaf SVIDs and CA certificates: a signing CA read and checked
 * once per certificate (CA flags, key match), the validity of what it issues, and the chain a
 * holder presents above its own certificate.
 */

/** Whole seconds since the epoch, rounded down. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000)
}

/** SPIRE backdates notBefore 10 s so that peers with a slightly slow clock accept a new certificate. */
export const NOT_BEFORE_BACKDATE_SECONDS = 10

/** @throws SpiffeError `INVALID_MINT_REQUEST` unless `ttlSeconds` is a positive whole number. */
export function assertTtlSeconds(ttlSeconds: number): void {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw mintError(`ttlSeconds must be a positive whole number of seconds, got ${String(ttlSeconds)}`)
  }
}

/** A CA that signs certificates: its certificate, the chain above it, and its private key. */
export interface X509Authority {
  /** DER certificate of the CA that signs. */
  readonly certificateDer: Uint8Array
  /**
   * DER certificates above it up to, not including, the trust anchor (empty or absent when
   * `certificateDer` is itself a root in the bundle).
   */
  readonly intermediatesDer?: readonly Uint8Array[]
  readonly privateKey: KeyObject
}

/** What is computed once per CA certificate. */
export interface PreparedIssuer {
  readonly fields: CertificateFields
  readonly authorityKeyIdDer: Buffer
  readonly selfSigned: boolean
  /** Trust domain of the CA's SPIFFE ID, if it has one. */
  readonly trustDomainName: string | undefined
  readonly checkedKeys: WeakSet<KeyObject>
}

const issuers = new WeakMap<Uint8Array, PreparedIssuer>()

/**
 * Reads and checks a CA once per certificate buffer: a CA certificate (cA, keyCertSign, X509-13)
 * whose public key matches `privateKey`.
 * @throws SpiffeError `INVALID_MINT_REQUEST` naming the problem.
 */
export function prepareIssuer(ca: X509Authority): PreparedIssuer {
  let issuer = issuers.get(ca.certificateDer)
  if (issuer === undefined) {
    let fields: CertificateFields
    try {
      fields = decodeCertificate(ca.certificateDer)
    } catch (err) {
      throw mintError('cannot parse CA certificate', err)
    }
    if (fields.basicConstraints?.ca !== true) throw mintError('CA certificate must have CA flag set to true')
    if (!((fields.keyUsage ?? 0) & KeyUsage.keyCertSign)) throw mintError("CA certificate must have 'keyCertSign' set as key usage")
    const keyId = fields.subjectKeyId ?? hash('sha1', fields.publicKeyBits, 'buffer')
    const uri = fields.uris.length === 1 ? /^spiffe:\/\/([^/]+)/.exec(fields.uris[0]!) : null
    issuer = {
      fields,
      authorityKeyIdDer: derAuthorityKeyIdentifier(keyId),
      selfSigned: Buffer.from(fields.issuerDer).equals(fields.subjectDer) && fields.x509.verify(fields.x509.publicKey),
      trustDomainName: uri?.[1],
      checkedKeys: new WeakSet(),
    }
    issuers.set(ca.certificateDer, issuer)
  }
  if (!issuer.checkedKeys.has(ca.privateKey)) {
    signerFor(ca.privateKey)
    if (!createPublicKey(ca.privateKey).equals(issuer.fields.x509.publicKey)) {
      throw mintError('CA private key does not match the CA certificate')
    }
    issuer.checkedKeys.add(ca.privateKey)
  }
  return issuer
}

/**
 * Validity of a certificate issued at `now` for `ttlSeconds`: backdated notBefore, notAfter capped
 * at the issuer's notAfter (INTEROP-11).
 * @throws SpiffeError `INVALID_MINT_REQUEST` when the issuer is not valid at `now`.
 */
export function issuedValidity(issuer: PreparedIssuer, now: Date, ttlSeconds: number): { notBeforeSeconds: number; notAfterSeconds: number } {
  assertTtlSeconds(ttlSeconds)
  const nowSeconds = epochSeconds(now)
  const caNotAfter = epochSeconds(issuer.fields.notAfter)
  if (nowSeconds >= caNotAfter) throw mintError('CA certificate has expired')
  if (now < issuer.fields.notBefore) throw mintError('CA certificate is not yet valid')
  return {
    notBeforeSeconds: nowSeconds - NOT_BEFORE_BACKDATE_SECONDS,
    notAfterSeconds: Math.min(nowSeconds + ttlSeconds, caNotAfter),
  }
}

/** The chain a holder presents above its own certificate (the issuer's, unless it is a root). */
export function presentedIntermediates(ca: X509Authority, issuer: PreparedIssuer): Buffer[] {
  if (issuer.selfSigned) return []
  return [asBuffer(ca.certificateDer), ...(ca.intermediatesDer ?? []).map(asBuffer)]
}

/** A Buffer over the same memory (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
