import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { parseTrustDomain } from '../spiffe/index.js'
import { OPENSSL_TEXT } from '../spiffe/testdata/damaged-bundles.js'
import {
  decodeJwtBundles,
  decodeJwtSvidValidation,
  decodeJwtSvids,
  decodeX509Bundles,
  decodeX509Context,
  jwtBundleFromJwks,
  splitDer,
  structToJson,
} from './decode.js'
import { thrown as caught } from '../spiffe/testdata/thrown.js'


/** A DER SEQUENCE holding `length` zero bytes, with the shortest length encoding. */
function sequence(length: number): Uint8Array {
  const header =
    length < 0x80 ? [0x30, length] : length < 0x100 ? [0x30, 0x81, length] : [0x30, 0x82, length >> 8, length & 0xff]
  return Uint8Array.from([...header, ...new Uint8Array(length)])
}

const pkcs8 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' })

describe('splitDer', () => {
  it('splits short-form and long-form lengths and copies each value', () => {
    const parts = [sequence(3), sequence(200), sequence(1000), sequence(0)]
    const joined = Buffer.concat(parts)
    const split = splitDer(joined, 'x')
    expect(split).toEqual(parts)
    joined[2] = 0xff
    expect(split[0]![2]).toBe(0)
  })

  it('gives nothing for no bytes', () => {
    expect(splitDer(new Uint8Array(0), 'x')).toEqual([])
  })

  const broken: [string, number[], string][] = [
    ['not a SEQUENCE', [0x02, 0x01, 0x00], 'expected a SEQUENCE'],
    ['tag without length', [0x30], 'truncated element'],
    ['indefinite length', [0x30, 0x80, 0x00, 0x00], 'indefinite length is not DER'],
    ['five length bytes', [0x30, 0x85, 0, 0, 0, 0, 1, 0], 'element too long'],
    ['long form cut short', [0x30, 0x82, 0x01], 'truncated length'],
    ['value shorter than its length', [0x30, 0x05, 0x00], 'truncated content'],
    ['garbage after a good value', [0x30, 0x00, 0x04], 'truncated element'],
  ]
  it.each(broken)('refuses %s', (_title, bytes, rule) => {
    const err = caught(() => splitDer(Uint8Array.from(bytes), 'svids[0].x509_svid'))
    expect(err.code).toBe('INVALID_WORKLOAD_API_RESPONSE')
    expect(err.message).toBe(`workloadapi: svids[0].x509_svid is not concatenated DER: ${rule}`)
  })
})

describe('decodeX509Context', () => {
  const good = {
    spiffe_id: 'spiffe://example.org/web',
    x509_svid: sequence(10),
    x509_svid_key: pkcs8,
    bundle: sequence(20),
    hint: '',
  }

  const missing: [string, object, string][] = [
    ['no SVIDs', { svids: [] }, 'X509-SVID response has no SVIDs'],
    ['empty spiffe_id', { svids: [{ ...good, spiffe_id: '' }] }, 'X509-SVID response svids[0].spiffe_id is empty'],
    ['empty x509_svid', { svids: [{ ...good, x509_svid: Buffer.alloc(0) }] }, 'X509-SVID response svids[0].x509_svid is empty'],
    ['empty key', { svids: [good, { ...good, x509_svid_key: undefined }] }, 'X509-SVID response svids[1].x509_svid_key is empty'],
    ['empty bundle', { svids: [{ ...good, bundle: Buffer.alloc(0) }] }, 'X509-SVID response svids[0].bundle is empty'],
    ['bad SPIFFE ID', { svids: [{ ...good, spiffe_id: 'spiffe://example.org/' }] }, 'X509-SVID response svids[0].spiffe_id is not a valid SPIFFE ID'],
    ['key not PKCS#8', { svids: [{ ...good, x509_svid_key: sequence(5) }] }, 'X509-SVID response svids[0].x509_svid_key is not a PKCS#8 DER private key'],
    [
      'federated key not a trust domain',
      { svids: [good], federated_bundles: { 'spiffe://Other.org': sequence(1) } },
      'X509-SVID response federated_bundles key "spiffe://Other.org" is not a trust domain',
    ],
  ]
  it.each(missing)('WAPI-11: refuses a response with %s', (_title, message, rule) => {
    const err = caught(() => decodeX509Context(message))
    expect(err.code).toBe('INVALID_WORKLOAD_API_RESPONSE')
    expect(err.message).toBe(`workloadapi: ${rule}`)
  })

  it('WAPI-12: the own bundle comes from the SVID; a federated entry for that trust domain does not replace it', () => {
    const own = sequence(20)
    const context = decodeX509Context({
      svids: [{ ...good, bundle: own }, { ...good, spiffe_id: 'spiffe://example.org/second', bundle: sequence(30) }],
      federated_bundles: { 'spiffe://example.org': sequence(40), 'spiffe://other.org': sequence(50) },
    })
    expect(context.bundles.get(parseTrustDomain('example.org'))!.x509Authorities).toEqual([own])
    expect(context.bundles.get(parseTrustDomain('other.org'))!.x509Authorities).toEqual([sequence(50)])
  })

  it('keeps CRLs', () => {
    const context = decodeX509Context({ svids: [good], crl: [Uint8Array.from([1, 2])] })
    expect(context.crls).toEqual([Uint8Array.from([1, 2])])
  })
})

