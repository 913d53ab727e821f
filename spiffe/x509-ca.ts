import type { KeyObject } from 'node:crypto'
import { assertIssuableTrustDomain } from './id.js'
import type { TrustDomain } from './id.js'
import { KeyUsage, OID } from './x509-certificate.js'
import { DER_TRUE, TAG, derNode, derUnsignedInteger, encodeDer } from './x509-der.js'
import { mintError } from './errors.js'
import { buildCertificate, derExtension, derKeyUsage, derSubjectKeyIdentifier, encodeName, randomSerial } from './x509-builder.js'
import type { NameAttribute } from './x509-builder.js'
import {
  NOT_BEFORE_BACKDATE_SECONDS,
  assertTtlSeconds,
  epochSeconds,
  issuedValidity,
  prepareIssuer,
  presentedIntermediates,
} from './x509-issuer.js'
import type { X509Authority } from './x509-issuer.js'
import { KEY_TYPES, keyTypeOf, publicKeyInfo, signerFor } from './x509-keys.js'

/**
 * Signing (CA) certificates: the self-signed root of a trust domain and intermediates under a
 * parent CA (the server CA under an upstream authority, and rotation). X509-SVID.md §3.2, §4.
 */

/** A CA certificate that was just made, without its private key. */
export interface MintedX509Ca {
  /** DER CA certificate. */
  readonly certificateDer: Buffer
  /** DER certificates above it, up to but not including the trust anchor. */
  readonly intermediatesDer: readonly Buffer[]
  readonly notBefore: Date
  readonly notAfter: Date
  readonly serial: bigint
}

/** A CA certificate with its private key, ready for `mintX509Svid({ ca })`. */
export interface X509Ca extends MintedX509Ca {
  readonly privateKey: KeyObject
}

/** Input of {@link createSelfSignedCa}. */
export interface CreateSelfSignedCaRequest {
  readonly trustDomain: TrustDomain
  /** The CA's private key (one of the `KeyType`s). */
  readonly privateKey: KeyObject
  readonly ttlSeconds: number
  /** Subject; default `C=US, O=SPIFFE, serialNumber=<serial>` (unique per CA, which eases rotation). */
  readonly subject?: readonly NameAttribute[]
  /** Optional basicConstraints pathLenConstraint (X509-14). */
  readonly pathLen?: number
  readonly now?: Date
}

/** Input of {@link mintX509Ca}. */
export interface MintX509CaRequest {
  /** The CA that signs the new one. */
  readonly parent: X509Authority
  readonly trustDomain: TrustDomain
  /** Public key of the new CA (e.g. `parseCsr(csr).publicKey`). */
  readonly publicKey: KeyObject
  readonly ttlSeconds: number
  readonly subject?: readonly NameAttribute[]
  readonly pathLen?: number
  readonly now?: Date
}

// X509-13, X509-19: keyCertSign and cRLSign, nothing a leaf would have.
const CA_KEY_USAGE = encodeDer(derExtension(OID.keyUsage, true, derKeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)))

function caBasicConstraints(pathLen: number | undefined): Buffer {
  if (pathLen !== undefined && !(Number.isSafeInteger(pathLen) && pathLen >= 0 && pathLen <= 255)) {
    throw mintError('pathLen must be a whole number from 0 to 255')
  }
  const value = pathLen === undefined ? derNode(TAG.SEQUENCE, DER_TRUE) : derNode(TAG.SEQUENCE, DER_TRUE, derUnsignedInteger(pathLen))
  return encodeDer(derExtension(OID.basicConstraints, true, value))
}

function caSubject(subject: readonly NameAttribute[] | undefined, serial: bigint): Buffer {
  const attributes = subject ?? [
    { type: 'C', value: 'US' },
    { type: 'O', value: 'SPIFFE' },
    { type: 'serialNumber', value: serial.toString() },
  ]
  // RFC 5280 §4.1.2.4: an issuer name must not be empty, and a CA's subject becomes one.
  if (attributes.length === 0) throw mintError('CA subject must not be empty')
  return encodeName(attributes)
}

