// Test helper: a Workload API connection that outlives the process that made it.
//
//   node hand-off.mjs call <socket>    Connects, starts itself again as `heir-call` with the
//                                      connection as fd 3, and exits. The heir waits until the
//                                      connecting process is gone (its stdin ends), makes one
//                                      FetchX509SVID call over fd 3 and prints {pid, code, details, bytes}.
//   node hand-off.mjs stream <socket>  Connects, opens a FetchX509SVID stream, and once the first
//                                      message arrived starts `heir-hold` with the connection as fd 3
//                                      and exits. The heir prints {pid} and keeps the fd open, unread,
//                                      until it is killed.
//
// HTTP/2 is spoken by hand (node:http2 over the socket) so the connection can be handed on.
import { spawn } from 'node:child_process'
import * as http2 from 'node:http2'
import * as net from 'node:net'
import { fileURLToPath } from 'node:url'

const [role, socketPath] = process.argv.slice(2)
const HEADERS = {
  ':method': 'POST',
  ':path': '/SpiffeWorkloadAPI/FetchX509SVID',
  'content-type': 'application/grpc',
  te: 'trailers',
  'workload.spiffe.io': 'true',
}
// An empty X509SVIDRequest: uncompressed flag, zero length.
const EMPTY_REQUEST = Buffer.alloc(5)

function handOff(socket, heirRole) {
  spawn(process.execPath, [fileURLToPath(import.meta.url), heirRole], {
    stdio: ['pipe', 'inherit', 'inherit', socket],
  }).unref()
  process.exit(0)
}

if (role === 'call') {
  const socket = net.connect(socketPath, () => handOff(socket, 'heir-call'))
} else if (role === 'stream') {
  const socket = net.connect(socketPath, () => {
    const session = http2.connect('http://localhost', { createConnection: () => socket })
    const stream = session.request(HEADERS)
    stream.once('data', () => handOff(socket, 'heir-hold'))
    stream.end(EMPTY_REQUEST)
  })
} else if (role === 'heir-call') {
  process.stdin.resume()
  process.stdin.on('end', () => {
    const socket = new net.Socket({ fd: 3, readable: true, writable: true })
    const session = http2.connect('http://localhost', { createConnection: () => socket })
    const stream = session.request(HEADERS)
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
    stream.end(EMPTY_REQUEST)
  })
} else if (role === 'heir-hold') {
  process.stdout.write(JSON.stringify({ pid: process.pid }) + '\n')
  setInterval(() => {}, 60_000)
}
