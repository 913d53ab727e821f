import { InvalidArgumentError, PermissionDeniedError } from '../../../common/errors.js'
import {
  DerError,
  DerReader,
  KeyUsage,
  OID,
  TAG,
  decodeCertificate,
  decodeOid,
  readTlv,
  type CertificateFields,
} from '../../../spiffe/index.js'
import { MAX_RSA_BITS } from './protocol.js'

/**
 * RFC 5280 path validation for `x509pop` agent certificates, which are not SVIDs: from the agent
 * certificate through the presented intermediates to one of the configured CA certificates, at a
 * given time. Checks names, signatures, validity of every certificate, CA flag, keyCertSign and
 * path length of every issuer, and refuses unknown critical extensions. Extended key usage is not
 * restricted (SPIRE accepts any).
 */

// Extensions whose meaning we either enforce here or that carry no constraint.
const HANDLED_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.subjectKeyIdentifier,
  OID.keyUsage,
  OID.subjectAltName,
  OID.basicConstraints,
  OID.authorityKeyIdentifier,
  OID.extKeyUsage,
])

const MAX_PATH_LENGTH = 10
// Presented intermediates can be crafted so that many orderings look plausible (same names, one
// key); like Go's crypto/x509, stop after a fixed number of signature checks instead of
// exploring them all.
const MAX_SIGNATURE_CHECKS = 100

/**
 * Reads one DER certificate for path validation.
 * @throws InvalidArgumentError naming `what` when it does not parse or holds an RSA key above the size limit.
 */
export function readCertificate(der: Uint8Array, what: string): CertificateFields {
  let fields: CertificateFields
  try {
    fields = decodeCertificate(der)
  } catch (cause) {
    throw new InvalidArgumentError(`${what} is not a valid DER X.509 v3 certificate`, { cause })
  }
  const key = fields.x509.publicKey
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) > MAX_RSA_BITS) {
    throw new InvalidArgumentError(`${what} has an RSA key larger than ${MAX_RSA_BITS} bits`)
  }
  return fields
}

/**
 * Every valid path from `leaf` to a root, each leaf first and root last.
 * @throws PermissionDeniedError naming the broken rule when there is none.
 */
export function verifyChain(
  leaf: CertificateFields,
  intermediates: readonly CertificateFields[],
  roots: readonly CertificateFields[],
  now: Date,
): CertificateFields[][] {
  const leafProblem = validityProblem(leaf, now) ?? unhandledExtensionProblem(leaf)
  if (leafProblem !== undefined) throw new PermissionDeniedError(`agent certificate ${leafProblem}`)
  if (leaf.basicConstraints?.ca === true) throw new PermissionDeniedError('agent certificate must not be a CA certificate')
  if (((leaf.keyUsage ?? 0) & KeyUsage.digitalSignature) === 0) {
    throw new PermissionDeniedError('agent certificate must have the digitalSignature key usage')
  }

  let checks = 0
  const signs = (child: CertificateFields, parent: CertificateFields): boolean => {
    if (!Buffer.from(child.issuerDer).equals(parent.subjectDer)) return false
    if (child.authorityKeyId !== undefined && parent.subjectKeyId !== undefined && !Buffer.from(child.authorityKeyId).equals(parent.subjectKeyId)) {
      return false
    }
    if (++checks > MAX_SIGNATURE_CHECKS) throw new PermissionDeniedError('agent certificate chain needs too many signature checks to verify')
    return child.x509.verify(parent.x509.publicKey)
  }

  const chains: CertificateFields[][] = []
  let firstProblem: string | undefined
  const extend = (path: CertificateFields[]): void => {
    const child = path[path.length - 1]!
    const intermediatesBelow = path.length - 1
    const consider = (candidate: CertificateFields, isRoot: boolean): void => {
      if (path.some((c) => Buffer.from(c.der).equals(candidate.der))) return
      if (!signs(child, candidate)) return
      const problem = issuerProblem(candidate, intermediatesBelow, now)
      if (problem !== undefined) {
        firstProblem ??= problem
        return
      }
      if (isRoot) chains.push([...path, candidate])
      else if (path.length + 1 < MAX_PATH_LENGTH) extend([...path, candidate])
    }
    for (const root of roots) consider(root, true)
    for (const intermediate of intermediates) consider(intermediate, false)
  }
  extend([leaf])

  if (chains.length === 0) {
    throw new PermissionDeniedError(`agent certificate does not chain to a trusted CA: ${firstProblem ?? 'no path to a configured CA certificate'}`)
  }
  return chains
}

