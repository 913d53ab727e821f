import { createPrivateKey, createPublicKey } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { bundleFor } from './bundle.js'
import type { BundleSource } from './bundle.js'
import { SpiffeError } from './errors.js'
import { parseSpiffeId } from './id.js'
import type { SpiffeId } from './id.js'
import { KeyUsage, decodeCertificate, unhandledCriticalExtension } from './x509-certificate.js'
import type { CertificateFields } from './x509-certificate.js'
import { pemDecodeAll, pemEncode } from './pem.js'
import { splitDerSequence } from './x509-der.js'

/**
 * X509-SVIDs: parsing an SVID as a workload receives it (go-spiffe `x509svid.ParseRaw`), and
 * verifying a peer's SVID against bundles (`x509svid.Verify`), per X509-SVID.md §5.
 */

// ---------------------------------------------------------------------------------------------
// SPIFFE ID of a certificate

function idFromFields(fields: CertificateFields): SpiffeId {
  if (fields.uris.length === 0) throw new Error('certificate contains no URI SAN')
  if (fields.uris.length > 1) throw new Error('certificate contains more than one URI SAN')
  return parseSpiffeId(fields.uris[0]!)
}

function stripPrefix(message: string): string {
  return message.replace(/^spiffeid: /, '')
}

/**
 * The SPIFFE ID in a certificate's single URI SAN (go-spiffe `x509svid.IDFromCert`), root IDs
 * included (CA certificates carry one).
 * @throws SpiffeError `INVALID_X509_SVID` when the certificate does not parse, has no or several
 *   URI SANs, or the URI is not a SPIFFE ID.
 */
