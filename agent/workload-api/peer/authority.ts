import * as net from 'node:net'
import { Duplex } from 'node:stream'
import { HpackDecoder, HpackError, encodeLiterals, type HeaderField } from './hpack.js'

/**
 * grpc-java (and so java-spiffe) sends the socket path as `:authority` on Unix socket
 * connections (`/run/spire/agent.sock`). That is not a valid URI authority, and Node's HTTP/2 layer
 * (nghttp2) resets every such stream with PROTOCOL_ERROR before gRPC sees it; Go's HTTP/2 server,
 * which SPIRE uses, lets it through. So that these clients work unchanged, the agent rewrites the
 * header blocks a workload sends: each block is decoded (with the connection's HPACK table) and
 * re-encoded as plain literals, with an `:authority` that is not a valid authority replaced by
 * `localhost` (what gRPC uses for Unix sockets elsewhere). The authority means nothing on a Unix
 * socket; nothing else in a request changes. Frames other than HEADERS/CONTINUATION pass as they
 * are, and the server-to-client direction is untouched.
 */

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
const FRAME_HEADER = 9
const TYPE_HEADERS = 0x1
const TYPE_CONTINUATION = 0x9
const FLAG_END_STREAM = 0x1
const FLAG_END_HEADERS = 0x4
const FLAG_PADDED = 0x8
const FLAG_PRIORITY = 0x20
/** The smallest SETTINGS_MAX_FRAME_SIZE a peer may announce; every server accepts frames this big. */
const MAX_FRAME_PAYLOAD = 16_384
/** Largest header block accepted (the same bound as Node's default maxHeaderSize, with room). */
const MAX_HEADER_BLOCK = 64 * 1024