describe('X.509 and JWT bundle responses', () => {
  it('an X509 bundles response without bundles is refused', () => {
    expect(caught(() => decodeX509Bundles({ bundles: {} })).message).toBe('workloadapi: X509 bundles response has no bundles')
  })

  it('a JWT bundles response without bundles is refused', () => {
    expect(caught(() => decodeJwtBundles({})).message).toBe('workloadapi: JWT bundles response has no bundles')
  })

  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })
  const jwks = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value))
  const offCurve = (coordinate: string): string => {
    const bytes = Buffer.from(coordinate, 'base64url')
    bytes[bytes.length - 1]! ^= 0x01
    return bytes.toString('base64url')
  }

  it('an empty JWK Set is an empty bundle', () => {
    const bundle = jwtBundleFromJwks('spiffe://example.org', jwks({ keys: [] }))
    expect(bundle.trustDomain.name).toBe('example.org')
    expect(bundle.isEmpty).toBe(true)
  })

  it('keys for other uses are skipped, keys without use are kept', () => {
    const bundle = jwtBundleFromJwks(
      'example.org',
      jwks({ keys: [{ ...key, kid: 'a' }, { ...key, kid: 'b', use: 'x509-svid' }, { ...key, kid: 'c', use: 'jwt-svid' }] }),
    )
    expect([...bundle.jwtAuthorities.keys()]).toEqual(['a', 'c'])
  })

  const broken: [string, Uint8Array, string][] = [
    ['not JSON', Buffer.from('{'), 'JWT bundle for "spiffe://example.org" is not JSON'],
    ['no keys array', jwks({ keys: 'x' }), 'JWT bundle for "spiffe://example.org" is not a JWK Set (no "keys" array)'],
    ['null', jwks(null), 'JWT bundle for "spiffe://example.org" is not a JWK Set (no "keys" array)'],
    ['a key that is not an object', jwks({ keys: [1] }), 'JWT bundle for "spiffe://example.org" keys[0] is not an object'],
    ['INTEROP-05: a key without kid', jwks({ keys: [key] }), 'JWT bundle for "spiffe://example.org" keys[0] has no kid'],
    ['an empty kid', jwks({ keys: [{ ...key, kid: '' }] }), 'JWT bundle for "spiffe://example.org" keys[0] has no kid'],
    [
      'INTEROP-06: an unknown key type',
      jwks({ keys: [{ kty: 'XYZ', kid: 'k' }] }),
      'JWT bundle for "spiffe://example.org" keys[0].kty: must be "EC", "RSA" or "OKP"',
    ],
    ['an EC key without crv', jwks({ keys: [{ ...key, crv: undefined, kid: 'k' }] }), 'JWT bundle for "spiffe://example.org" keys[0].crv: must be present in an EC key'],
    [
      'an EC point off the curve',
      jwks({ keys: [{ ...key, kid: 'k', y: offCurve(key.y!) }] }),
      'JWT bundle for "spiffe://example.org" keys[0]: x and y must be a point on P-256',
    ],
    [
      'a duplicate kid',
      jwks({ keys: [{ ...key, kid: 'k' }, { ...key, kid: 'k' }] }),
      'JWT bundle for "spiffe://example.org" is not a valid bundle',
    ],
  ]
  it.each(broken)('refuses %s', (_title, bytes, rule) => {
    const err = caught(() => jwtBundleFromJwks('spiffe://example.org', bytes))
    expect(err.code).toBe('INVALID_WORKLOAD_API_RESPONSE')
    expect(err.message).toBe(`workloadapi: ${rule}`)
    expect(err.message).not.toMatch(OPENSSL_TEXT)
  })

  it('a bundle key that is not a trust domain is refused', () => {
    expect(caught(() => jwtBundleFromJwks('spiffe://', jwks({ keys: [] }))).message).toBe(
      'workloadapi: JWT bundle for "spiffe://": key is not a trust domain',
    )
  })
})

