import { X509Certificate } from 'node:crypto'
import { SpiffeError } from './errors.js'
import {
  DerError,
  DerReader,
  TAG,
  decodeBitString,
  decodeBoolean,
  decodeOid,
  decodeTime,
  decodeUnsignedInteger,
  readTlv,
} from './x509-der.js'
import type { Tlv } from './x509-der.js'

/**
 * Reading an X.509 certificate into the fields SVID rules and path validation need. Our own strict
 * DER reader does the work; OpenSSL (node:crypto `X509Certificate`) must also accept the bytes,
 * and checks every signature.
 */

/** Key usage bits as flags (RFC 5280 §4.2.1.3: bit n is `1 << n`). */
export const KeyUsage = {
  digitalSignature: 1 << 0,
  contentCommitment: 1 << 1,
  keyEncipherment: 1 << 2,
  dataEncipherment: 1 << 3,
  keyAgreement: 1 << 4,
  keyCertSign: 1 << 5,
  cRLSign: 1 << 6,
  encipherOnly: 1 << 7,
  decipherOnly: 1 << 8,
} as const

/** Extension OIDs we read. */
export const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const

// Critical extensions a verifier may accept because it enforces them (RFC 5280 §4.2).
// Name constraints are absent on purpose: we do not enforce them, so a critical one fails.
const HANDLED_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.subjectKeyIdentifier,
  OID.keyUsage,
  OID.subjectAltName,
  OID.basicConstraints,
  OID.authorityKeyIdentifier,
  OID.extKeyUsage,
])

/** The parts of a certificate the SVID rules and path validation look at. */
export interface CertificateFields {
  readonly der: Uint8Array
  /** OpenSSL's view of the same bytes; used for signature checks. */
  readonly x509: X509Certificate
  readonly serial: bigint
  /** Raw DER `Name`s, compared byte-exact when chaining (as Go does). */
  readonly issuerDer: Uint8Array
  readonly subjectDer: Uint8Array
  readonly notBefore: Date
  readonly notAfter: Date
  /** DER SubjectPublicKeyInfo. */
  readonly spkiDer: Uint8Array
  /** The subjectPublicKey BIT STRING value, without its unused-bits octet (hashed for key IDs). */
  readonly publicKeyBits: Uint8Array
  /** undefined when there is no basicConstraints extension. */
  readonly basicConstraints: { readonly ca: boolean; readonly pathLen: number | undefined } | undefined
  /** {@link KeyUsage} flags; undefined when there is no keyUsage extension. */
  readonly keyUsage: number | undefined
  readonly extKeyUsage: readonly string[] | undefined
  readonly uris: readonly string[]
  readonly dnsNames: readonly string[]
  readonly subjectKeyId: Uint8Array | undefined
  readonly authorityKeyId: Uint8Array | undefined
  /** Every extension by OID with its criticality, in certificate order. */
  readonly extensions: ReadonlyMap<string, { readonly critical: boolean }>
}

function decodeKeyUsage(buf: Uint8Array, tlv: Tlv): number {
  const { bytes } = decodeBitString(buf, tlv)
  let flags = 0
  for (let bit = 0; bit < Math.min(bytes.length * 8, 9); bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) flags |= 1 << bit
  }
  return flags
}

function decodeBasicConstraints(buf: Uint8Array, tlv: Tlv): { ca: boolean; pathLen: number | undefined } {
  const r = DerReader.of(buf, tlv)
  const caTlv = r.optional(TAG.BOOLEAN)
  const pathTlv = r.optional(TAG.INTEGER)
  r.end()
  const pathLen = pathTlv === undefined ? undefined : decodeUnsignedInteger(buf, pathTlv, 'pathLenConstraint')
  if (pathLen !== undefined && pathLen > 255n) throw new DerError('pathLenConstraint too large')
  return { ca: caTlv === undefined ? false : decodeBoolean(buf, caTlv), pathLen: pathLen === undefined ? undefined : Number(pathLen) }
}

function ia5(buf: Uint8Array, tlv: Tlv, what: string): string {
  const bytes = buf.subarray(tlv.contentStart, tlv.end)
  for (const b of bytes) if (b > 0x7f) throw new DerError(`${what} is not an IA5String`)
  return Buffer.from(bytes).toString('latin1')
}

/**
 * Go's crypto/x509 refuses a certificate whose URI SAN host has an empty label or a trailing dot,
 * or a character outside printable ASCII (`domainNameValid`), so no Go peer could use it.
 */
