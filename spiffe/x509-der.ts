/**
 * The DER and PEM primitives behind certificates: a strict reader (definite, minimal lengths;
 * single-byte tags; every structure consumed exactly) and a writer that lays out a tree of
 * elements in one allocation. Only what X.509 and PKCS#10 need.
 */

// ---------------------------------------------------------------------------------------------
// Reading

/** One DER element: tag byte, where its content starts, where it ends (exclusive). */
export interface Tlv {
  readonly tag: number
  readonly start: number
  readonly contentStart: number
  readonly end: number
}

/** Universal and context tags used in certificates. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const

/** Malformed DER; callers turn it into a SpiffeError naming what they were reading. */
export class DerError extends Error {
  override readonly name = 'DerError'
}

/**
 * Reads the element at `offset`, which must end at or before `limit`.
 * @throws DerError on high tag numbers, indefinite or non-minimal lengths, or truncation.
 */
export function readTlv(buf: Uint8Array, offset: number, limit: number = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated element')
  const tag = buf[offset]!
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used in certificates')
  let length = buf[offset + 1]!
  let contentStart = offset + 2
  if (length & 0x80) {
    const octets = length & 0x7f
    if (octets === 0) throw new DerError('indefinite length is not DER')
    if (octets > 4) throw new DerError('element too long')
    if (contentStart + octets > limit) throw new DerError('truncated length')
    length = 0
    for (let i = 0; i < octets; i++) length = length * 256 + buf[contentStart + i]!
    if (buf[contentStart] === 0 || length < 0x80) throw new DerError('length is not minimally encoded')
    contentStart += octets
  }
  const end = contentStart + length
  if (end > limit) throw new DerError('truncated content')
  return { tag, start: offset, contentStart, end }
}

/** Sequential reader over the content of one constructed element. */
export class DerReader {
  readonly #buf: Uint8Array
  #offset: number
  readonly #end: number

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf
    this.#offset = start
    this.#end = end
  }

  /** Reader over the content of `tlv`. */
  static of(buf: Uint8Array, tlv: Tlv): DerReader {
    return new DerReader(buf, tlv.contentStart, tlv.end)
  }

  get done(): boolean {
    return this.#offset >= this.#end
  }

  /** Tag of the next element, or undefined at the end. */
  peekTag(): number | undefined {
    return this.done ? undefined : this.#buf[this.#offset]
  }

  /** The next element; with `tag`, it must have that tag. */
  next(tag?: number): Tlv {
    const tlv = readTlv(this.#buf, this.#offset, this.#end)
    if (tag !== undefined && tlv.tag !== tag) {
      throw new DerError(`expected tag 0x${tag.toString(16)}, found 0x${tlv.tag.toString(16)}`)
    }
    this.#offset = tlv.end
    return tlv
  }

  /** The next element if it has `tag`, else undefined (for OPTIONAL and DEFAULT fields). */
  optional(tag: number): Tlv | undefined {
    return this.peekTag() === tag ? this.next() : undefined
  }

  /** Requires that everything was read. */
  end(): void {
    if (!this.done) throw new DerError('unexpected trailing data')
  }
}

/**
 * Splits concatenated DER certificates (the Workload API's `x509_svid` and `bundle` fields).
 * @throws DerError when the bytes are not a run of complete SEQUENCEs.
 */
export function splitDerSequence(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  let offset = 0
  while (offset < bytes.length) {
    const tlv = readTlv(bytes, offset)
    if (tlv.tag !== TAG.SEQUENCE) throw new DerError('expected a SEQUENCE')
    out.push(bytes.subarray(tlv.start, tlv.end))
    offset = tlv.end
  }
  return out
}

/** Dotted form of an OBJECT IDENTIFIER's content. */
export function decodeOid(buf: Uint8Array, tlv: Tlv): string {
  const parts: number[] = []
  let value = 0
  if (tlv.end === tlv.contentStart) throw new DerError('empty object identifier')
  for (let i = tlv.contentStart; i < tlv.end; i++) {
    const b = buf[i]!
    if (value === 0 && b === 0x80) throw new DerError('object identifier is not minimally encoded')
    value = value * 128 + (b & 0x7f)
    if (value > Number.MAX_SAFE_INTEGER) throw new DerError('object identifier arc too large')
    if (!(b & 0x80)) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2
        parts.push(first, value - first * 40)
      } else {
        parts.push(value)
      }
      value = 0
    } else if (i === tlv.end - 1) {
      throw new DerError('truncated object identifier')
    }
  }
  return parts.join('.')
}

export function decodeBoolean(buf: Uint8Array, tlv: Tlv): boolean {
  if (tlv.end - tlv.contentStart !== 1) throw new DerError('BOOLEAN must have one content octet')
  const b = buf[tlv.contentStart]
  if (b === 0xff) return true
  if (b === 0x00) return false
  throw new DerError('BOOLEAN must be 0x00 or 0xff')
}

export function decodeUnsignedInteger(buf: Uint8Array, tlv: Tlv, what: string): bigint {
  const length = tlv.end - tlv.contentStart
  if (length === 0) throw new DerError(`${what} is empty`)
  const first = buf[tlv.contentStart]!
  if (first & 0x80) throw new DerError(`${what} is negative`)
  if (length > 1 && first === 0 && !(buf[tlv.contentStart + 1]! & 0x80)) {
    throw new DerError(`${what} is not minimally encoded`)
  }
  let value = 0n
  for (let i = tlv.contentStart; i < tlv.end; i++) value = (value << 8n) | BigInt(buf[i]!)
  return value
}

const TIME_DIGITS = /^\d+$/

