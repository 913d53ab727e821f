import { X509Certificate, createPublicKey } from 'node:crypto'
import { parseTrustDomain } from '../id.js'
import { createSelfSignedCa } from '../x509-ca.js'
import { generateKeyPair } from '../x509-keys.js'

/**
 * Damaged SPIFFE bundle documents for the tests of every place that reads one (the codec, the admin
 * API, the operator CLI, the agent's stored bundle), each with the member and the rule its error
 * must name. Built from real keys and certificates; only the member under test is broken.
 */

/** OpenSSL's own text in a message ("error:03000072:digital envelope routines::decode error"). */
export const OPENSSL_TEXT = /error:[0-9A-Fa-f]{8}|routines|ERR_OSSL/

/** A damaged bundle and what its error must say: `spiffebundle: <member>: <rule>`. */
export interface DamagedBundle {
  readonly name: string
  /** The SPIFFE bundle document. */
  readonly json: string
  /** The member path the message names (`keys[2].x5c[0]`). */
  readonly member: string
  readonly rule: string
}

/**
 * `der` (a certificate with an uncompressed EC public key) with the last byte of the key's point
 * changed, so that the point is off its curve. OpenSSL still parses the certificate, and fails only
 * when the key is read, with its own "digital envelope routines" text.
 */
export function withKeyOffCurve(der: Uint8Array): Buffer {
  const bytes = Buffer.from(der)
  const spki = new X509Certificate(bytes).publicKey.export({ format: 'der', type: 'spki' })
  const at = bytes.indexOf(spki)
  if (at < 0) throw new Error('the certificate does not hold its key in the expected encoding')
  bytes[at + spki.length - 1]! ^= 0x01
  return bytes
}

const b64 = (der: Uint8Array): string => Buffer.from(der).toString('base64')
const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')

/** A self-signed P-256 CA of example.org and the DER of its certificate. */
export function testCa(): { der: Uint8Array; jwk: Record<string, string> } {
  const ca = createSelfSignedCa({ trustDomain: parseTrustDomain('example.org'), privateKey: generateKeyPair('ec-p256').privateKey, ttlSeconds: 3600 })
  return { der: ca.certificateDer, jwk: createPublicKey(ca.privateKey).export({ format: 'jwk' }) as Record<string, string> }
}

/**
 * Damaged SPIFFE bundles: each JWK case has two valid JWKs before the broken one (so the message
 * must name `keys[2]`), and the document-level cases break `keys`, `spiffe_sequence` or
 * `spiffe_refresh_hint`.
 */