function goAcceptsUriHost(uri: string): boolean {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri)
  if (match === null) return true
  const authority = match[1]!
  const host = authority.slice(authority.lastIndexOf('@') + 1)
  if (host === '') return true
  if (host.endsWith('.')) return false
  for (const label of host.split('.')) {
    if (label === '') return false
  }
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i)
    if (c < 33 || c > 126) return false
  }
  return true
}

/**
 * URI and DNS names of a DER GeneralNames SEQUENCE (the subjectAltName value); other name types
 * are skipped.
 * @throws DerError when malformed; SpiffeError `INVALID_X509_SVID` for a URI Go cannot parse.
 */
export function decodeGeneralNames(buf: Uint8Array, tlv: Tlv): { uris: string[]; dnsNames: string[] } {
  const r = DerReader.of(buf, tlv)
  const uris: string[] = []
  const dnsNames: string[] = []
  if (r.done) throw new DerError('subjectAltName must not be empty')
  while (!r.done) {
    const name = r.next()
    if (name.tag === 0x86) {
      const uri = ia5(buf, name, 'URI SAN')
      if (!goAcceptsUriHost(uri)) {
        throw new SpiffeError('INVALID_X509_SVID', `x509svid: cannot parse DER encoded certificate: cannot parse URI ${JSON.stringify(uri)}: invalid domain`)
      }
      uris.push(uri)
    } else if (name.tag === 0x82) {
      dnsNames.push(ia5(buf, name, 'DNS SAN'))
    }
  }
  return { uris, dnsNames }
}

function decodeAuthorityKeyId(buf: Uint8Array, tlv: Tlv): Uint8Array | undefined {
  const r = DerReader.of(buf, tlv)
  const keyId = r.optional(0x80)
  return keyId === undefined ? undefined : buf.slice(keyId.contentStart, keyId.end)
}

function decodeExtKeyUsage(buf: Uint8Array, tlv: Tlv): string[] {
  const r = DerReader.of(buf, tlv)
  const oids: string[] = []
  while (!r.done) oids.push(decodeOid(buf, r.next(TAG.OID)))
  return oids
}

/**
 * Reads one DER certificate.
 * @throws SpiffeError `INVALID_X509_SVID` "x509svid: cannot parse DER encoded certificate" with the
 *   reason as `cause`.
 */
export function decodeCertificate(der: Uint8Array): CertificateFields {
  try {
    return decodeCertificateUnchecked(der)
  } catch (err) {
    if (err instanceof SpiffeError) throw err
    throw new SpiffeError('INVALID_X509_SVID', 'x509svid: cannot parse DER encoded certificate', { cause: err })
  }
}

