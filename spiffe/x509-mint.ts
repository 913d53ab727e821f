import { createPublicKey, generateKeyPairSync, hash, randomFillSync, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { SpiffeError } from './errors.js'
import { pemDecodeAll } from './pem.js'
import { assertIssuableId, assertLeafId } from './id.js'
import type { SpiffeId } from './id.js'
import { KeyUsage, OID, decodeCertificate, decodeGeneralNames } from './x509-certificate.js'
import type { CertificateFields } from './x509-certificate.js'
import {
  DER_NULL,
  DER_TRUE,
  DerError,
  DerReader,
  TAG,
  decodeOid,
  derElement,
  derNode,
  derOid,
  derTime,
  encodeDer,
  readTlv,
} from './x509-der.js'
import type { Der, DerNode } from './x509-der.js'

/**
 * Minting X509-SVIDs (the server's hot path), the certificate builder shared with
 * `x509-ca.ts`, key generation, and CSR parsing.
 *
 * The TBSCertificate is laid out by hand from pieces computed once per CA and per key, and encoded
 * in one allocation: the general ASN.1 object model of @peculiar/asn1-x509 costs more than the
 * ECDSA signature itself (figures in test/bench/sign.ts), and X509-SVID.md §4 fixes the layout.
 */

// ---------------------------------------------------------------------------------------------
// Key types

/** Key types the CA signs with and generates (SPIRE's names). */
export type KeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048'

/** Every {@link KeyType}, default first. */
export const KEY_TYPES: readonly KeyType[] = Object.freeze(['ec-p256', 'ec-p384', 'rsa-2048'])

/** A private key with its public half. */
export interface KeyPair {
  readonly publicKey: KeyObject
  readonly privateKey: KeyObject
}

/** A new key pair of `type` (node:crypto). */
export function generateKeyPair(type: KeyType): KeyPair {
  switch (type) {
    case 'ec-p256':
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    case 'ec-p384':
      return generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
    case 'rsa-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 })
  }
}

/** The {@link KeyType} of a public or private key, or undefined for any other key. */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return 'ec-p256'
    if (details?.namedCurve === 'secp384r1') return 'ec-p384'
  }
  if (key.asymmetricKeyType === 'rsa' && details?.modulusLength === 2048) return 'rsa-2048'
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Certificate pieces

/** @internal */
export function mintError(message: string, cause?: unknown): SpiffeError {
  return new SpiffeError('INVALID_MINT_REQUEST', `x509mint: ${message}`, cause === undefined ? undefined : { cause })
}

const oidCache = new Map<string, Buffer>()

/** A DER Extension; `critical` FALSE is left out, as DER requires for a DEFAULT. */
export function derExtension(oid: string, critical: boolean, value: Der): DerNode {
  let oidDer = oidCache.get(oid)
  if (oidDer === undefined) oidCache.set(oid, (oidDer = derOid(oid)))
  const octets = derNode(TAG.OCTET_STRING, value)
  return critical ? derNode(TAG.SEQUENCE, oidDer, DER_TRUE, octets) : derNode(TAG.SEQUENCE, oidDer, octets)
}

/** DER KeyUsage BIT STRING for {@link KeyUsage} flags, trailing zero bits removed (X.690 §11.2.2). */
export function derKeyUsage(flags: number): Buffer {
  let highest = -1
  for (let bit = 0; bit < 9; bit++) if (flags & (1 << bit)) highest = bit
  if (highest < 0) return derElement(TAG.BIT_STRING, Buffer.of(0))
  const bytes = Buffer.alloc((highest >> 3) + 1)
  for (let bit = 0; bit <= highest; bit++) if (flags & (1 << bit)) bytes[bit >> 3]! |= 0x80 >> (bit & 7)
  return derElement(TAG.BIT_STRING, Buffer.of(7 - (highest & 7)), bytes)
}

