import { describe, expect, it } from 'vitest'
import { ClientHeaderRewriter, acceptableAuthority } from './authority.js'
import { HpackDecoder, HpackError, encodeLiterals } from './hpack.js'

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9)
  header.writeUIntBE(payload.length, 0, 3)
  header[3] = type
  header[4] = flags
  header.writeUInt32BE(streamId, 5)
  return Buffer.concat([header, payload])
}

/** Splits server-bound bytes (after the preface) into frames. */
function frames(bytes: Buffer): { type: number; flags: number; streamId: number; payload: Buffer }[] {
  const out = []
  let rest = bytes
  while (rest.length > 0) {
    const length = rest.readUIntBE(0, 3)
    out.push({ type: rest[3]!, flags: rest[4]!, streamId: rest.readUInt32BE(5), payload: rest.subarray(9, 9 + length) })
    rest = rest.subarray(9 + length)
  }
  return out
}

/** A literal with incremental indexing, name from static index `nameIndex`, raw (non-Huffman) value. */
function indexedLiteral(nameIndex: number, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40 | nameIndex, value.length]), Buffer.from(value, 'latin1')])
}

describe('HPACK', () => {
  it('decodes RFC 7541 C.4.1 (Huffman-coded authority, static indexes)', () => {
    const block = Buffer.from('828684418cf1e3c2e5f23a6ba0ab90f4ff', 'hex')
    expect(new HpackDecoder().decode(block).map((f) => [f.name, f.value])).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ])
  })

  it('round-trips literals, keeping never-indexed fields never-indexed', () => {
    const fields = [
      { name: ':path', value: '/SpiffeWorkloadAPI/FetchX509SVID', sensitive: false },
      { name: 'workload.spiffe.io', value: 'true', sensitive: true },
      { name: 'x-bytes', value: '\u00ff\u0000a', sensitive: false },
    ]
    expect(new HpackDecoder().decode(encodeLiterals(fields))).toEqual(fields)
  })

  it('refuses a reference beyond its tables and bad Huffman padding', () => {
    expect(() => new HpackDecoder().decode(Buffer.from([0xbe]))).toThrow(HpackError)
    expect(() => new HpackDecoder().decode(Buffer.from([0x04, 0x81, 0x00]))).toThrow(HpackError)
  })
})

describe('client header rewriting', () => {
  it('keeps a valid authority and replaces a socket path with localhost', () => {
    expect(acceptableAuthority('localhost')).toBe('localhost')
    expect(acceptableAuthority('[::1]:8081')).toBe('[::1]:8081')
    expect(acceptableAuthority('%2Frun%2Fspire%2Fagent.sock')).toBe('%2Frun%2Fspire%2Fagent.sock')
    expect(acceptableAuthority('/run/spire/agent.sock')).toBe('localhost')
    expect(acceptableAuthority('')).toBe('localhost')
  })

  it("rewrites grpc-java's socket-path :authority in every header block, across the connection's dynamic table and split chunks", () => {
    const rewriter = new ClientHeaderRewriter()
    const settings = frame(0x4, 0, 0, Buffer.alloc(0))
    // First request: :authority inserted into the dynamic table (index 62), then the path.
    const first = Buffer.concat([indexedLiteral(1, '/tmp/agent.sock'), indexedLiteral(4, '/SpiffeWorkloadAPI/FetchX509SVID')])
    // Second request: both by dynamic-table index (62 = newest = the path, 63 = the authority).
    const second = Buffer.from([0x80 | 63, 0x80 | 62])
    const input = Buffer.concat([
      PREFACE,
      settings,
      frame(0x1, 0x4 | 0x1, 1, first),
      frame(0x0, 0x1, 1, Buffer.from('data')),
      // The second block arrives in a HEADERS and a CONTINUATION.
      frame(0x1, 0, 3, second.subarray(0, 1)),
      frame(0x9, 0x4, 3, second.subarray(1)),
    ])
    // Fed in small pieces, as a socket may deliver it.
    const out: Buffer[] = []
    for (let i = 0; i < input.length; i += 7) out.push(rewriter.transform(input.subarray(i, i + 7)))
    const bytes = Buffer.concat(out)
    expect(bytes.subarray(0, PREFACE.length).equals(PREFACE)).toBe(true)
    const got = frames(bytes.subarray(PREFACE.length))
    expect(got.map((f) => [f.type, f.flags, f.streamId])).toEqual([
      [0x4, 0, 0],
      [0x1, 0x4 | 0x1, 1],
      [0x0, 0x1, 1],
      [0x1, 0x4, 3],
    ])
    const server = new HpackDecoder()
    const fieldsOf = (payload: Buffer) => server.decode(payload).map((f) => [f.name, f.value])
    expect(fieldsOf(got[1]!.payload)).toEqual([
      [':authority', 'localhost'],
      [':path', '/SpiffeWorkloadAPI/FetchX509SVID'],
    ])
    expect(fieldsOf(got[3]!.payload)).toEqual([
      [':authority', 'localhost'],
      [':path', '/SpiffeWorkloadAPI/FetchX509SVID'],
    ])
    expect(got[2]!.payload.toString()).toBe('data')
    expect(rewriter.replaced).toBe(2)
  })

  it('ends the connection on a header block interrupted by another frame, or a stream that is not HTTP/2', () => {
    const interrupted = Buffer.concat([PREFACE, frame(0x1, 0, 1, Buffer.from([0x82])), frame(0x0, 0, 1, Buffer.from('x'))])
    expect(() => new ClientHeaderRewriter().transform(interrupted)).toThrow('header block interrupted')
    expect(() => new ClientHeaderRewriter().transform(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toThrow('not an HTTP/2 client preface')
  })
})