export function spiffeIdFromCertificate(der: Uint8Array): SpiffeId {
  const fields = decodeCertificate(der)
  try {
    return idFromFields(fields)
  } catch (err) {
    throw new SpiffeError('INVALID_X509_SVID', `x509svid: ${stripPrefix((err as Error).message)}`, { cause: err })
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing an SVID

const CONSTRUCT = Symbol('construct')

/**
 * An X509-SVID with its private key: the leaf first, then intermediates (never the root).
 * Created by {@link parseX509Svid} or {@link parseX509SvidPem}, so holding one means it passed
 * go-spiffe's parse rules.
 */
export class X509Svid {
  readonly id: SpiffeId
  /** DER certificates, leaf first. */
  readonly certificates: readonly Uint8Array[]
  readonly privateKey: KeyObject
  /** Operator-chosen hint (Workload API `hint`), if any. */
  readonly hint: string | undefined
  /** The leaf's notAfter. */
  readonly expiresAt: Date

  /** @internal use {@link parseX509Svid} */
  constructor(token: symbol, id: SpiffeId, certificates: readonly Uint8Array[], privateKey: KeyObject, hint: string | undefined, expiresAt: Date) {
    if (token !== CONSTRUCT) throw new TypeError('use parseX509Svid() to create an X509Svid')
    this.id = id
    this.certificates = Object.freeze([...certificates])
    this.privateKey = privateKey
    this.hint = hint
    this.expiresAt = expiresAt
    Object.freeze(this)
  }

  /** The certificates as concatenated DER (the Workload API's `x509_svid`). */
  certificatesDer(): Buffer {
    return Buffer.concat(this.certificates)
  }

  /** The private key as PKCS#8 DER (the Workload API's `x509_svid_key`). */
  privateKeyDer(): Buffer {
    return this.privateKey.export({ format: 'der', type: 'pkcs8' })
  }

  /** The certificates as PEM blocks, leaf first. */
  certificatesPem(): string {
    return this.certificates.map((der) => pemEncode('CERTIFICATE', der)).join('')
  }

  /** The private key as a PKCS#8 `PRIVATE KEY` PEM block. */
  privateKeyPem(): string {
    return pemEncode('PRIVATE KEY', this.privateKeyDer())
  }
}

function parseFailure(message: string): SpiffeError {
  return new SpiffeError('INVALID_X509_SVID', `x509svid: certificate validation failed: ${message}`)
}

function decodeChain(chain: Uint8Array | readonly Uint8Array[]): CertificateFields[] {
  let ders: readonly Uint8Array[]
  if (chain instanceof Uint8Array) {
    try {
      ders = splitDerSequence(chain)
    } catch (err) {
      throw new SpiffeError('INVALID_X509_SVID', 'x509svid: cannot parse DER encoded certificate', { cause: err })
    }
  } else {
    ders = chain
  }
  return ders.map((der) => decodeCertificate(der))
}

/** Leaf and signing-certificate rules of go-spiffe's parser (X509-SVID.md §3, §4). */
function checkSvidCertificates(fields: readonly CertificateFields[]): SpiffeId {
  const [leaf, ...signers] = fields
  if (leaf === undefined) throw parseFailure('no certificates found')
  let id: SpiffeId
  try {
    id = idFromFields(leaf)
  } catch (err) {
    throw new SpiffeError(
      'INVALID_X509_SVID',
      `x509svid: certificate validation failed: cannot get leaf certificate SPIFFE ID: ${stripPrefix((err as Error).message)}`,
      { cause: err },
    )
  }
  if (id.isRoot) throw parseFailure('leaf certificate SPIFFE ID must have a non-root path')
  if (leaf.basicConstraints?.ca === true) throw parseFailure('leaf certificate must not have CA flag set to true')
  const usage = leaf.keyUsage ?? 0
  if (!(usage & KeyUsage.digitalSignature)) {
    throw parseFailure("leaf certificate must have 'digitalSignature' set as key usage")
  }
  if (usage & KeyUsage.keyCertSign) throw parseFailure("leaf certificate must not have 'keyCertSign' set as key usage")
  if (usage & KeyUsage.cRLSign) throw parseFailure("leaf certificate must not have 'cRLSign' set as key usage")
  for (const signer of signers) {
    if (signer.basicConstraints?.ca !== true) throw parseFailure('signing certificate must have CA flag set to true')
    if (!((signer.keyUsage ?? 0) & KeyUsage.keyCertSign)) {
      throw parseFailure("signing certificate must have 'keyCertSign' set as key usage")
    }
  }
  return id
}

/** Options for {@link parseX509Svid}. */
export interface ParseX509SvidOptions {
  /** Workload API `hint` to keep with the SVID. */
  readonly hint?: string
}

/**
 * Parses an X509-SVID as a workload receives it from the Workload API (go-spiffe
 * `x509svid.ParseRaw`): `chain` is the leaf followed by intermediates, as concatenated DER or a
 * list; `keyDer` is the leaf's PKCS#8 DER private key. Does not verify the chain (see
 * {@link verifyX509Svid}).
 * @throws SpiffeError `INVALID_X509_SVID` with go-spiffe's message for the broken rule
 *   (X509-SVID.md §3, §4; CONFORMANCE X509-02, X509-04, INTEROP-04).
 */
export function parseX509Svid(
  chain: Uint8Array | readonly Uint8Array[],
  keyDer: Uint8Array,
  options: ParseX509SvidOptions = {},
): X509Svid {
  const fields = decodeChain(chain)
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: Buffer.from(keyDer), format: 'der', type: 'pkcs8' })
  } catch (err) {
    throw new SpiffeError('INVALID_X509_SVID', 'x509svid: cannot parse DER encoded private key', { cause: err })
  }
  const id = checkSvidCertificates(fields)
  const leaf = fields[0]!
  let matches = false
  try {
    matches = createPublicKey({ key: Buffer.from(leaf.spkiDer), format: 'der', type: 'spki' }).equals(createPublicKey(privateKey))
  } catch (err) {
    throw new SpiffeError('INVALID_X509_SVID', 'x509svid: private key validation failed: unsupported leaf public key', { cause: err })
  }
  if (!matches) {
    throw new SpiffeError(
      'INVALID_X509_SVID',
      'x509svid: private key validation failed: leaf certificate does not match private key',
    )
  }
  return new X509Svid(
    CONSTRUCT,
    id,
    fields.map((f) => f.der),
    privateKey,
    options.hint === '' ? undefined : options.hint,
    leaf.notAfter,
  )
}

/**
 * Parses an X509-SVID from PEM (go-spiffe `x509svid.Parse`): `CERTIFICATE` blocks, leaf first,
 * and one PKCS#8 `PRIVATE KEY` block.
 * @throws SpiffeError `INVALID_X509_SVID` as {@link parseX509Svid}, or when a block is missing.
 */
