// Test helper for a connection passed to another process. Run with `connect`, it connects to the
// Workload API socket, starts itself again as `call` with the connection as fd 3, and exits at
// once. The `call` process waits until the connecting process has exited (its stdin, a pipe from
// that process, ends), then makes one FetchJWTSVID call over fd 3 by hand-written HTTP/2 and
// prints {pid, code, details, svid} as one JSON line.
// Usage: node hand-off-connection.mjs connect <socket path>
import { spawn } from 'node:child_process'
import * as http2 from 'node:http2'
import * as net from 'node:net'
import { fileURLToPath } from 'node:url'

const [role, socketPath] = process.argv.slice(2)

if (role === 'connect') {
  const socket = net.connect(socketPath, () => {
    spawn(process.execPath, [fileURLToPath(import.meta.url), 'call'], {
      stdio: ['pipe', 'inherit', 'inherit', socket],
    }).unref()
    process.exit(0)
  })
} else {
  process.stdin.resume()
  process.stdin.on('end', call)
}

function call() {
  const socket = new net.Socket({ fd: 3, readable: true, writable: true })
  const session = http2.connect('http://localhost', { createConnection: () => socket })
  const stream = session.request({
    ':method': 'POST',
    ':path': '/SpiffeWorkloadAPI/FetchJWTSVID',
    'content-type': 'application/grpc',
    te: 'trailers',
    'workload.spiffe.io': 'true',
  })
  let code
  let details
  const chunks = []
  const onStatus = (headers) => {
    if (headers['grpc-status'] !== undefined) {
      code = Number(headers['grpc-status'])
      details = decodeURIComponent(String(headers['grpc-message'] ?? ''))
    }
  }
  stream.on('response', onStatus)
  stream.on('trailers', onStatus)
  stream.on('data', (chunk) => chunks.push(chunk))
  stream.on('close', () => {
    process.stdout.write(JSON.stringify({ pid: process.pid, code, details, bytes: Buffer.concat(chunks).length }) + '\n')
    session.destroy()
  })
  // An empty JWTSVIDRequest: uncompressed flag, zero length.
  stream.end(Buffer.alloc(5))
}
