import { randomFillSync, sign } from 'node:crypto'
import { mintError } from './errors.js'
import { OID } from './x509-certificate.js'
import { DER_TRUE, TAG, derElement, derNode, derOid, derTime, encodeDer } from './x509-der.js'
import type { Der, DerNode } from './x509-der.js'
import type { Signer } from './x509-keys.js'

/**
 * The certificate builder shared by leaf SVIDs (`x509-mint.ts`) and CA certificates (`x509-ca.ts`):
 * extensions, names, serials, and the v3 certificate around them.
 *
 * The TBSCertificate is laid out by hand from pieces computed once per CA and per key, and encoded
 * in one allocation: the general ASN.1 object model of @peculiar/asn1-x509 costs more than the
 * ECDSA signature itself (figures in test/bench/sign.ts), and X509-SVID.md §4 fixes the layout.
 */

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

const VERSION_3 = Buffer.from([0xa0, 0x03, TAG.INTEGER, 0x01, 0x02])
const ZERO_UNUSED_BITS = Buffer.of(0)

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
