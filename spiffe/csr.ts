import type { KeyObject } from 'node:crypto'
import { sign } from 'node:crypto'
import { TAG, derNode, encodeDer } from './x509-der.js'
import { publicKeyInfo, signerFor } from './x509-mint.js'

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
