import { createPublicKey, generateKeyPairSync, hash } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { mintError } from './errors.js'
import { DER_NULL, TAG, derElement, derNode, derOid } from './x509-der.js'
import type { DerNode } from './x509-der.js'

/**
 * Keys of the X.509 code: the key types the CA generates and signs with, the SubjectPublicKeyInfo
 * of a key (written by hand, see {@link publicKeyInfo}), and the signature algorithm of each CA key.
 */

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