export function damagedSpiffeBundles(): DamagedBundle[] {
  const ca = testCa()
  const other = testCa()
  const jwtKey = createPublicKey(generateKeyPair('ec-p256').privateKey).export({ format: 'jwk' }) as Record<string, string>
  const rsaKey = createPublicKey(generateKeyPair('rsa-2048').privateKey).export({ format: 'jwk' }) as Record<string, string>
  const x509 = (x5c: unknown, members: Record<string, unknown> = ca.jwk): Record<string, unknown> => ({ use: 'x509-svid', ...members, x5c })
  const jwt = (members: Record<string, unknown>): Record<string, unknown> => ({ use: 'jwt-svid', kid: 'broken', ...members })
  const valid = [x509([b64(other.der)], other.jwk), { use: 'jwt-svid', kid: 'good', ...jwtKey }]
  const third = (name: string, key: Record<string, unknown>, member: string, rule: string): DamagedBundle => ({
    name,
    json: JSON.stringify({ keys: [...valid, key] }),
    member: `keys[2]${member}`,
    rule,
  })
  const point = Buffer.from(jwtKey.y!, 'base64url')
  point[31]! ^= 0x01
  const evenModulus = Buffer.from(rsaKey.n!, 'base64url')
  evenModulus[evenModulus.length - 1]! &= 0xfe
  const without = (name: string): Record<string, string> => Object.fromEntries(Object.entries(jwtKey).filter(([key]) => key !== name))
  const DER = 'must be exactly one DER-encoded X.509 certificate'
  return [
    third('x5c[0] that is not base64', x509(['not base64!']), '.x5c[0]', 'must be a padded standard base64 DER X.509 certificate (RFC 7517 §4.7)'),
    third('x5c[0] that is not a string', x509([42]), '.x5c[0]', 'must be a padded standard base64 DER X.509 certificate (RFC 7517 §4.7)'),
    third('x5c[0] that is base64 but not DER', x509([b64(Buffer.from('not a certificate at all'))]), '.x5c[0]', DER),
    third('x5c[0] that is DER but not a certificate (a public key)', x509([b64(createPublicKey({ key: jwtKey, format: 'jwk' }).export({ format: 'der', type: 'spki' }))]), '.x5c[0]', DER),
    third('x5c[0] that is a DER SEQUENCE of garbage', x509([b64(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]))]), '.x5c[0]', DER),
    third('x5c[0] whose certificate key is off its curve', x509([b64(withKeyOffCurve(ca.der))]), '.x5c[0]', 'certificate must hold a well-formed public key'),
    third('x5c[0] that is not the key of the JWK members', x509([b64(ca.der)], other.jwk), '.x5c[0]', 'certificate public key must be the key the JWK members describe'),
    third('x5c that is not an array', x509(b64(ca.der)), '.x5c', 'must be an array of base64 DER certificates'),
    third('an EC point not on the curve', jwt({ ...jwtKey, y: b64url(point) }), '', 'x and y must be a point on P-256'),
    third('an unknown EC curve', jwt({ ...jwtKey, crv: 'P-257' }), '.crv', 'must be "P-256", "P-384" or "P-521" for an EC key'),
    third('a curve that is not a string', jwt({ ...jwtKey, crv: 256 }), '.crv', 'must be a string'),
    third('an EC key without crv', jwt(without('crv')), '.crv', 'must be present in an EC key'),
    third('an EC key without y', jwt(without('y')), '.y', 'must be present in an EC key'),
    third('an x coordinate that is not base64url', jwt({ ...jwtKey, x: `${jwtKey.x}==` }), '.x', 'must be non-empty unpadded base64url'),
    third('a short x coordinate', jwt({ ...jwtKey, x: b64url(Buffer.alloc(31, 7)) }), '.x', 'must be 32 bytes long for P-256'),
    third('an RSA key with garbage n', jwt({ kty: 'RSA', n: 'AAAA', e: 'AQAB' }), '.n', 'must be an odd RSA modulus of at least 1024 bits'),
    third('an RSA key with an even n', jwt({ ...rsaKey, n: b64url(evenModulus) }), '.n', 'must be an odd RSA modulus of at least 1024 bits'),
    third('an RSA key with e = 0', jwt({ ...rsaKey, e: 'AA' }), '.e', 'must be an odd RSA public exponent from 3 to 2147483647'),
    third('an RSA key with a 64-bit e', jwt({ ...rsaKey, e: b64url(Buffer.from('0100000000000001', 'hex')) }), '.e', 'must be an odd RSA public exponent from 3 to 2147483647'),
    third('an RSA key without n', jwt({ kty: 'RSA', e: 'AQAB' }), '.n', 'must be present in an RSA key'),
    third('an Ed25519 key of 31 bytes', jwt({ kty: 'OKP', crv: 'Ed25519', x: b64url(Buffer.alloc(31, 1)) }), '.x', 'must be 32 bytes long for Ed25519'),
    third('a private key member', jwt({ ...jwtKey, d: b64url(Buffer.alloc(32, 1)) }), '.d', 'must not be present: a public key holds no private key members'),
    third('a JWK without kty', jwt(without('kty')), '.kty', 'must be present'),
    third('a kty that is not a string', jwt({ ...jwtKey, kty: 1 }), '.kty', 'must be a string'),
    third('a use that is not a string', { ...jwtKey, use: ['jwt-svid'] }, '.use', 'must be a string'),
    third('a JWT key without kid', { use: 'jwt-svid', ...jwtKey }, '.kid', 'must be a non-empty string on a JWT key'),
    third('a kid used twice', { use: 'jwt-svid', ...jwtKey, kid: 'good' }, '.kid', 'must be unique in the bundle, "good" is repeated'),
    third('a JWK that is not an object', 'x' as never, '', 'must be a JSON object'),
    { name: 'no keys member', json: '{"spiffe_sequence":1}', member: 'keys', rule: 'must be present' },
    { name: 'keys that is not an array', json: '{"keys":{}}', member: 'keys', rule: 'must be an array' },
    { name: 'a negative spiffe_sequence', json: '{"keys":[],"spiffe_sequence":-1}', member: 'spiffe_sequence', rule: 'must be an unsigned 64-bit integer' },
    { name: 'a spiffe_sequence past 2^64-1', json: '{"keys":[],"spiffe_sequence":18446744073709551616}', member: 'spiffe_sequence', rule: 'must be an unsigned 64-bit integer' },
    { name: 'a spiffe_refresh_hint that is a string', json: '{"keys":[],"spiffe_refresh_hint":"300"}', member: 'spiffe_refresh_hint', rule: 'must be a non-negative integer number of seconds' },
  ]
}