export function decodeTime(buf: Uint8Array, tlv: Tlv): Date {
  const text = Buffer.from(buf.subarray(tlv.contentStart, tlv.end)).toString('latin1')
  let year: number
  let rest: string
  if (tlv.tag === TAG.UTC_TIME && text.length === 13) {
    const yy = Number(text.slice(0, 2))
    year = yy >= 50 ? 1900 + yy : 2000 + yy
    rest = text.slice(2)
  } else if (tlv.tag === TAG.GENERALIZED_TIME && text.length === 15) {
    year = Number(text.slice(0, 4))
    rest = text.slice(4)
  } else {
    throw new DerError('time must be UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ')
  }
  const digits = text.slice(0, -1)
  if (!text.endsWith('Z') || !TIME_DIGITS.test(digits)) throw new DerError('malformed time')
  const [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map((i) => Number(rest.slice(i, i + 2))) as [
    number,
    number,
    number,
    number,
    number,
  ]
  const ms = Date.UTC(year, month - 1, day, hour, minute, second)
  const date = new Date(ms)
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new DerError('time out of range')
  }
  return date
}

export function decodeBitString(buf: Uint8Array, tlv: Tlv): { unused: number; bytes: Uint8Array } {
  if (tlv.end === tlv.contentStart) throw new DerError('empty BIT STRING')
  const unused = buf[tlv.contentStart]!
  if (unused > 7 || (unused > 0 && tlv.end - tlv.contentStart === 1)) throw new DerError('malformed BIT STRING')
  return { unused, bytes: buf.subarray(tlv.contentStart + 1, tlv.end) }
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * DER to write: finished bytes, or an element whose content is the concatenation of its parts
 * (bytes, nested elements, or ASCII text). Building a tree and encoding it once is several times
 * cheaper than concatenating a Buffer per element on the minting hot path.
 */
export type Der = Uint8Array | DerNode

/** One element of a {@link Der} tree; `contentLength` is filled in while encoding. */
export interface DerNode {
  readonly tag: number
  readonly parts: readonly (Der | string)[]
  contentLength: number
}

/** An element with `tag` around `parts`; strings must be ASCII (they are written as latin1). */
export function derNode(tag: number, ...parts: readonly (Der | string)[]): DerNode {
  return { tag, parts, contentLength: -1 }
}

function headerLength(contentLength: number): number {
  return contentLength < 0x80 ? 2 : contentLength < 0x100 ? 3 : contentLength < 0x10000 ? 4 : 5
}

function measure(node: DerNode): number {
  let length = 0
  for (const part of node.parts) {
    length += typeof part === 'string' ? part.length : part instanceof Uint8Array ? part.length : measure(part)
  }
  node.contentLength = length
  return headerLength(length) + length
}

function write(node: DerNode, out: Buffer, offset: number): number {
  const length = node.contentLength
  const header = headerLength(length)
  out[offset] = node.tag
  if (header === 2) {
    out[offset + 1] = length
  } else {
    out[offset + 1] = 0x80 | (header - 2)
    for (let i = header - 1, rest = length; i >= 2; i--, rest >>>= 8) out[offset + i] = rest & 0xff
  }
  offset += header
  for (const part of node.parts) {
    if (typeof part === 'string') offset += out.write(part, offset, 'latin1')
    else if (part instanceof Uint8Array) {
      out.set(part, offset)
      offset += part.length
    } else offset = write(part, out, offset)
  }
  return offset
}

/** Encodes a {@link Der} tree into one new Buffer. */
export function encodeDer(der: Der): Buffer {
  if (der instanceof Uint8Array) return Buffer.from(der)
  const out = Buffer.allocUnsafe(measure(der))
  write(der, out, 0)
  return out
}

/** One encoded DER element with `tag` around the concatenated `parts`. */
export function derElement(tag: number, ...parts: readonly (Der | string)[]): Buffer {
  return encodeDer(derNode(tag, ...parts))
}

/** DER OBJECT IDENTIFIER from dotted form. */
export function derOid(oid: string): Buffer {
  const arcs = oid.split('.').map(Number)
  const bytes: number[] = []
  for (const value of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const chunk = [value & 0x7f]
    for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128)) chunk.unshift(0x80 | (rest & 0x7f))
    bytes.push(...chunk)
  }
  return derElement(TAG.OID, Buffer.from(bytes))
}

/** DER INTEGER from a non-negative value. */
export function derUnsignedInteger(value: bigint | number): Buffer {
  let hex = BigInt(value).toString(16)
  if (hex.length % 2) hex = '0' + hex
  let bytes = Buffer.from(hex, 'hex')
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.of(0), bytes])
  return derElement(TAG.INTEGER, bytes)
}

/** DER BOOLEAN TRUE (FALSE is only ever a DEFAULT, and DER leaves defaults out). */
export const DER_TRUE: Buffer = Buffer.from([TAG.BOOLEAN, 1, 0xff])
/** DER NULL. */
export const DER_NULL: Buffer = Buffer.from([TAG.NULL, 0])

function twoDigits(n: number): string {
  return (n < 10 ? '0' : '') + n
}

/** DER Time for whole seconds since the epoch: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
export function derTime(seconds: number): Buffer {
  const d = new Date(seconds * 1000)
  const year = d.getUTCFullYear()
  const rest =
    twoDigits(d.getUTCMonth() + 1) +
    twoDigits(d.getUTCDate()) +
    twoDigits(d.getUTCHours()) +
    twoDigits(d.getUTCMinutes()) +
    twoDigits(d.getUTCSeconds()) +
    'Z'
  if (year >= 1950 && year < 2050) return derElement(TAG.UTC_TIME, twoDigits(year % 100) + rest)
  if (year < 0 || year > 9999) throw new RangeError('certificate time out of range')
  return derElement(TAG.GENERALIZED_TIME, String(year).padStart(4, '0') + rest)
}
