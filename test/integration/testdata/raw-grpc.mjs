// gRPC calls spoken by hand over HTTP/2 (node:http2 only), for test scripts that must run without
// the checkout's node_modules (copied elsewhere for another uid) or that speak over a socket they
// were handed (an inherited fd). Plain Node, no dependencies: tests copy this file next to the
// scripts that import it.
import * as http2 from 'node:http2'

/** The header the Workload API requires on every call. */
export const WORKLOAD_HEADERS = Object.freeze({ 'workload.spiffe.io': 'true' })

/** An HTTP/2 session over `socket`, already connected (or an fd wrapped in a net.Socket). */
export function sessionOver(socket) {
  return http2.connect('http://localhost', { createConnection: () => socket })
}

/** `message` (protobuf bytes) as one gRPC frame: uncompressed flag, 4-byte length, the bytes. */
export function frame(message = Buffer.alloc(0)) {
  const header = Buffer.alloc(5)
  header.writeUInt32BE(message.length, 1)
  return Buffer.concat([header, message])
}

/** Opens a stream calling `path` on `session` and sends `body` (framed) as the whole request. */
export function openStream(session, path, body, headers = {}) {
  const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers })
  stream.end(body)
  return stream
}

/**
 * Calls `path` on `session` with `body` (framed) and resolves once the stream closes, never
 * rejecting: {code, details, body}, with code and details from grpc-status and grpc-message
 * (undefined when none came) and body the response bytes, frames included. Options: `headers`,
 * extra request headers; `firstMessageOnly`, cancel the stream once data arrives (a server stream
 * stays open: its first message is the answer); `ignoreErrors`, let a stream error end the call
 * quietly instead of being thrown.
 */
export function call(session, path, body, { headers = {}, firstMessageOnly = false, ignoreErrors = false } = {}) {
  return new Promise((resolve) => {
    const stream = openStream(session, path, body, headers)
    let code
    let details
    const chunks = []
    const onStatus = (h) => {
      if (h['grpc-status'] !== undefined) {
        code = Number(h['grpc-status'])
        details = decodeURIComponent(String(h['grpc-message'] ?? ''))
      }
    }
    stream.on('response', onStatus)
    stream.on('trailers', onStatus)
    stream.on('data', (chunk) => {
      chunks.push(chunk)
      if (firstMessageOnly) stream.close(http2.constants.NGHTTP2_CANCEL)
    })
    if (ignoreErrors) stream.on('error', () => {})
    stream.on('close', () => resolve({ code, details, body: Buffer.concat(chunks) }))
  })
}
