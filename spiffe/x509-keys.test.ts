import { generateKeyPairSync } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { encodeDer } from './x509-der.js'
import { KEY_TYPES, generateKeyPair, keyTypeOf, publicKeyInfo } from './x509-keys.js'

describe('publicKeyInfo', () => {
  it.each([
    ['P-256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' })],
    ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' })],
    ['P-521', () => generateKeyPairSync('ec', { namedCurve: 'secp521r1' })],
    ['RSA', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['Ed25519', () => generateKeyPairSync('ed25519')],
  ] as const)('writes the same SubjectPublicKeyInfo as OpenSSL for %s keys, short coordinates included', (_name, make) => {
    // Keep drawing EC keys until one has an x coordinate with a leading zero byte, which the JWK
    // form must keep (RFC 7518 §6.2.1.2).
    const leadingZero = (key: KeyObject): boolean => Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url')[0] === 0
    let pair = make()
    for (let i = 0; i < 5000 && pair.publicKey.asymmetricKeyType === 'ec' && !leadingZero(pair.publicKey); i++) pair = make()
    if (pair.publicKey.asymmetricKeyType === 'ec') expect(leadingZero(pair.publicKey)).toBe(true)
    const { spki, keyId } = publicKeyInfo(pair.publicKey)
    expect(encodeDer(spki)).toEqual(pair.publicKey.export({ type: 'spki', format: 'der' }))
    expect(publicKeyInfo(pair.privateKey).keyId).toEqual(keyId)
  })
})

describe('keys', () => {
  it.each(KEY_TYPES)('generateKeyPair(%s) makes a key keyTypeOf names the same', (type) => {
    const pair = generateKeyPair(type)
    expect([keyTypeOf(pair.privateKey), keyTypeOf(pair.publicKey)]).toEqual([type, type])
  })

  it('keyTypeOf is undefined for other keys', () => {
    expect(keyTypeOf(generateKeyPairSync('ed25519').publicKey)).toBeUndefined()
    expect(keyTypeOf(generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).publicKey)).toBeUndefined()
  })
})