// RFC 3986 authority characters (unreserved, pct-encoded, sub-delims, ":", "@", "[", "]").
const VALID_AUTHORITY = /^[A-Za-z0-9\-._~%!$&'()*+,;=:@[\]]+$/

/** The value nghttp2 accepts: the given one when it is a valid authority, else `localhost`. */
export function acceptableAuthority(value: string): string {
  return VALID_AUTHORITY.test(value) ? value : 'localhost'
}

interface PendingBlock {
  readonly streamId: number
  readonly flags: number
  readonly priority: Buffer | undefined
  readonly fragments: Buffer[]
  size: number
}

/** Rewrites the client-to-server byte stream of one HTTP/2 connection (see the module comment). */
export class ClientHeaderRewriter {
  readonly #decoder = new HpackDecoder()
  #buffer: Buffer = Buffer.alloc(0)
  #prefaceSeen = false
  #pending: PendingBlock | undefined
  /** How many `:authority` values were replaced (for the log). */
  replaced = 0

  /** Bytes from the client in, bytes for the server out. @throws HpackError, or Error for bad framing. */
  transform(chunk: Buffer): Buffer {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    const out: Buffer[] = []
    if (!this.#prefaceSeen) {
      if (this.#buffer.length < PREFACE.length) return Buffer.alloc(0)
      if (!this.#buffer.subarray(0, PREFACE.length).equals(PREFACE)) throw new Error('http2: not an HTTP/2 client preface')
      out.push(this.#buffer.subarray(0, PREFACE.length))
      this.#buffer = this.#buffer.subarray(PREFACE.length)
      this.#prefaceSeen = true
    }
    while (this.#buffer.length >= FRAME_HEADER) {
      const length = this.#buffer.readUIntBE(0, 3)
      if (this.#buffer.length < FRAME_HEADER + length) break
      const frame = this.#buffer.subarray(0, FRAME_HEADER + length)
      this.#buffer = this.#buffer.subarray(FRAME_HEADER + length)
      const type = frame[3]!
      if (this.#pending !== undefined && type !== TYPE_CONTINUATION) throw new Error('http2: header block interrupted by another frame')
      if (type === TYPE_HEADERS) out.push(...this.#headers(frame))
      else if (type === TYPE_CONTINUATION) out.push(...this.#continuation(frame))
      else out.push(frame)
    }
    // Keep what is buffered off the chunk it came from, so the caller may reuse that memory.
    if (this.#buffer.length > 0) this.#buffer = Buffer.from(this.#buffer)
    return out.length === 1 ? out[0]! : Buffer.concat(out)
  }

  #headers(frame: Buffer): Buffer[] {
    const flags = frame[4]!
    const streamId = frame.readUInt32BE(5) & 0x7fffffff
    let payload = frame.subarray(FRAME_HEADER)
    if (flags & FLAG_PADDED) {
      const padLength = payload[0]!
      if (padLength >= payload.length) throw new Error('http2: padding longer than the frame')
      payload = payload.subarray(1, payload.length - padLength)
    }
    let priority: Buffer | undefined
    if (flags & FLAG_PRIORITY) {
      priority = Buffer.from(payload.subarray(0, 5))
      payload = payload.subarray(5)
    }
    this.#pending = { streamId, flags, priority, fragments: [Buffer.from(payload)], size: payload.length }
    return flags & FLAG_END_HEADERS ? this.#finish() : []
  }

  #continuation(frame: Buffer): Buffer[] {
    const pending = this.#pending
    const streamId = frame.readUInt32BE(5) & 0x7fffffff
    if (pending === undefined || streamId !== pending.streamId) throw new Error('http2: CONTINUATION without a header block')
    const fragment = frame.subarray(FRAME_HEADER)
    pending.fragments.push(Buffer.from(fragment))
    pending.size += fragment.length
    if (pending.size > MAX_HEADER_BLOCK) throw new Error('http2: header block too large')
    return frame[4]! & FLAG_END_HEADERS ? this.#finish() : []
  }

  /** Decodes the complete block, fixes `:authority`, and frames the re-encoded block. */
  #finish(): Buffer[] {
    const pending = this.#pending!
    this.#pending = undefined
    const fields = this.#decoder.decode(Buffer.concat(pending.fragments)).map((field): HeaderField => {
      if (field.name !== ':authority') return field
      const value = acceptableAuthority(field.value)
      if (value === field.value) return field
      this.replaced++
      return { ...field, value }
    })
    const block = encodeLiterals(fields)
    const frames: Buffer[] = []
    const priority = pending.priority ?? Buffer.alloc(0)
    let offset = 0
    let first = true
    do {
      const room = MAX_FRAME_PAYLOAD - (first ? priority.length : 0)
      const piece = block.subarray(offset, offset + room)
      offset += piece.length
      const last = offset >= block.length
      const type = first ? TYPE_HEADERS : TYPE_CONTINUATION
      const flags = (first ? pending.flags & (FLAG_END_STREAM | FLAG_PRIORITY) : 0) | (last ? FLAG_END_HEADERS : 0)
      const payload = first ? Buffer.concat([priority, piece]) : piece
      const header = Buffer.alloc(FRAME_HEADER)
      header.writeUIntBE(payload.length, 0, 3)
      header[3] = type
      header[4] = flags
      header.writeUInt32BE(pending.streamId, 5)
      frames.push(header, payload)
      first = false
    } while (offset < block.length)
    return frames
  }
}

/**
 * The connection as gRPC should see it: client bytes pass through a {@link ClientHeaderRewriter},
 * server bytes go to the socket as they are. Ends, errors and back-pressure follow the socket.
 * `remoteAddress` is the socket's (the caller's tracking token).
 */
export class RewritingConnection extends Duplex {
  readonly #socket: net.Socket
  readonly #rewriter = new ClientHeaderRewriter()
  readonly remoteAddress: string | undefined

  constructor(socket: net.Socket, onError: (err: Error) => void) {
    super({ allowHalfOpen: false })
    this.#socket = socket
    this.remoteAddress = socket.remoteAddress
    socket.on('data', (chunk: Buffer) => {
      let out: Buffer
      try {
        out = this.#rewriter.transform(chunk)
      } catch (err) {
        onError(err instanceof HpackError || err instanceof Error ? err : new Error(String(err)))
        socket.destroy()
        return
      }
      if (out.length > 0 && !this.push(out)) socket.pause()
    })
    socket.on('end', () => this.push(null))
    socket.on('error', (err) => this.destroy(err))
    socket.on('close', () => this.destroy())
  }

  /** How many `:authority` values were replaced on this connection. */
  get replacedAuthorities(): number {
    return this.#rewriter.replaced
  }

  override _read(): void {
    this.#socket.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#socket.write(chunk, callback)
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#socket.end(callback)
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#socket.destroy()
    callback(err)
  }
}

/**
 * Node's HTTP/2 server serves a stream that is not a native socket through an internal wrapper
 * socket (JSStreamSocket, which keeps the stream as `.stream`) whose `remoteAddress` is always
 * undefined, and grpc-js names a call's peer from that wrapper. This makes the wrapper of a
 * {@link RewritingConnection} report the connection's `remoteAddress` (the caller's tracking token),
 * so calls are still attributed to the process that made the connection. Other sockets are
 * unaffected. Installed once, when this module loads.
 */
function reportRewrittenPeers(): void {
  // `remoteAddress` itself is a non-configurable getter; it reads `_getpeername()`, which is not.
  const proto = net.Socket.prototype as unknown as { _getpeername: (this: net.Socket & { stream?: unknown }) => { address?: string } }
  const original = proto._getpeername
  if (typeof original !== 'function') throw new Error('http2: net.Socket has no _getpeername to extend')
  proto._getpeername = function (this: net.Socket & { stream?: unknown }) {
    if (this.stream instanceof RewritingConnection) return { address: this.stream.remoteAddress }
    return original.call(this)
  }
}
reportRewrittenPeers()
