// Test helper for a connection passed to another process. Run with `connect`, it connects to the
// Workload API socket, starts itself again as `call` with the connection as fd 3, and exits at
// once. The `call` process waits until the connecting process has exited (its stdin, a pipe from
// that process, ends), then makes one FetchJWTSVID call over fd 3 by hand-written HTTP/2 and
// prints {pid, code, details, svid} as one JSON line.
// Usage: node hand-off-connection.mjs connect <socket path>
import { spawn } from 'node:child_process'
import * as net from 'node:net'
import { fileURLToPath } from 'node:url'
import { call as grpcCall, frame, sessionOver, WORKLOAD_HEADERS } from '../../../../test/integration/testdata/raw-grpc.mjs'

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

async function call() {
  const session = sessionOver(new net.Socket({ fd: 3, readable: true, writable: true }))
  // An empty JWTSVIDRequest.
  const { code, details, body } = await grpcCall(session, '/SpiffeWorkloadAPI/FetchJWTSVID', frame(), { headers: WORKLOAD_HEADERS })
  process.stdout.write(JSON.stringify({ pid: process.pid, code, details, bytes: body.length }) + '\n')
  session.destroy()
}
