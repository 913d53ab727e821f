import { describe, expect, it } from 'vitest'
import {
  DerError,
  DerReader,
  TAG,
  decodeOid,
  decodeTime,
  decodeUnsignedInteger,
  derElement,
  derNode,
  derOid,
  derTime,
  derUnsignedInteger,
  encodeDer,
  readTlv,
  splitDerSequence,
} from './x509-der.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')

describe('DER reader', () => {
  it.each([
    ['indefinite length', '3080 0000'],
    ['non-minimal long form', '3081 05 0000000000'],
    ['leading zero in a long length', '3082 0080' + '00'.repeat(128)],
    ['a high tag number', '1f81 01 00'],
    ['truncated content', '3005 0000'],
    ['truncated length', '3082 01'],
    ['a lone tag byte', '30'],
  ])('rejects %s', (_name, bytes) => {
    expect(() => readTlv(hex(bytes), 0)).toThrow(DerError)
  })

  it('reads short and long lengths, and only within the limit', () => {
    expect(readTlv(hex('0403 010203'), 0)).toEqual({ tag: 0x04, start: 0, contentStart: 2, end: 5 })
    const long = Buffer.concat([hex('0481 80'), Buffer.alloc(128)])
    expect(readTlv(long, 0)).toEqual({ tag: 0x04, start: 0, contentStart: 3, end: 131 })
    expect(() => readTlv(hex('0403 010203'), 0, 4)).toThrow(DerError)
  })

  it('DerReader checks tags, optional fields and trailing data', () => {
    const buf = hex('3008 0101ff 020101 0500')
    const r = DerReader.of(buf, readTlv(buf, 0))
    expect(r.optional(TAG.INTEGER)).toBeUndefined()
    expect(r.next(TAG.BOOLEAN).tag).toBe(TAG.BOOLEAN)
    expect(() => r.next(TAG.OCTET_STRING)).toThrow('expected tag 0x4, found 0x2')
    expect(r.optional(TAG.INTEGER)?.tag).toBe(TAG.INTEGER)
    expect(() => r.end()).toThrow('unexpected trailing data')
    r.next(TAG.NULL)
    expect(r.done).toBe(true)
    r.end()
  })

  it('splits concatenated SEQUENCEs and refuses anything else', () => {
    expect(splitDerSequence(hex('3000 3003 020101'))).toEqual([hex('3000'), hex('3003020101')])
    expect(splitDerSequence(new Uint8Array(0))).toEqual([])
    expect(() => splitDerSequence(hex('3000 0500'))).toThrow('expected a SEQUENCE')
    expect(() => splitDerSequence(Buffer.from('-----BEGIN CERTIFICATE-----'))).toThrow(DerError)
  })

  it('INTEROP-10: integers must be non-negative and minimally encoded', () => {
    const value = (bytes: string): bigint => {
      const buf = hex(bytes)
      return decodeUnsignedInteger(buf, readTlv(buf, 0), 'serial')
    }
    expect(value('0201 7f')).toBe(127n)
    expect(value('0202 0080')).toBe(128n)
    expect(() => value('0201 80')).toThrow('serial is negative')
    expect(() => value('0202 0001')).toThrow('serial is not minimally encoded')
    expect(() => value('0200')).toThrow('serial is empty')
  })
})

describe('DER writer', () => {
  it.each([0, 1, 127, 128, 255, 256, 65_535, 65_536])('encodes a %i-byte content with the shortest length', (n) => {
    const out = derElement(TAG.OCTET_STRING, Buffer.alloc(n, 7))
    const tlv = readTlv(out, 0)
    expect([tlv.end, tlv.end - tlv.contentStart]).toEqual([out.length, n])
  })

  it('writes nested trees and ASCII text in one buffer', () => {
    const tree = derNode(TAG.SEQUENCE, derNode(TAG.IA5_STRING, 'spiffe://td/x'), hex('0500'), derNode(TAG.SEQUENCE))
    expect(encodeDer(tree).toString('hex')).toBe('3013' + '160d' + Buffer.from('spiffe://td/x').toString('hex') + '0500' + '3000')
    // Encoding twice gives the same bytes (lengths are recomputed).
    expect(encodeDer(tree)).toEqual(encodeDer(tree))
  })

  it.each(['2.5.29.17', '1.2.840.113549.1.9.14', '1.3.6.1.4.1.311.60.2.1.3', '2.999.1', '1.2.840.10045.3.1.7'])('round-trips OID %s', (oid) => {
    const der = derOid(oid)
    expect(decodeOid(der, readTlv(der, 0))).toBe(oid)
  })

  it('encodes non-negative integers minimally', () => {
    expect(derUnsignedInteger(0).toString('hex')).toBe('020100')
    expect(derUnsignedInteger(127).toString('hex')).toBe('02017f')
    expect(derUnsignedInteger(128).toString('hex')).toBe('02020080')
    expect(derUnsignedInteger(256n).toString('hex')).toBe('02020100')
  })

  it.each([
    ['2049-12-31T23:59:59Z', TAG.UTC_TIME, '491231235959Z'],
    ['2050-01-01T00:00:00Z', TAG.GENERALIZED_TIME, '20500101000000Z'],
    ['1999-06-05T04:03:02Z', TAG.UTC_TIME, '990605040302Z'],
  ])('writes %s as RFC 5280 time and reads it back', (iso, tag, text) => {
    const der = derTime(Date.parse(iso) / 1000)
    const tlv = readTlv(der, 0)
    expect([tlv.tag, der.subarray(tlv.contentStart).toString('latin1')]).toEqual([tag, text])
    expect(decodeTime(der, tlv).toISOString()).toBe(new Date(iso).toISOString())
  })

  it('rejects times that are not whole-second Zulu times', () => {
    for (const bad of ['4912312359Z', '491231235959+0100', '491331235959Z', '491231235960Z']) {
      const der = derElement(TAG.UTC_TIME, bad)
      expect(() => decodeTime(der, readTlv(der, 0))).toThrow(DerError)
    }
  })
})
