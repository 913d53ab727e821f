// An unprivileged user's attempt on the server's admin socket, in plain Node (no dependencies but
// raw-grpc.mjs, which the test copies next to it, so it runs from a directory the checkout's
// node_modules are not readable from). It calls MintJWTSVID for spiffe://example.org/stolen
// (audience "attacker") over hand-written HTTP/2.
//   node admin-call.mjs once SOCKET        one call; prints {code, details, minted}
//   node admin-call.mjs race SOCKET STOP   prints "started", then tries to connect and call again
//                                          and again until the file STOP exists (60 s at most);
//                                          prints {attempts, connected, minted, codes}
import { existsSync } from 'node:fs'
import * as net from 'node:net'
import { call, frame, sessionOver } from './raw-grpc.mjs'

const [mode, socketPath, stopFile] = process.argv.slice(2)

/** MintJWTSVIDRequest{spiffe_id: 1, audience: 2} as protobuf, in a gRPC frame. */
function request() {
  const field = (number, text) => {
    const bytes = Buffer.from(text)
    return Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes])
  }
  return frame(Buffer.concat([field(1, 'spiffe://example.org/stolen'), field(2, 'attacker')]))
}

/** Resolves {connected, code, details, minted}; never rejects. */
function attempt() {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath)
    let connected = false
    // Once connected, the call's end decides: a refused connection can also reset the socket, and
    // that error may come before the call's result is handed back.
    socket.on('error', (err) => {
      if (!connected) resolve({ connected: false, error: err.code })
    })
    socket.once('connect', async () => {
      connected = true
      const session = sessionOver(socket)
      session.on('error', () => {})
      const { code, details, body } = await call(session, '/steeple.admin.v1.AdminAPI/MintJWTSVID', request(), { ignoreErrors: true })
      session.destroy()
      resolve({ connected: true, code: code ?? null, details, minted: body.toString('latin1').includes('eyJ') })
    })
  })
}

if (mode === 'once') {
  process.stdout.write(JSON.stringify(await attempt()) + '\n')
} else {
  const deadline = Date.now() + 60_000
  const summary = { attempts: 0, connected: 0, minted: 0, codes: {} }
  process.stdout.write('started\n')
  while (Date.now() < deadline && !existsSync(stopFile)) {
    const result = await attempt()
    summary.attempts++
    if (result.connected) summary.connected++
    if (result.minted) summary.minted++
    const key = result.connected ? `grpc:${result.code}` : `connect:${result.error}`
    summary.codes[key] = (summary.codes[key] ?? 0) + 1
  }
  process.stdout.write(JSON.stringify(summary) + '\n')
}
