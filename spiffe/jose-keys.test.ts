import { constants, generateKeyPairSync, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { SpiffeError } from './errors.js'
import {
  JWT_SVID_ALGORITHMS,
  defaultAlgorithmForKey,
  isJwtSvidAlgorithm,
  jwsSign,
  jwsVerify,
  keyAlgorithmProblem,
  publicKeyFromJwk,
  publicKeyToJwk,
} from './jose-keys.js'
import type { JwtSvidAlgorithm } from './jose-keys.js'

const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' })
const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 })
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 })
const ed25519 = generateKeyPairSync('ed25519')

const KEY_FOR: Record<JwtSvidAlgorithm, { privateKey: KeyObject; publicKey: KeyObject }> = {
  ES256: p256,
  ES384: p384,
  ES512: p521,
  RS256: rsa2048,
  RS384: rsa2048,
  RS512: rsa2048,
  PS256: rsa2048,
  PS384: rsa2048,
  PS512: rsa2048,
}

const DATA = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0', 'latin1')

describe('isJwtSvidAlgorithm', () => {
  it('JWT-03: allows exactly RS, ES and PS with 256, 384 and 512', () => {
    expect([...JWT_SVID_ALGORITHMS].sort()).toEqual(
      ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'],
    )
    for (const alg of JWT_SVID_ALGORITHMS) expect(isJwtSvidAlgorithm(alg)).toBe(true)
  })

  it.each(['none', 'HS256', 'HS384', 'HS512', 'EdDSA', 'es256', 'ES256K', '', undefined, 256])(
    'JWT-03: refuses %j',
    (alg) => {
      expect(isJwtSvidAlgorithm(alg)).toBe(false)
    },
  )
})

describe('defaultAlgorithmForKey', () => {
  it.each([
    ['P-256', 'ES256', p256.privateKey],
    ['P-384', 'ES384', p384.privateKey],
    ['P-521', 'ES512', p521.publicKey],
    ['RSA', 'RS256', rsa2048.privateKey],
    ['secp256k1', undefined, secp256k1.privateKey],
    ['Ed25519', undefined, ed25519.privateKey],
  ])('%s key → %s', (_name, alg, key) => {
    expect(defaultAlgorithmForKey(key)).toBe(alg)
  })
})

describe('keyAlgorithmProblem', () => {
  it.each([...JWT_SVID_ALGORITHMS])('JWT-10: %s fits its own key type', (alg) => {
    expect(keyAlgorithmProblem(KEY_FOR[alg].publicKey, alg)).toBeUndefined()
    expect(keyAlgorithmProblem(KEY_FOR[alg].privateKey, alg)).toBeUndefined()
  })

  it.each([
    ['ES256', 'ES256 needs an EC P-256 key', p384.publicKey],
    ['ES384', 'ES384 needs an EC P-384 key', p256.publicKey],
    ['ES512', 'ES512 needs an EC P-521 key', rsa2048.publicKey],
    ['ES256', 'ES256 needs an EC P-256 key', secp256k1.publicKey],
    ['RS256', 'RS256 needs an RSA key', p256.publicKey],
    ['PS256', 'PS256 needs an RSA key', ed25519.publicKey],
    ['RS256', 'RS256 needs an RSA key of at least 2048 bits', rsa1024.publicKey],
    ['PS512', 'PS512 needs an RSA key of at least 2048 bits', rsa1024.publicKey],
  ] as const)('JWT-10: %s with a mismatched key is refused: %s', (alg, problem, key) => {
    expect(keyAlgorithmProblem(key, alg)).toBe(problem)
  })
})

describe('jwsSign / jwsVerify', () => {
  it.each([...JWT_SVID_ALGORITHMS])('%s signs and verifies; a changed input fails', (alg) => {
    const { privateKey, publicKey } = KEY_FOR[alg]
    const signature = jwsSign(alg, privateKey, DATA)
    expect(jwsVerify(alg, publicKey, DATA, signature)).toBe(true)
    const changed = Buffer.from(DATA)
    changed[3] ^= 1
    expect(jwsVerify(alg, publicKey, changed, signature)).toBe(false)
  })

  it.each([
    ['ES256', 64],
    ['ES384', 96],
    ['ES512', 132],
  ] as const)('INTEROP-09: %s signatures are raw r‖s of %i bytes, and DER ones are refused', (alg, bytes) => {
    const { privateKey, publicKey } = KEY_FOR[alg]
    const signature = jwsSign(alg, privateKey, DATA)
    expect(signature.length).toBe(bytes)
    const hash = `sha${alg.slice(2)}`
    expect(verify(hash, DATA, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true)
    const der = sign(hash, DATA, privateKey)
    expect(verify(hash, DATA, publicKey, der)).toBe(true)
    expect(jwsVerify(alg, publicKey, DATA, der)).toBe(false)
  })

  it.each([
    ['PS256', 32],
    ['PS384', 48],
    ['PS512', 64],
  ] as const)('%s uses a salt as long as the hash (%i bytes, RFC 7518 §3.5)', (alg, saltLength) => {
    const signature = jwsSign(alg, rsa2048.privateKey, DATA)
    const hash = `sha${alg.slice(2)}`
    const options = { key: rsa2048.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING }
    expect(verify(hash, DATA, { ...options, saltLength }, signature)).toBe(true)
    expect(verify(hash, DATA, { ...options, saltLength: saltLength - 1 }, signature)).toBe(false)
  })

  it('a signature made with one algorithm does not verify as another of the same key', () => {
    const signature = jwsSign('RS256', rsa2048.privateKey, DATA)
    expect(jwsVerify('PS256', rsa2048.publicKey, DATA, signature)).toBe(false)
    expect(jwsVerify('RS384', rsa2048.publicKey, DATA, signature)).toBe(false)
  })
})

describe('JWK helpers', () => {
  it.each([
    ['EC P-256', p256],
    ['EC P-384', p384],
    ['RSA', rsa2048],
  ])('JWT-14: %s public key → JWK with kid and use, and back', (_name, pair) => {
    const jwk = publicKeyToJwk(pair.privateKey, 'authority1', 'jwt-svid')
    expect(jwk.kid).toBe('authority1')
    expect(jwk.use).toBe('jwt-svid')
    expect(jwk).not.toHaveProperty('d')
    const back = publicKeyFromJwk(jwk)
    expect(back.type).toBe('public')
    expect(back.equals(pair.publicKey)).toBe(true)
  })

  it('leaves use out when not asked for', () => {
    expect(publicKeyToJwk(p256.publicKey, 'k')).not.toHaveProperty('use')
  })

  it('refuses a JWK with private members and one that is not a key', () => {
    const privateJwk = p256.privateKey.export({ format: 'jwk' })
    const privateErr = catchError(() => publicKeyFromJwk(privateJwk))
    expect(privateErr).toBeInstanceOf(SpiffeError)
    expect(privateErr).toMatchObject({
      code: 'INVALID_BUNDLE',
      message: 'jwk.d: must not be present: a public key holds no private key members',
    })
    const err = catchError(() => publicKeyFromJwk({ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }))
    expect(err).toBeInstanceOf(SpiffeError)
    expect(err).toMatchObject({ code: 'INVALID_BUNDLE', message: 'jwk.x: must be 32 bytes long for P-256' })
  })
})

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected an error')
}
