import type { KeyObject } from 'node:crypto'
import { mintError } from './errors.js'
import { assertIssuableId, assertLeafId } from './id.js'
import type { SpiffeId } from './id.js'
import { KeyUsage, OID } from './x509-certificate.js'
import { TAG, derElement, derNode, derOid, encodeDer } from './x509-der.js'
import type { DerNode } from './x509-der.js'
import {
  buildCertificate,
  derExtension,
  derKeyUsage,
  derSubjectKeyIdentifier,
  encodeName,
  randomSerial,
  type NameAttribute,
} from './x509-builder.js'
import { issuedValidity, prepareIssuer, presentedIntermediates, type X509Authority } from './x509-issuer.js'
import { publicKeyInfo, signerFor } from './x509-keys.js'

/**
 * Minting leaf X509-SVIDs, the server's hot path (X509-SVID.md §4): the leaf's fixed extensions
 * are encoded once, the CA's parts once per CA (`x509-issuer.ts`), and `x509-builder.ts` lays out
 * and signs the certificate.
 */

/** Input of {@link mintX509Svid}. */
export interface MintX509SvidRequest {
  readonly ca: X509Authority
  /** The SVID's SPIFFE ID: non-root, issuable, in the CA's trust domain. */
  readonly spiffeId: SpiffeId
  /** The workload's public key (e.g. `parseCsr(csr).publicKey`). */
  readonly publicKey: KeyObject
  readonly ttlSeconds: number
  /** Extra DNS SANs (X509-03). */
  readonly dnsNames?: readonly string[]
  /** Subject; empty by default, which makes the SAN critical (X509-05). */
  readonly subject?: readonly NameAttribute[]
  readonly now?: Date
}

/** A freshly minted leaf. */
export interface MintedX509Svid {
  readonly id: SpiffeId
  readonly certificateDer: Buffer
  /** Leaf first, then the intermediates a peer needs: the Workload API's `x509_svid`. */
  readonly chainDer: readonly Buffer[]
  readonly notBefore: Date
  readonly notAfter: Date
  readonly serial: bigint
}

const LEAF_BASIC_CONSTRAINTS = encodeDer(derExtension(OID.basicConstraints, true, derNode(TAG.SEQUENCE)))
const LEAF_EXT_KEY_USAGE = encodeDer(
  derExtension(OID.extKeyUsage, false, derNode(TAG.SEQUENCE, derOid(OID.serverAuth), derOid(OID.clientAuth))),
)
const LEAF_KEY_USAGE_SIGN = encodeDer(derExtension(OID.keyUsage, true, derKeyUsage(KeyUsage.digitalSignature)))
const LEAF_KEY_USAGE_RSA = encodeDer(
  derExtension(OID.keyUsage, true, derKeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment)),
)
const EMPTY_NAME = derElement(TAG.SEQUENCE)

const DNS_LABEL = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)$/

/** @throws SpiffeError `INVALID_MINT_REQUEST` unless `name` is a DNS name, `*.` wildcard allowed first. */
function assertDnsName(name: string): void {
  const labels = name.split('.')
  const ok =
    name.length > 0 &&
    name.length <= 253 &&
    labels.every((label, i) => DNS_LABEL.test(label) || (i === 0 && label === '*' && labels.length > 1))
  if (!ok) throw mintError(`DNS name ${JSON.stringify(name)} is not a valid host name`)
}

/**
 * Leaf key usage by key type: RSA keys may also encipher (X509-09); EC and Ed25519 keys only sign
 * (X509-08). {@link publicKeyInfo} refuses other key types.
 */
function leafKeyUsageFor(publicKey: KeyObject): Buffer {
  if (publicKey.asymmetricKeyType !== 'rsa') return LEAF_KEY_USAGE_SIGN
  if ((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw mintError('RSA keys must have at least 2048 bits')
  return LEAF_KEY_USAGE_RSA
}

/**
 * Mints a leaf X509-SVID for `publicKey` (X509-SVID.md §4, CONFORMANCE X509-01..11, INTEROP-10,
 * INTEROP-11): one URI SAN with the SPIFFE ID plus optional DNS SANs; basicConstraints critical
 * cA=false; keyUsage critical digitalSignature (+keyEncipherment for RSA); EKU serverAuth and
 * clientAuth; SKI and AKI; random 16-octet positive serial; notBefore 10 s in the past; notAfter
 * `now + ttlSeconds` capped at the CA's notAfter.
 * @throws SpiffeError `INVALID_SPIFFE_ID` for a root ID (X509-04) and, with
 *   `INVALID_TRUST_DOMAIN`, for IDs {@link assertIssuableId} refuses; `INVALID_MINT_REQUEST` for an
 *   ID outside the CA's trust domain, a bad TTL, DNS name, subject or key, or a CA that cannot sign
 *   now.
 */
export function mintX509Svid(request: MintX509SvidRequest): MintedX509Svid {
  const { ca, spiffeId, ttlSeconds } = request
  assertLeafId(spiffeId)
  assertIssuableId(spiffeId)
  const issuer = prepareIssuer(ca)
  if (issuer.trustDomainName !== undefined && issuer.trustDomainName !== spiffeId.trustDomain.name) {
    throw mintError(`SPIFFE ID ${spiffeId.toString()} is not in the CA's trust domain ${JSON.stringify(issuer.trustDomainName)}`)
  }
  const now = request.now ?? new Date()
  const { notBeforeSeconds, notAfterSeconds } = issuedValidity(issuer, now, ttlSeconds)
  const { spki, keyId } = publicKeyInfo(request.publicKey)
  const keyUsage = leafKeyUsageFor(request.publicKey)

  // SPIFFE IDs and checked DNS names are ASCII, as IA5String requires.
  const names: DerNode[] = [derNode(0x86, spiffeId.toString())]
  for (const dns of request.dnsNames ?? []) {
    assertDnsName(dns)
    names.push(derNode(0x82, dns))
  }
  const subject = request.subject ?? []
  // RFC 5280 §4.2.1.6: with an empty subject the SAN carries the identity and must be critical.
  const san = derExtension(OID.subjectAltName, subject.length === 0, derNode(TAG.SEQUENCE, ...names))

  const serial = randomSerial()
  const certificateDer = buildCertificate(
    {
      serial: serial.der,
      issuer: issuer.fields.subjectDer,
      notBeforeSeconds,
      notAfterSeconds,
      subject: subject.length === 0 ? EMPTY_NAME : encodeName(subject),
      spki,
      extensions: [keyUsage, LEAF_EXT_KEY_USAGE, LEAF_BASIC_CONSTRAINTS, derSubjectKeyIdentifier(keyId), issuer.authorityKeyIdDer, san],
    },
    signerFor(ca.privateKey),
  )
  return {
    id: spiffeId,
    certificateDer,
    chainDer: [certificateDer, ...presentedIntermediates(ca, issuer)],
    notBefore: new Date(notBeforeSeconds * 1000),
    notAfter: new Date(notAfterSeconds * 1000),
    serial: serial.value,
  }
}
