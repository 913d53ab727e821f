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
import * as net from 'node:net'
import { fileURLToPath } from 'node:url'
import { call, frame, openStream, sessionOver, WORKLOAD_HEADERS } from '../../../test/integration/testdata/raw-grpc.mjs'

const [role, socketPath] = process.argv.slice(2)
const PATH = '/SpiffeWorkloadAPI/FetchX509SVID'
// An empty X509SVIDRequest.
const EMPTY_REQUEST = frame()

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
    const stream = openStream(sessionOver(socket), PATH, EMPTY_REQUEST, WORKLOAD_HEADERS)
    stream.once('data', () => handOff(socket, 'heir-hold'))
  })
} else if (role === 'heir-call') {
  process.stdin.resume()
  process.stdin.on('end', async () => {
    const session = sessionOver(new net.Socket({ fd: 3, readable: true, writable: true }))
    const { code, details, body } = await call(session, PATH, EMPTY_REQUEST, { headers: WORKLOAD_HEADERS })
    process.stdout.write(JSON.stringify({ pid: process.pid, code, details, bytes: body.length }) + '\n')
    session.destroy()
  })
} else if (role === 'heir-hold') {
  process.stdout.write(JSON.stringify({ pid: process.pid }) + '\n')
  setInterval(() => {}, 60_000)
}
