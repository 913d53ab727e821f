import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Bundle, SpiffeError, parseTrustDomain } from '../spiffe/index.js'
import { OPENSSL_TEXT } from '../spiffe/testdata/damaged-bundles.js'
import { bundleFromMessage, bundleToMessage } from './bundle.js'
import type { Bundle__Output } from './generated/steeple/common/v1/Bundle.js'

const td = parseTrustDomain('example.org')
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey

function message(): Bundle__Output {
  return bundleToMessage(new Bundle(td, { jwtAuthorities: [{ kid: 'a', publicKey: key }, { kid: 'b', publicKey: key }], sequenceNumber: 7n })) as Bundle__Output
}

describe('bundleFromMessage', () => {
  it('reads what bundleToMessage writes', () => {
    const bundle = bundleFromMessage(message())
    expect(bundle.findJwtAuthority('b')?.publicKey.equals(key)).toBe(true)
    expect(bundle.sequenceNumber).toBe(7n)
  })

  it.each([
    ['a JWT key that is not DER', (m: Bundle__Output) => (m.jwt_authorities[1]!.public_key = Buffer.from('not a key')), 'jwt_authorities[1].public_key: must be a DER SubjectPublicKeyInfo of a supported key type'],
    ['a JWT key that is empty', (m: Bundle__Output) => (m.jwt_authorities[0]!.public_key = Buffer.alloc(0)), 'jwt_authorities[0].public_key: must be a DER SubjectPublicKeyInfo of a supported key type'],
    ['a sequence number that is not a number', (m: Bundle__Output) => (m.sequence_number = '12abc'), 'sequence_number: must be an unsigned decimal integer'],
    ['a negative sequence number', (m: Bundle__Output) => (m.sequence_number = '-1'), 'sequence_number: must be an unsigned decimal integer'],
  ])('refuses %s, naming the field, never with OpenSSL\'s text', (_name, damage, text) => {
    const m = message()
    damage(m)
    let err: unknown
    try {
      bundleFromMessage(m)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SpiffeError)
    expect(err).toMatchObject({ code: 'INVALID_BUNDLE', message: text })
    expect((err as Error).message).not.toMatch(OPENSSL_TEXT)
  })
})