export function parseX509SvidPem(certificatesPem: string, keyPem: string, options: ParseX509SvidOptions = {}): X509Svid {
  const certificates = pemDecodeAll(certificatesPem, 'CERTIFICATE')
  if (certificates.length === 0) {
    throw new SpiffeError('INVALID_X509_SVID', 'x509svid: certificate validation failed: no certificates found')
  }
  const [key] = pemDecodeAll(keyPem, 'PRIVATE KEY')
  if (key === undefined) throw new SpiffeError('INVALID_X509_SVID', 'x509svid: no private key found')
  return parseX509Svid(certificates, key, options)
}

// ---------------------------------------------------------------------------------------------
// Verifying a peer's SVID

/** Options for {@link verifyX509Svid}. */
export interface VerifyX509SvidOptions {
  /** Verification time; defaults to now. */
  readonly now?: Date
}

/** The outcome of a successful {@link verifyX509Svid}. */
export interface VerifiedX509Svid {
  readonly id: SpiffeId
  /** Every valid path, each as DER from the leaf up to a bundle authority (inclusive). */
  readonly verifiedChains: readonly (readonly Uint8Array[])[]
}

const MAX_CHAIN_LENGTH = 10
// A peer chooses the intermediates it presents. Certificates that share a name and key can form a
// mesh with a huge number of paths, so signature checks and path steps are bounded (Go caps
// signature checks at 100 for the same reason).
const MAX_SIGNATURE_CHECKS = 100
const MAX_PATH_STEPS = 1000

function verifyFailure(message: string, cause?: unknown): SpiffeError {
  return new SpiffeError('X509_SVID_VERIFICATION_FAILED', `x509svid: ${message}`, cause === undefined ? undefined : { cause })
}

function validityProblem(cert: CertificateFields, now: Date): string | undefined {
  if (now < cert.notBefore) return 'certificate is not yet valid'
  if (now > cert.notAfter) return 'certificate has expired'
  return undefined
}

/** RFC 5280 §6.1.4 checks of a certificate used as an issuer, and its validity. */
function issuerProblem(cert: CertificateFields, intermediatesBelow: number, now: Date): string | undefined {
  const validity = validityProblem(cert, now)
  if (validity !== undefined) return validity
  const unhandled = unhandledCriticalExtension(cert)
  if (unhandled !== undefined) return `certificate has an unhandled critical extension ${unhandled}`
  if (cert.basicConstraints?.ca !== true) return 'signing certificate must have CA flag set to true'
  if (!((cert.keyUsage ?? 0) & KeyUsage.keyCertSign)) return "signing certificate must have 'keyCertSign' set as key usage"
  const pathLen = cert.basicConstraints.pathLen
  if (pathLen !== undefined && intermediatesBelow > pathLen) return 'too many intermediates for path length constraint'
  return undefined
}

function signedBy(child: CertificateFields, parent: CertificateFields): boolean {
  if (!Buffer.from(child.issuerDer).equals(parent.subjectDer)) return false
  // Key IDs are only a hint for path building (RFC 5280 §4.2.1.1), but a mismatch rules a parent out.
  if (child.authorityKeyId !== undefined && parent.subjectKeyId !== undefined) {
    if (!Buffer.from(child.authorityKeyId).equals(parent.subjectKeyId)) return false
  }
  return true
}

/**
 * Verifies a peer's X509-SVID (go-spiffe `x509svid.Verify` plus the leaf rules of X509-SVID.md
 * §5.2): RFC 5280 path validation from the leaf through the presented intermediates to an X.509
 * authority of the bundle of the leaf's own trust domain, at `now`.
 * @throws SpiffeError `BUNDLE_NOT_FOUND` when `bundles` has no bundle for the leaf's trust domain;
 *   `X509_SVID_VERIFICATION_FAILED` naming the broken rule otherwise (CONFORMANCE X509-20, X509-21).
 */