function validityProblem(cert: CertificateFields, now: Date): string | undefined {
  if (now < cert.notBefore) return 'is not yet valid'
  if (now > cert.notAfter) return 'has expired'
  return undefined
}

function unhandledExtensionProblem(cert: CertificateFields): string | undefined {
  for (const [oid, { critical }] of cert.extensions) {
    if (critical && !HANDLED_EXTENSIONS.has(oid)) return `has an unhandled critical extension ${oid}`
  }
  return undefined
}

/** RFC 5280 §6.1.4 checks of a certificate used as an issuer, with its validity. */
function issuerProblem(cert: CertificateFields, intermediatesBelow: number, now: Date): string | undefined {
  const problem = validityProblem(cert, now) ?? unhandledExtensionProblem(cert)
  if (problem !== undefined) return `issuing certificate ${problem}`
  if (cert.basicConstraints?.ca !== true) return 'issuing certificate must have the CA flag set'
  if (cert.keyUsage !== undefined && (cert.keyUsage & KeyUsage.keyCertSign) === 0) {
    return 'issuing certificate must have the keyCertSign key usage'
  }
  const pathLen = cert.basicConstraints.pathLen
  if (pathLen !== undefined && intermediatesBelow > pathLen) return 'issuing certificate path length constraint is exceeded'
  return undefined
}

const COMMON_NAME_OID = '2.5.4.3'

/**
 * The subject common name, or undefined when there is none. With several, the last one counts
 * (as Go's `pkix.Name.CommonName`, which SPIRE uses).
 * @throws InvalidArgumentError when the subject is malformed or the CN uses an unsupported string type.
 */
export function subjectCommonName(cert: CertificateFields): string | undefined {
  try {
    const der = cert.subjectDer
    const name = DerReader.of(der, readTlv(der, 0))
    let cn: string | undefined
    while (!name.done) {
      const rdn = DerReader.of(der, name.next(TAG.SET))
      while (!rdn.done) {
        const attribute = DerReader.of(der, rdn.next(TAG.SEQUENCE))
        const oid = decodeOid(der, attribute.next(TAG.OID))
        const value = attribute.next()
        attribute.end()
        if (oid === COMMON_NAME_OID) cn = decodeDirectoryString(der.subarray(value.contentStart, value.end), value.tag)
      }
    }
    return cn
  } catch (cause) {
    if (cause instanceof InvalidArgumentError) throw cause
    throw new InvalidArgumentError('agent certificate subject is malformed', { cause })
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })
const UTF16BE = new TextDecoder('utf-16be', { fatal: true })

function decodeDirectoryString(bytes: Uint8Array, tag: number): string {
  switch (tag) {
    case TAG.UTF8_STRING:
      return UTF8.decode(bytes)
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case 0x12: // NumericString
      for (const b of bytes) if (b > 0x7f) throw new DerError('non-ASCII byte in an ASCII string')
      return Buffer.from(bytes).toString('latin1')
    case 0x14: // TeletexString: read as Latin-1, as Go does
      return Buffer.from(bytes).toString('latin1')
    case 0x1e: // BMPString
      return UTF16BE.decode(bytes)
    default:
      throw new InvalidArgumentError('agent certificate subject common name uses an unsupported string type')
  }
}
