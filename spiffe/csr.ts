import { createPublicKey, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { SpiffeError, mintError } from './errors.js'
import { pemDecodeAll } from './pem.js'
import { OID, decodeGeneralNames } from './x509-certificate.js'
import { DerError, DerReader, TAG, decodeOid, derNode, encodeDer, readTlv } from './x509-der.js'
import { publicKeyInfo, signerFor } from './x509-keys.js'

/**
 * PKCS#10 certificate requests (RFC 2986): creating the one an agent or workload sends, and parsing
 * and checking the one a server receives.
 */

const VERSION_1 = Buffer.from([TAG.INTEGER, 0x01, 0x00])
const EMPTY_NAME = Buffer.from([TAG.SEQUENCE, 0x00])
// [0] IMPLICIT SET OF Attribute, empty: the server takes only the public key from a CSR.
const NO_ATTRIBUTES = Buffer.from([0xa0, 0x00])

/**
 * A PKCS#10 certificate request (RFC 2986, DER) for `privateKey`'s public half, with an empty
 * subject and no attributes: the server names the SVID from the registration entry, never from
 * the request. Keys: EC P-256, P-384, RSA 2048.
 * @throws SpiffeError `INVALID_MINT_REQUEST` for other key types or a public key.
 */
export function createCsr(privateKey: KeyObject): Buffer {
  const signer = signerFor(privateKey)
  const info = encodeDer(derNode(TAG.SEQUENCE, VERSION_1, EMPTY_NAME, publicKeyInfo(privateKey).spki, NO_ATTRIBUTES))
  const signature = sign(signer.hash, info, privateKey)
  return encodeDer(derNode(TAG.SEQUENCE, info, signer.algorithmDer, derNode(TAG.BIT_STRING, Buffer.of(0), signature)))
}

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