function caSan(trustDomain: TrustDomain): Buffer {
  assertIssuableTrustDomain(trustDomain)
  // ID-13, X509-15: the signing authority's SPIFFE ID is the trust domain's own, without a path.
  return encodeDer(derExtension(OID.subjectAltName, false, derNode(TAG.SEQUENCE, derNode(0x86, trustDomain.idString()))))
}

/**
 * Creates a self-signed CA certificate for a trust domain (a root of its bundle): URI SAN
 * `spiffe://<td>`, basicConstraints critical cA=true, keyUsage critical keyCertSign+cRLSign, SKI,
 * no EKU (CONFORMANCE ID-13, X509-13, X509-15, X509-19). Valid from 10 s before `now` for
 * `ttlSeconds`.
 * @throws SpiffeError `INVALID_MINT_REQUEST` for a bad TTL, subject, pathLen or key type;
 *   `INVALID_TRUST_DOMAIN` for a trust domain Go's X.509 parser would refuse (INTEROP-10).
 */
export function createSelfSignedCa(request: CreateSelfSignedCaRequest): X509Ca {
  assertTtlSeconds(request.ttlSeconds)
  const san = caSan(request.trustDomain)
  const signer = signerFor(request.privateKey)
  const nowSeconds = epochSeconds(request.now ?? new Date())
  const notBeforeSeconds = nowSeconds - NOT_BEFORE_BACKDATE_SECONDS
  const notAfterSeconds = nowSeconds + request.ttlSeconds
  const serial = randomSerial()
  const name = caSubject(request.subject, serial.value)
  const { spki, keyId } = publicKeyInfo(request.privateKey)
  const certificateDer = buildCertificate(
    {
      serial: serial.der,
      issuer: name,
      notBeforeSeconds,
      notAfterSeconds,
      subject: name,
      spki,
      // A self-signed certificate may leave out the AKI (RFC 5280 §4.2.1.1).
      extensions: [CA_KEY_USAGE, caBasicConstraints(request.pathLen), derSubjectKeyIdentifier(keyId), san],
    },
    signer,
  )
  return {
    certificateDer,
    intermediatesDer: [],
    privateKey: request.privateKey,
    notBefore: new Date(notBeforeSeconds * 1000),
    notAfter: new Date(notAfterSeconds * 1000),
    serial: serial.value,
  }
}

/**
 * Mints an intermediate CA certificate signed by `parent` (X509-16): same profile as
 * {@link createSelfSignedCa} plus an AKI; notAfter capped at the parent's notAfter.
 * @throws SpiffeError `INVALID_MINT_REQUEST` for a bad TTL, subject, pathLen or key, or a parent
 *   that is not a CA valid at `now`; `INVALID_TRUST_DOMAIN` as {@link createSelfSignedCa}.
 */
export function mintX509Ca(request: MintX509CaRequest): MintedX509Ca {
  const san = caSan(request.trustDomain)
  const parent = prepareIssuer(request.parent)
  const { notBeforeSeconds, notAfterSeconds } = issuedValidity(parent, request.now ?? new Date(), request.ttlSeconds)
  if (keyTypeOf(request.publicKey) === undefined) throw mintError(`CA key type must be one of ${KEY_TYPES.join(', ')}`)
  const serial = randomSerial()
  const { spki, keyId } = publicKeyInfo(request.publicKey)
  const certificateDer = buildCertificate(
    {
      serial: serial.der,
      issuer: parent.fields.subjectDer,
      notBeforeSeconds,
      notAfterSeconds,
      subject: caSubject(request.subject, serial.value),
      spki,
      extensions: [
        CA_KEY_USAGE,
        caBasicConstraints(request.pathLen),
        derSubjectKeyIdentifier(keyId),
        parent.authorityKeyIdDer,
        san,
      ],
    },
    signerFor(request.parent.privateKey),
  )
  return {
    certificateDer,
    intermediatesDer: presentedIntermediates(request.parent, parent),
    notBefore: new Date(notBeforeSeconds * 1000),
    notAfter: new Date(notAfterSeconds * 1000),
    serial: serial.value,
  }
}
