import { webcrypto, X509Certificate } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { beforeAll, describe, expect, it } from 'vitest'
import { Bundle } from './bundle.js'
import { SpiffeError } from './errors.js'
import { parseTrustDomain } from './id.js'
import {
  certificatesToPem,
  encodeX509BundlePem,
  parseX509BundlePem,
  pemDecodeAll,
  pemEncode,
} from './pem.js'
import { OPENSSL_TEXT, withKeyOffCurve } from './testdata/damaged-bundles.js'

x509.cryptoProvider.set(webcrypto)

const td = parseTrustDomain('example.org')

/** A self-signed EC P-256 certificate with URI SAN spiffe://example.org; a CA unless `ca` is false. */
async function makeCert(ca: boolean): Promise<Uint8Array> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'O=SPIFFE',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(ca, undefined, true),
      new x509.KeyUsagesExtension(ca ? x509.KeyUsageFlags.keyCertSign : x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: ca ? 'spiffe://example.org' : 'spiffe://example.org/w' }]),
    ],
  })
  return new Uint8Array(cert.rawData)
}

function errorOf(fn: () => unknown): SpiffeError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(SpiffeError)
    return err as SpiffeError
  }
  throw new Error('expected a SpiffeError, nothing was thrown')
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

let ca1: Uint8Array
let ca2: Uint8Array
let leaf: Uint8Array

beforeAll(async () => {
  ;[ca1, ca2, leaf] = await Promise.all([makeCert(true), makeCert(true), makeCert(false)])
})

describe('pemEncode / pemDecodeAll', () => {
  it('writes 64-character base64 lines between BEGIN and END lines, ending in a newline', () => {
    const der = Uint8Array.from({ length: 100 }, (_, i) => i)
    const pem = pemEncode('TEST DATA', der)
    const lines = pem.split('\n')
    expect(lines[0]).toBe('-----BEGIN TEST DATA-----')
    expect(lines.at(-2)).toBe('-----END TEST DATA-----')
    expect(lines.at(-1)).toBe('')
    expect(lines.slice(1, -2).map((l) => l.length)).toEqual([64, 64, 8])
    expect(hex(pemDecodeAll(pem)[0]!)).toBe(hex(der))
  })

  it('matches what OpenSSL writes and reads for a certificate', () => {
    const pem = certificatesToPem([ca1])
    expect(pem).toBe(new X509Certificate(ca1).toString())
    expect(new X509Certificate(pem).raw.equals(Buffer.from(ca1))).toBe(true)
  })

  it('decodes every block in order, with text around and between blocks', () => {
    const text = `Subject: first\n${pemEncode('CERTIFICATE', ca1)}\nsome notes\r\n${pemEncode('CERTIFICATE', ca2).replaceAll('\n', '\r\n')}trailer`
    expect(pemDecodeAll(text).map(hex)).toEqual([hex(ca1), hex(ca2)])
  })

  it('with a label, returns only the blocks carrying it', () => {
    const text = pemEncode('PRIVATE KEY', new Uint8Array([1, 2, 3])) + pemEncode('CERTIFICATE', ca1)
    expect(pemDecodeAll(text, 'CERTIFICATE').map(hex)).toEqual([hex(ca1)])
    expect(pemDecodeAll(text, 'X509 CRL')).toEqual([])
    expect(pemDecodeAll('no blocks at all')).toEqual([])
  })

  it('accepts trailing whitespace on lines and blank lines inside a block', () => {
    const pem = pemEncode('CERTIFICATE', ca1).replace('-----\n', '-----  \n\n').replace('\n-----END', ' \t\n-----END')
    expect(pemDecodeAll(pem).map(hex)).toEqual([hex(ca1)])
  })

  const block = (body: string, label = 'CERTIFICATE', end = label): string => `-----BEGIN ${label}-----\n${body}\n-----END ${end}-----\n`
  it.each([
    ['a character outside base64', block('AAA*'), /^pem: CERTIFICATE block must contain only base64$/],
    ['base64url characters', block('AA-_'), /^pem: CERTIFICATE block must contain only base64$/],
    ['missing padding', block('AAA'), /^pem: CERTIFICATE block must contain canonical padded base64$/],
    ['padding in the middle', block('AA==\nAAAA'), /^pem: CERTIFICATE block must contain canonical padded base64$/],
    ['non-canonical trailing bits', block('AB=='), /^pem: CERTIFICATE block must contain canonical padded base64$/],
    ['RFC 1421 headers', block('Proc-Type: 4,ENCRYPTED\nAAAA'), /^pem: CERTIFICATE block must not have headers$/],
    ['an empty block', block(''), /^pem: CERTIFICATE block is empty$/],
    ['an END line with another label', block('AAAA', 'CERTIFICATE', 'PRIVATE KEY'), /^pem: CERTIFICATE block must end with its own END line$/],
    ['a missing END line', '-----BEGIN CERTIFICATE-----\nAAAA\n', /^pem: CERTIFICATE block has no END line$/],
    ['a BEGIN line inside a block', `-----BEGIN CERTIFICATE-----\nAAAA\n${block('AAAA')}`, /^pem: CERTIFICATE block has no END line$/],
    ['an END line without BEGIN', 'text\n-----END CERTIFICATE-----\n', /^pem: END line without a BEGIN line$/],
    ['a malformed BEGIN line', '-----BEGIN CERTIFICATE----\nAAAA\n-----END CERTIFICATE-----\n', /^pem: malformed BEGIN line$/],
    ['a label with a double space', block('AAAA', 'A  B'), /^pem: malformed BEGIN line$/],
  ])('rejects %s', (_what, text, message) => {
    const err = errorOf(() => pemDecodeAll(text))
    expect(err.code).toBe('INVALID_PEM')
    expect(err.message).toMatch(message)
  })

  it('checks blocks it does not return', () => {
    expect(() => pemDecodeAll(block('AA*A', 'PRIVATE KEY') + pemEncode('CERTIFICATE', ca1), 'CERTIFICATE')).toThrow(SpiffeError)
  })

  it('refuses labels RFC 7468 does not allow and empty content', () => {
    expect(() => pemEncode('BAD-', ca1)).toThrow(TypeError)
    expect(() => pemEncode('', ca1)).toThrow(TypeError)
    expect(() => pemEncode('CERTIFICATE', new Uint8Array())).toThrow(TypeError)
  })
})