/** DER subjectKeyIdentifier extension. */
export function derSubjectKeyIdentifier(keyId: Uint8Array): DerNode {
  return derExtension(OID.subjectKeyIdentifier, false, derNode(TAG.OCTET_STRING, keyId))
}

/** DER authorityKeyIdentifier extension with a keyIdentifier only. */
export function derAuthorityKeyIdentifier(keyId: Uint8Array): Buffer {
  return encodeDer(derExtension(OID.authorityKeyIdentifier, false, derNode(TAG.SEQUENCE, derNode(0x80, keyId))))
}

/** Attribute types allowed in subjects we write. */
export type NameAttributeType = 'C' | 'ST' | 'L' | 'O' | 'OU' | 'CN' | 'serialNumber'

/** One attribute of a distinguished name; each becomes its own RDN, in the order given. */
export interface NameAttribute {
  readonly type: NameAttributeType
  readonly value: string
}

const NAME_ATTRIBUTES: Readonly<Record<NameAttributeType, { oid: string; printable: boolean; max: number }>> = {
  C: { oid: '2.5.4.6', printable: true, max: 2 },
  ST: { oid: '2.5.4.8', printable: false, max: 128 },
  L: { oid: '2.5.4.7', printable: false, max: 128 },
  O: { oid: '2.5.4.10', printable: false, max: 64 },
  OU: { oid: '2.5.4.11', printable: false, max: 64 },
  CN: { oid: '2.5.4.3', printable: false, max: 64 },
  serialNumber: { oid: '2.5.4.5', printable: true, max: 64 },
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/

/**
 * DER Name from attributes (RFC 5280 §4.1.2.4, upper bounds from Appendix A); `[]` is the empty
 * Name.
 * @throws SpiffeError `INVALID_MINT_REQUEST` for an unknown type, an empty or too long value, or a
 *   character PrintableString cannot hold.
 */
export function encodeName(attributes: readonly NameAttribute[]): Buffer {
  const rdns = attributes.map(({ type, value }) => {
    const spec = Object.hasOwn(NAME_ATTRIBUTES, type) ? NAME_ATTRIBUTES[type] : undefined
    if (spec === undefined) throw mintError(`unsupported subject attribute ${JSON.stringify(type)}`)
    if (value === '' || [...value].length > spec.max) throw mintError(`subject ${type} must be 1 to ${spec.max} characters`)
    if (spec.printable && !PRINTABLE.test(value)) throw mintError(`subject ${type} must be a PrintableString`)
    const text = derNode(spec.printable ? TAG.PRINTABLE_STRING : TAG.UTF8_STRING, Buffer.from(value, 'utf8'))
    return derNode(TAG.SET, derNode(TAG.SEQUENCE, derOid(spec.oid), text))
  })
  return derElement(TAG.SEQUENCE, ...rdns)
}

const SERIAL_BYTES = 16
const serialPool = Buffer.alloc(SERIAL_BYTES * 256)
let serialPoolOffset = serialPool.length

/**
 * A fresh random serial as DER INTEGER and value: 16 octets, top bits `01` so it is positive and
 * minimally encoded at a fixed length (126 random bits; RFC 5280 §4.1.2.2 allows up to 20 octets,
 * Go requires a positive one).
 */
export function randomSerial(): { der: DerNode; value: bigint } {
  if (serialPoolOffset === serialPool.length) {
    randomFillSync(serialPool)
    serialPoolOffset = 0
  }
  const bytes = Buffer.from(serialPool.subarray(serialPoolOffset, serialPoolOffset + SERIAL_BYTES))
  serialPoolOffset += SERIAL_BYTES
  bytes[0] = 0x40 | (bytes[0]! & 0x3f)
  return { der: derNode(TAG.INTEGER, bytes), value: BigInt('0x' + bytes.toString('hex')) }
}

const EC_CURVES: ReadonlyMap<string, { algorithm: Buffer; coordinateBytes: number }> = new Map([
  ['prime256v1', { algorithm: ecAlgorithm('1.2.840.10045.3.1.7'), coordinateBytes: 32 }],
  ['secp384r1', { algorithm: ecAlgorithm('1.3.132.0.34'), coordinateBytes: 48 }],
  ['secp521r1', { algorithm: ecAlgorithm('1.3.132.0.35'), coordinateBytes: 66 }],
])
const RSA_ALGORITHM = derElement(TAG.SEQUENCE, derOid('1.2.840.113549.1.1.1'), DER_NULL)
const ED25519_ALGORITHM = derElement(TAG.SEQUENCE, derOid('1.3.101.112'))
const ZERO_UNUSED_BITS = Buffer.of(0)

function ecAlgorithm(curveOid: string): Buffer {
  return derElement(TAG.SEQUENCE, derOid('1.2.840.10045.2.1'), derOid(curveOid))
}

/**
 * SubjectPublicKeyInfo of a public key (or of a private key's public half) and its RFC 5280
 * §4.2.1.2 method-1 key identifier. Written by hand from the JWK form: OpenSSL 3's SPKI encoder
 * behind `export({ type: 'spki' })` takes about 200 µs per call, three times a whole certificate.
 * @throws SpiffeError `INVALID_MINT_REQUEST` for keys other than RSA, EC P-256/384/521, Ed25519.
 */
export function publicKeyInfo(key: KeyObject): { spki: DerNode; keyId: Buffer } {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  let algorithm: Buffer
  let keyBits: Buffer
  switch (publicKey.asymmetricKeyType) {
    case 'ec': {
      const curve = EC_CURVES.get(publicKey.asymmetricKeyDetails?.namedCurve ?? '')
      if (curve === undefined) throw mintError('EC keys must be on P-256, P-384 or P-521')
      const jwk = publicKey.export({ format: 'jwk' })
      const n = curve.coordinateBytes
      algorithm = curve.algorithm
      // Uncompressed point 04‖x‖y; JWK coordinates are full length (RFC 7518 §6.2.1.2).
      keyBits = Buffer.allocUnsafe(1 + 2 * n)
      keyBits[0] = 0x04
      if (keyBits.write(jwk.x!, 1, 'base64url') !== n || keyBits.write(jwk.y!, 1 + n, 'base64url') !== n) {
        throw mintError('EC public key has malformed coordinates')
      }
      break
    }
    case 'rsa':
      algorithm = RSA_ALGORITHM
      keyBits = publicKey.export({ type: 'pkcs1', format: 'der' })
      break
    case 'ed25519':
      algorithm = ED25519_ALGORITHM
      keyBits = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
      break
    default:
      throw mintError('public key must be an RSA, EC or Ed25519 key')
  }
  return {
    spki: derNode(TAG.SEQUENCE, algorithm, derNode(TAG.BIT_STRING, ZERO_UNUSED_BITS, keyBits)),
    keyId: hash('sha1', keyBits, 'buffer'),
  }
}

// ---------------------------------------------------------------------------------------------
// Signing

/** How one CA private key signs certificates: its AlgorithmIdentifier and the hash for `sign()`. */
export interface Signer {
  readonly key: KeyObject
  readonly algorithmDer: Buffer
  readonly hash: 'sha256' | 'sha384'
}

const signers = new WeakMap<KeyObject, Signer>()

/**
 * The signer for a CA private key: ECDSA P-256 with SHA-256, P-384 with SHA-384, RSA PKCS#1 v1.5
 * with SHA-256.
 * @throws SpiffeError `INVALID_MINT_REQUEST` for other keys or a public key.
 */
export function signerFor(key: KeyObject): Signer {
  let signer = signers.get(key)
  if (signer !== undefined) return signer
  if (key.type !== 'private') throw mintError('CA key must be a private key')
  switch (keyTypeOf(key)) {
    case 'ec-p256':
      signer = { key, hash: 'sha256', algorithmDer: derElement(TAG.SEQUENCE, derOid('1.2.840.10045.4.3.2')) }
      break
    case 'ec-p384':
      signer = { key, hash: 'sha384', algorithmDer: derElement(TAG.SEQUENCE, derOid('1.2.840.10045.4.3.3')) }
      break
    case 'rsa-2048':
      signer = { key, hash: 'sha256', algorithmDer: derElement(TAG.SEQUENCE, derOid('1.2.840.113549.1.1.11'), DER_NULL) }
      break
    default:
      throw mintError(`CA key type must be one of ${KEY_TYPES.join(', ')}`)
  }
  signers.set(key, signer)
  return signer
}

const VERSION_3 = Buffer.from([0xa0, 0x03, TAG.INTEGER, 0x01, 0x02])

/** The parts of a TBSCertificate that vary from one certificate to the next. */
export interface CertificateParts {
  readonly serial: Der
  /** DER Name of the issuer (the signing CA's subject, byte for byte). */
  readonly issuer: Der
  readonly notBeforeSeconds: number
  readonly notAfterSeconds: number
  readonly subject: Der
  readonly spki: Der
  readonly extensions: readonly Der[]
}

// Certificates minted in the same second share their validity encoding.
const recentTimes = new Map<number, Buffer>()

function cachedTime(seconds: number): Buffer {
  let der = recentTimes.get(seconds)
  if (der === undefined) {
    if (recentTimes.size >= 16) recentTimes.clear()
    recentTimes.set(seconds, (der = derTime(seconds)))
  }
  return der
}

/** Builds, signs and assembles a v3 certificate (RFC 5280 §4.1). */
export function buildCertificate(parts: CertificateParts, signer: Signer): Buffer {
  const tbs = encodeDer(
    derNode(
      TAG.SEQUENCE,
      VERSION_3,
      parts.serial,
      signer.algorithmDer,
      parts.issuer,
      derNode(TAG.SEQUENCE, cachedTime(parts.notBeforeSeconds), cachedTime(parts.notAfterSeconds)),
      parts.subject,
      parts.spki,
      derNode(0xa3, derNode(TAG.SEQUENCE, ...parts.extensions)),
    ),
  )
  const signature = sign(signer.hash, tbs, signer.key)
  return encodeDer(derNode(TAG.SEQUENCE, tbs, signer.algorithmDer, derNode(TAG.BIT_STRING, ZERO_UNUSED_BITS, signature)))
}

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

// ---------------------------------------------------------------------------------------------
// Issuers

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

// ---------------------------------------------------------------------------------------------
// Leaf SVIDs

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
 * (X509-08, PLATFORM.md). {@link publicKeyInfo} refuses other key types.
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

// ---------------------------------------------------------------------------------------------
// CSRs

/** What a verified PKCS#10 request asks for. Only the public key is trusted by issuers. */
export interface CertificateRequest {
  readonly publicKey: KeyObject
  /** Raw DER subject Name. */
  readonly subjectDer: Uint8Array
  readonly uris: readonly string[]
  readonly dnsNames: readonly string[]
}

const CSR_SIGNATURE_ALGORITHMS: ReadonlyMap<string, string | null> = new Map([
  ['1.2.840.10045.4.3.2', 'sha256'],
  ['1.2.840.10045.4.3.3', 'sha384'],
  ['1.2.840.10045.4.3.4', 'sha512'],
  ['1.2.840.113549.1.1.11', 'sha256'],
  ['1.2.840.113549.1.1.12', 'sha384'],
  ['1.2.840.113549.1.1.13', 'sha512'],
  ['1.3.101.112', null],
])

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14'

/**
 * Parses a PKCS#10 certificate request (RFC 2986), DER or PEM, and checks its self-signature.
 * @throws SpiffeError `INVALID_MINT_REQUEST` "x509mint: invalid CSR…" when it is malformed, uses an
 *   unsupported signature algorithm, or its signature does not verify.
 */
export function parseCsr(csr: Uint8Array | string): CertificateRequest {
  let der: Uint8Array
  if (typeof csr === 'string') {
    const [block] = [...pemDecodeAll(csr, 'CERTIFICATE REQUEST'), ...pemDecodeAll(csr, 'NEW CERTIFICATE REQUEST')]
    if (block === undefined) throw mintError('invalid CSR: no CERTIFICATE REQUEST PEM block')
    der = block
  } else {
    der = csr
  }
  try {
    return parseCsrDer(der)
  } catch (err) {
    if (err instanceof SpiffeError && err.code === 'INVALID_MINT_REQUEST') throw err
    throw mintError('invalid CSR: malformed DER', err)
  }
}

function parseCsrDer(der: Uint8Array): CertificateRequest {
  const outerTlv = readTlv(der, 0)
  if (outerTlv.tag !== TAG.SEQUENCE || outerTlv.end !== der.length) throw new DerError('not a single DER SEQUENCE')
  const outer = DerReader.of(der, outerTlv)
  const infoTlv = outer.next(TAG.SEQUENCE)
  const algorithm = DerReader.of(der, outer.next(TAG.SEQUENCE))
  const algorithmOid = decodeOid(der, algorithm.next(TAG.OID))
  const signatureTlv = outer.next(TAG.BIT_STRING)
  outer.end()

  const info = DerReader.of(der, infoTlv)
  info.next(TAG.INTEGER)
  const subjectTlv = info.next(TAG.SEQUENCE)
  const spkiTlv = info.next(TAG.SEQUENCE)
  const attributesTlv = info.optional(0xa0)
  info.end()

  let publicKey: KeyObject
  try {
    publicKey = createPublicKey({ key: Buffer.from(der.subarray(spkiTlv.start, spkiTlv.end)), format: 'der', type: 'spki' })
  } catch (err) {
    throw mintError('invalid CSR: unsupported public key', err)
  }
  if (!CSR_SIGNATURE_ALGORITHMS.has(algorithmOid)) throw mintError(`invalid CSR: unsupported signature algorithm ${algorithmOid}`)
  if (der[signatureTlv.contentStart] !== 0) throw mintError('invalid CSR: malformed signature')
  let valid = false
  try {
    valid = verify(
      CSR_SIGNATURE_ALGORITHMS.get(algorithmOid) ?? null,
      der.subarray(infoTlv.start, infoTlv.end),
      publicKey,
      der.subarray(signatureTlv.contentStart + 1, signatureTlv.end),
    )
  } catch (err) {
    throw mintError('invalid CSR: signature does not verify', err)
  }
  if (!valid) throw mintError('invalid CSR: signature does not verify')

  let uris: string[] = []
  let dnsNames: string[] = []
  if (attributesTlv !== undefined) {
    const attributes = DerReader.of(der, attributesTlv)
    while (!attributes.done) {
      const attribute = DerReader.of(der, attributes.next(TAG.SEQUENCE))
      if (decodeOid(der, attribute.next(TAG.OID)) !== EXTENSION_REQUEST) continue
      const extensions = DerReader.of(der, DerReader.of(der, attribute.next(TAG.SET)).next(TAG.SEQUENCE))
      while (!extensions.done) {
        const extension = DerReader.of(der, extensions.next(TAG.SEQUENCE))
        const oid = decodeOid(der, extension.next(TAG.OID))
        extension.optional(TAG.BOOLEAN)
        const value = extension.next(TAG.OCTET_STRING)
        if (oid !== OID.subjectAltName) continue
        try {
          ;({ uris, dnsNames } = decodeGeneralNames(der, readTlv(der, value.contentStart, value.end)))
        } catch (err) {
          throw mintError('invalid CSR: malformed subjectAltName', err)
        }
      }
    }
  }
  return { publicKey, subjectDer: der.slice(subjectTlv.start, subjectTlv.end), uris, dnsNames }
}