function decodeCertificateUnchecked(der: Uint8Array): CertificateFields {
  const cert = readTlv(der, 0)
  if (cert.tag !== TAG.SEQUENCE || cert.end !== der.length) throw new DerError('not a single DER SEQUENCE')
  const outer = DerReader.of(der, cert)
  const tbsTlv = outer.next(TAG.SEQUENCE)
  outer.next(TAG.SEQUENCE)
  outer.next(TAG.BIT_STRING)
  outer.end()

  const tbs = DerReader.of(der, tbsTlv)
  const versionTlv = tbs.optional(0xa0)
  if (versionTlv === undefined) throw new DerError('only version 3 certificates are supported')
  const versionReader = DerReader.of(der, versionTlv)
  const version = decodeUnsignedInteger(der, versionReader.next(TAG.INTEGER), 'version')
  versionReader.end()
  if (version !== 2n) throw new DerError('only version 3 certificates are supported')
  const serialTlv = tbs.next(TAG.INTEGER)
  const serialLength = serialTlv.end - serialTlv.contentStart
  if (serialLength > 21 || (serialLength === 21 && der[serialTlv.contentStart] !== 0)) {
    throw new DerError('serial number longer than 20 octets')
  }
  const serial = decodeUnsignedInteger(der, serialTlv, 'serial number')
  tbs.next(TAG.SEQUENCE)
  const issuerTlv = tbs.next(TAG.SEQUENCE)
  const validity = DerReader.of(der, tbs.next(TAG.SEQUENCE))
  const notBeforeTlv = validity.next()
  const notAfterTlv = validity.next()
  validity.end()
  const subjectTlv = tbs.next(TAG.SEQUENCE)
  const spkiTlv = tbs.next(TAG.SEQUENCE)
  const spki = DerReader.of(der, spkiTlv)
  spki.next(TAG.SEQUENCE)
  const keyBits = decodeBitString(der, spki.next(TAG.BIT_STRING))
  spki.end()
  tbs.optional(0x81)
  tbs.optional(0x82)
  const extensionsTlv = tbs.optional(0xa3)
  tbs.end()

  let basicConstraints: CertificateFields['basicConstraints']
  let keyUsage: number | undefined
  let extKeyUsage: string[] | undefined
  let uris: string[] = []
  let dnsNames: string[] = []
  let subjectKeyId: Uint8Array | undefined
  let authorityKeyId: Uint8Array | undefined
  const extensions = new Map<string, { critical: boolean }>()
  if (extensionsTlv !== undefined) {
    const wrapper = DerReader.of(der, extensionsTlv)
    const list = DerReader.of(der, wrapper.next(TAG.SEQUENCE))
    wrapper.end()
    while (!list.done) {
      const ext = DerReader.of(der, list.next(TAG.SEQUENCE))
      const oid = decodeOid(der, ext.next(TAG.OID))
      const criticalTlv = ext.optional(TAG.BOOLEAN)
      const critical = criticalTlv === undefined ? false : decodeBoolean(der, criticalTlv)
      const valueTlv = ext.next(TAG.OCTET_STRING)
      ext.end()
      if (extensions.has(oid)) throw new DerError(`duplicate extension ${oid}`)
      extensions.set(oid, { critical })
      const value = readTlv(der, valueTlv.contentStart, valueTlv.end)
      if (value.end !== valueTlv.end) throw new DerError(`trailing data in extension ${oid}`)
      switch (oid) {
        case OID.basicConstraints:
          if (value.tag !== TAG.SEQUENCE) throw new DerError('malformed basicConstraints')
          basicConstraints = decodeBasicConstraints(der, value)
          break
        case OID.keyUsage:
          if (value.tag !== TAG.BIT_STRING) throw new DerError('malformed keyUsage')
          keyUsage = decodeKeyUsage(der, value)
          break
        case OID.extKeyUsage:
          if (value.tag !== TAG.SEQUENCE) throw new DerError('malformed extKeyUsage')
          extKeyUsage = decodeExtKeyUsage(der, value)
          break
        case OID.subjectAltName:
          if (value.tag !== TAG.SEQUENCE) throw new DerError('malformed subjectAltName')
          ;({ uris, dnsNames } = decodeGeneralNames(der, value))
          break
        case OID.subjectKeyIdentifier:
          if (value.tag !== TAG.OCTET_STRING) throw new DerError('malformed subjectKeyIdentifier')
          subjectKeyId = der.slice(value.contentStart, value.end)
          break
        case OID.authorityKeyIdentifier:
          if (value.tag !== TAG.SEQUENCE) throw new DerError('malformed authorityKeyIdentifier')
          authorityKeyId = decodeAuthorityKeyId(der, value)
          break
      }
    }
  }

  // OpenSSL must agree that these bytes are a certificate: the signature checks run on its view.
  const x509 = new X509Certificate(der)
  try {
    // OpenSSL loads the subject public key only when asked: a broken one (an EC point off its
    // curve) must fail here, not later inside a signature check with OpenSSL's own text.
    void x509.publicKey
  } catch (cause) {
    throw new DerError('subject public key is malformed or of an unsupported type', { cause })
  }
  return {
    der,
    x509,
    serial,
    issuerDer: der.subarray(issuerTlv.start, issuerTlv.end),
    subjectDer: der.subarray(subjectTlv.start, subjectTlv.end),
    notBefore: decodeTime(der, notBeforeTlv),
    notAfter: decodeTime(der, notAfterTlv),
    spkiDer: der.subarray(spkiTlv.start, spkiTlv.end),
    publicKeyBits: keyBits.bytes,
    basicConstraints,
    keyUsage,
    extKeyUsage,
    uris,
    dnsNames,
    subjectKeyId,
    authorityKeyId,
    extensions,
  }
}

/** OID of the first critical extension we do not enforce (RFC 5280 §4.2: reject it), or undefined. */
export function unhandledCriticalExtension(cert: CertificateFields): string | undefined {
  for (const [oid, { critical }] of cert.extensions) {
    if (critical && !HANDLED_EXTENSIONS.has(oid)) return oid
  }
  return undefined
}