describe('parseX509BundlePem / encodeX509BundlePem', () => {
  it('BUN-11: reads every CA certificate into a bundle of the given trust domain and writes it back', () => {
    const bundle = parseX509BundlePem(td, certificatesToPem([ca1, ca2]))
    expect(bundle.trustDomain.equals(td)).toBe(true)
    expect(bundle.x509Authorities.map(hex)).toEqual([hex(ca1), hex(ca2)])
    expect(bundle.jwtAuthorities.size).toBe(0)
    expect(encodeX509BundlePem(bundle)).toBe(certificatesToPem([ca1, ca2]))
    expect(parseX509BundlePem(td, new TextEncoder().encode(encodeX509BundlePem(bundle))).x509Authorities.map(hex)).toEqual([hex(ca1), hex(ca2)])
  })

  it('skips blocks of other kinds and keeps a repeated certificate once', () => {
    const text = pemEncode('PRIVATE KEY', new Uint8Array([1, 2, 3])) + certificatesToPem([ca1, ca1, ca2])
    expect(parseX509BundlePem(td, text).x509Authorities.map(hex)).toEqual([hex(ca1), hex(ca2)])
  })

  it('empty text is an empty bundle (as go-spiffe x509bundle.Parse) and encodes to empty text', () => {
    expect(parseX509BundlePem(td, '').isEmpty).toBe(true)
    expect(parseX509BundlePem(td, ' \n').isEmpty).toBe(true)
    expect(encodeX509BundlePem(new Bundle(td))).toBe('')
  })

  it.each([
    ['text without any certificate', () => 'just some text\n', /^x509bundle: no CERTIFICATE block found$/],
    ['only a private key block', () => pemEncode('PRIVATE KEY', new Uint8Array([1])), /^x509bundle: no CERTIFICATE block found$/],
    ['a certificate that is not a CA', () => certificatesToPem([ca1, leaf]), /^x509bundle: certificate 1: must be a CA certificate/],
    ['a block that is not a certificate', () => pemEncode('CERTIFICATE', new Uint8Array([0x30, 0x03, 2, 1, 1])), /^x509bundle: certificate 0: must be exactly one DER-encoded X\.509 certificate$/],
    ['malformed PEM', () => '-----BEGIN CERTIFICATE-----\nAAAA\n', /^x509bundle: pem: CERTIFICATE block has no END line$/],
    ['a block that is not base64', () => '-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n', /^x509bundle: pem: CERTIFICATE block must contain only base64$/],
    ['a block of DER that is not a certificate', () => pemEncode('CERTIFICATE', new X509Certificate(ca1).publicKey.export({ format: 'der', type: 'spki' })), /^x509bundle: certificate 0: must be exactly one DER-encoded X\.509 certificate$/],
    ['a certificate whose key is off its curve', () => certificatesToPem([ca1, withKeyOffCurve(ca2)]), /^x509bundle: certificate 1: certificate must hold a well-formed public key$/],
  ])('rejects %s, naming the certificate and the rule, never OpenSSL\'s text', (_what, build, message) => {
    const err = errorOf(() => parseX509BundlePem(td, build()))
    expect(err.code).toBe('INVALID_BUNDLE')
    expect(err.message).toMatch(message)
    expect(err.message).not.toMatch(OPENSSL_TEXT)
  })

  it('rejects bytes that are not UTF-8', () => {
    expect(errorOf(() => parseX509BundlePem(td, new Uint8Array([0xff]))).message).toBe('x509bundle: PEM text must be UTF-8')
  })
})
