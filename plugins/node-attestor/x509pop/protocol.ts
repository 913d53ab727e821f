import { constants, createHash, sign, verify, type KeyObject } from 'node:crypto'
import { InvalidArgumentError } from '../../../common/errors.js'
import { decodeBase64Strict } from '../../../spiffe/index.js'

/**
 * The `x509pop` wire format shared by both halves, and the proof-of-possession signature.
 *
 * - payload (agent → server): `{"certificates": ["<base64 DER>", …]}`, the agent certificate
 *   first, then intermediates; at most {@link MAX_CHAIN_CERTIFICATES}.
 * - challenge (server → agent): `{"nonce": "<base64 of 32 random bytes>"}`.
 * - answer (agent → server): `{"nonce": "<base64 of 32 random bytes>", "signature": "<base64>"}`,
 *   the signature over {@link signedMessage}: a fixed context string, the server nonce, then the
 *   agent nonce. The context string and the agent's own nonce mean the agent never signs bytes
 *   chosen wholly by the other side (so it is no signing oracle for another protocol).
 *
 * base64 is RFC 4648 §4 with padding, canonical only. Signature scheme by key type:
 * EC P-256 → ECDSA with SHA-256; EC P-384 → ECDSA with SHA-384 (both DER-encoded `Ecdsa-Sig-Value`);
 * RSA of 2048 to 8192 bits → RSASSA-PSS with SHA-256, MGF1 with SHA-256 and a 32-byte salt.
 */

export const X509POP_PLUGIN_NAME = 'x509pop'
export const NONCE_BYTES = 32
/** Agent certificate plus intermediates. */
export const MAX_CHAIN_CERTIFICATES = 10
export const MAX_PAYLOAD_BYTES = 64 * 1024
export const MAX_ANSWER_BYTES = 8 * 1024
export const MIN_RSA_BITS = 2048
/** Larger RSA keys make every verification slow enough to be a denial of service (SPIRE's limit too). */
export const MAX_RSA_BITS = 8192

const SIGNATURE_CONTEXT = Buffer.from('steeple x509pop challenge response v1\0', 'latin1')

/** The signature scheme a key type implies (see the module comment). */
export type SignatureScheme = 'ecdsa-p256-sha256' | 'ecdsa-p384-sha384' | 'rsa-pss-sha256'

/** The scheme for a public or private key, or undefined when the key type is not supported. */
export function signatureSchemeFor(key: KeyObject): SignatureScheme | undefined {
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return 'ecdsa-p256-sha256'
    if (details?.namedCurve === 'secp384r1') return 'ecdsa-p384-sha384'
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details?.modulusLength ?? 0
    if (bits >= MIN_RSA_BITS && bits <= MAX_RSA_BITS) return 'rsa-pss-sha256'
  }
  return undefined
}

/** Human-readable list for error messages. */
export const SUPPORTED_KEYS = `EC P-256, EC P-384 or RSA of ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits`

/** The bytes the agent signs: context string ‖ server nonce ‖ agent nonce. */
export function signedMessage(serverNonce: Uint8Array, agentNonce: Uint8Array): Buffer {
  return Buffer.concat([SIGNATURE_CONTEXT, serverNonce, agentNonce])
}

/** Signs `message` with the scheme of `privateKey`. Throws TypeError for an unsupported key (checked at load). */
export function signChallenge(privateKey: KeyObject, message: Uint8Array): Buffer {
  const scheme = signatureSchemeFor(privateKey)
  switch (scheme) {
    case 'ecdsa-p256-sha256':
      return sign('sha256', message, { key: privateKey, dsaEncoding: 'der' })
    case 'ecdsa-p384-sha384':
      return sign('sha384', message, { key: privateKey, dsaEncoding: 'der' })
    case 'rsa-pss-sha256':
      return sign('sha256', message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    case undefined:
      throw new TypeError(`x509pop key must be ${SUPPORTED_KEYS}`)
  }
}

/** True when `signature` is a valid signature over `message` by `publicKey` in the key's scheme. */
export function verifyChallengeSignature(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    switch (signatureSchemeFor(publicKey)) {
      case 'ecdsa-p256-sha256':
        return verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature)
      case 'ecdsa-p384-sha384':
        return verify('sha384', message, { key: publicKey, dsaEncoding: 'der' }, signature)
      case 'rsa-pss-sha256':
        return verify('sha256', message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature)
      case undefined:
        return false
    }
  } catch {
    // OpenSSL throws on signatures it cannot even decode; for us that is simply a bad proof.
    return false
  }
}