describe('JWT-SVID responses', () => {
  const refused: [string, object, string][] = [
    ['no SVIDs', { svids: [] }, 'JWT-SVID response has no SVIDs'],
    ['empty spiffe_id', { svids: [{ spiffe_id: '', svid: 't' }] }, 'JWT-SVID response svids[0].spiffe_id is empty'],
    ['empty svid', { svids: [{ spiffe_id: 'spiffe://example.org/a', svid: '' }] }, 'JWT-SVID response svids[0].svid is empty'],
    ['bad ID', { svids: [{ spiffe_id: 'example.org/a', svid: 't' }] }, 'JWT-SVID response svids[0].spiffe_id is not a valid SPIFFE ID'],
  ]
  it.each(refused)('WAPI-11: refuses a response with %s', (_title, message, rule) => {
    expect(caught(() => decodeJwtSvids(message)).message).toBe(`workloadapi: ${rule}`)
  })

  it('WAPI-14: keeps the first JWT-SVID of a duplicated hint', () => {
    const svids = decodeJwtSvids({
      svids: [
        { spiffe_id: 'spiffe://example.org/a', svid: 't1', hint: 'h' },
        { spiffe_id: 'spiffe://example.org/b', svid: 't2', hint: 'h' },
      ],
    })
    expect(svids.map((s) => s.token)).toEqual(['t1'])
  })

  it('a validation answer needs a spiffe_id; missing claims read as {}', () => {
    expect(caught(() => decodeJwtSvidValidation({ spiffe_id: '' })).message).toBe(
      'workloadapi: ValidateJWTSVID response spiffe_id is empty',
    )
    const result = decodeJwtSvidValidation({ spiffe_id: 'spiffe://example.org/a', claims: null })
    expect(result.claims).toEqual({})
  })
})

describe('structToJson', () => {
  it('turns every Value kind into plain JSON', () => {
    expect(
      structToJson({
        fields: {
          s: { kind: 'stringValue', stringValue: 'x' },
          n: { kind: 'numberValue', numberValue: 1.5 },
          b: { kind: 'boolValue', boolValue: false },
          z: { kind: 'nullValue', nullValue: 'NULL_VALUE' },
          unset: {},
          l: { kind: 'listValue', listValue: { values: [{ kind: 'numberValue', numberValue: 1 }, { kind: 'listValue', listValue: {} }] } },
          o: { kind: 'structValue', structValue: { fields: { a: { kind: 'stringValue', stringValue: 'b' } } } },
        },
      }),
    ).toEqual({ s: 'x', n: 1.5, b: false, z: null, unset: null, l: [1, []], o: { a: 'b' } })
  })

  it('a claim named __proto__ stays an ordinary key', () => {
    const fields = JSON.parse('{"__proto__": {"kind": "stringValue", "stringValue": "x"}}') as never
    const json = structToJson({ fields })
    expect(Object.getPrototypeOf(json)).toBe(Object.prototype)
    expect(Object.keys(json)).toEqual(['__proto__'])
    expect(Object.getOwnPropertyDescriptor(json, '__proto__')?.value).toBe('x')
  })
})