export function verifyX509Svid(
  chain: Uint8Array | readonly Uint8Array[],
  bundles: BundleSource,
  options: VerifyX509SvidOptions = {},
): VerifiedX509Svid {
  const now = options.now ?? new Date()
  let fields: CertificateFields[]
  try {
    fields = decodeChain(chain)
  } catch (err) {
    const detail = err instanceof SpiffeError ? err.message.replace(/^x509svid: /, '') : 'cannot parse DER encoded certificate'
    throw verifyFailure(detail, err)
  }
  const [leaf, ...intermediates] = fields
  if (leaf === undefined) throw verifyFailure('empty certificates chain')

  let id: SpiffeId
  try {
    id = idFromFields(leaf)
  } catch (err) {
    throw verifyFailure(`could not get leaf SPIFFE ID: ${stripPrefix((err as Error).message)}`, err)
  }
  if (leaf.basicConstraints?.ca === true) throw verifyFailure('leaf certificate with CA flag set to true')
  const usage = leaf.keyUsage ?? 0
  if (usage & KeyUsage.keyCertSign) throw verifyFailure('leaf certificate with KeyCertSign key usage')
  if (usage & KeyUsage.cRLSign) throw verifyFailure('leaf certificate with KeyCrlSign key usage')
  if (id.isRoot) throw verifyFailure('leaf certificate SPIFFE ID must have a non-root path')

  const bundle = bundleFor(bundles, id.trustDomain)
  if (bundle === undefined) {
    throw new SpiffeError(
      'BUNDLE_NOT_FOUND',
      `x509svid: could not get X509 bundle: x509bundle: no X.509 bundle found for trust domain: ${JSON.stringify(id.trustDomain.name)}`,
    )
  }

  const leafProblem = validityProblem(leaf, now) ?? unhandledOnLeaf(leaf)
  if (leafProblem !== undefined) throw verifyFailure(`could not verify leaf certificate: ${leafProblem}`)

  const roots: CertificateFields[] = []
  for (const der of bundle.x509Authorities) {
    try {
      roots.push(decodeCertificate(der))
    } catch {
      // An unreadable authority cannot anchor a path; the others still can.
    }
  }

  const chains: CertificateFields[][] = []
  let firstProblem: string | undefined
  const signatureChecks = new Map<string, boolean>()
  let steps = 0
  const signs = (child: CertificateFields, childIndex: number, parent: CertificateFields, parentIndex: string): boolean => {
    const key = `${childIndex}/${parentIndex}`
    let ok = signatureChecks.get(key)
    if (ok === undefined) {
      if (signatureChecks.size >= MAX_SIGNATURE_CHECKS) throw verifyFailure('could not verify leaf certificate: too many signature checks to build a chain')
      ok = child.x509.verify(parent.x509.publicKey)
      signatureChecks.set(key, ok)
    }
    return ok
  }
  // `path` holds indexes into `fields` (0 = leaf); roots are `r<index>`.
  const extend = (path: number[]): void => {
    const childIndex = path[path.length - 1]!
    const child = fields[childIndex]!
    const intermediatesBelow = path.length - 1
    const consider = (candidate: CertificateFields, candidateIndex: string, isRoot: boolean): void => {
      if (++steps > MAX_PATH_STEPS) throw verifyFailure('could not verify leaf certificate: too many candidate paths')
      if (!signedBy(child, candidate) || !signs(child, childIndex, candidate, candidateIndex)) return
      const problem = issuerProblem(candidate, intermediatesBelow, now)
      if (problem !== undefined) {
        firstProblem ??= problem
        return
      }
      if (isRoot) chains.push([...path.map((i) => fields[i]!), candidate])
      else if (path.length + 1 < MAX_CHAIN_LENGTH) extend([...path, Number(candidateIndex)])
    }
    roots.forEach((root, i) => consider(root, `r${i}`, true))
    intermediates.forEach((intermediate, i) => {
      // A certificate appears at most once per path (also when presented twice).
      if (!path.some((p) => Buffer.from(fields[p]!.der).equals(intermediate.der))) consider(intermediate, String(i + 1), false)
    })
  }
  extend([0])

  if (chains.length === 0) {
    throw verifyFailure(`could not verify leaf certificate: ${firstProblem ?? 'certificate signed by unknown authority'}`)
  }
  return { id, verifiedChains: chains.map((c) => Object.freeze(c.map((f) => f.der))) }
}

function unhandledOnLeaf(leaf: CertificateFields): string | undefined {
  const oid = unhandledCriticalExtension(leaf)
  return oid === undefined ? undefined : `certificate has an unhandled critical extension ${oid}`
}