/** SHA-1 of the DER certificate, lowercase hex: SPIRE's x509pop fingerprint (agent ID and CA selectors). */
export function certificateFingerprint(der: Uint8Array): string {
  return createHash('sha1').update(der).digest('hex')
}

/** The payload for a chain (agent certificate first). */
export function encodePayload(chainDer: readonly Uint8Array[]): Uint8Array {
  return encodeJson({ certificates: chainDer.map(base64) })
}

/**
 * The certificates of a payload, agent certificate first.
 * @throws InvalidArgumentError when the payload is not of the documented form.
 */
export function decodePayload(payload: Uint8Array): Uint8Array[] {
  const where = 'payload'
  if (payload.length > MAX_PAYLOAD_BYTES) throw malformed(where, `must be at most ${MAX_PAYLOAD_BYTES} bytes`)
  const obj = decodeJsonObject(payload, where, ['certificates'])
  const list = obj.certificates
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_CHAIN_CERTIFICATES) {
    throw malformed(where, `"certificates" must be a list of 1 to ${MAX_CHAIN_CERTIFICATES} certificates`)
  }
  return list.map((item, i) => bytesMember(item, where, `certificates[${i}]`))
}

/** The challenge carrying a server nonce. */
export function encodeChallenge(nonce: Uint8Array): Uint8Array {
  return encodeJson({ nonce: base64(nonce) })
}

/**
 * The server nonce of a challenge.
 * @throws InvalidArgumentError when the challenge is not of the documented form.
 */
export function decodeChallenge(challenge: Uint8Array): Uint8Array {
  const where = 'challenge'
  if (challenge.length > MAX_ANSWER_BYTES) throw malformed(where, `must be at most ${MAX_ANSWER_BYTES} bytes`)
  const obj = decodeJsonObject(challenge, where, ['nonce'])
  return nonceMember(obj.nonce, where)
}

/** The agent's answer: its own nonce and the signature over {@link signedMessage}. */
export interface ChallengeAnswer {
  readonly nonce: Uint8Array
  readonly signature: Uint8Array
}

/** The answer message for `answer`. */
export function encodeAnswer(answer: ChallengeAnswer): Uint8Array {
  return encodeJson({ nonce: base64(answer.nonce), signature: base64(answer.signature) })
}

/**
 * The agent nonce and signature of an answer.
 * @throws InvalidArgumentError when the answer is not of the documented form.
 */
export function decodeAnswer(answer: Uint8Array): ChallengeAnswer {
  const where = 'challenge answer'
  if (answer.length > MAX_ANSWER_BYTES) throw malformed(where, `must be at most ${MAX_ANSWER_BYTES} bytes`)
  const obj = decodeJsonObject(answer, where, ['nonce', 'signature'])
  return { nonce: nonceMember(obj.nonce, where), signature: bytesMember(obj.signature, where, 'signature') }
}

function malformed(where: string, rule: string): InvalidArgumentError {
  return new InvalidArgumentError(`x509pop ${where} ${rule}`)
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value))
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

function decodeJsonObject(bytes: Uint8Array, where: string, keys: readonly string[]): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(UTF8.decode(bytes))
  } catch {
    throw malformed(where, 'must be a UTF-8 JSON object')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(where, 'must be a JSON object')
  const obj = value as Record<string, unknown>
  const members = Object.keys(obj)
  if (members.length !== keys.length || !keys.every((k) => members.includes(k))) {
    throw malformed(where, `must have exactly the members ${keys.map((k) => JSON.stringify(k)).join(', ')}`)
  }
  return obj
}

function bytesMember(value: unknown, where: string, name: string): Uint8Array {
  const bytes = typeof value === 'string' ? decodeBase64Strict(value) : undefined
  if (bytes === undefined || bytes.length === 0) throw malformed(where, `"${name}" must be non-empty padded base64`)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function nonceMember(value: unknown, where: string): Uint8Array {
  const bytes = bytesMember(value, where, 'nonce')
  if (bytes.length !== NONCE_BYTES) throw malformed(where, `"nonce" must be ${NONCE_BYTES} bytes`)
  return bytes
}
