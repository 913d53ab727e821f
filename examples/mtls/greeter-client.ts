// Greeter client: connects to the greeter server over mTLS with the X509-SVID the local
// steeple-agent gives this process, once per --interval, and prints each exchange as a JSON line.
// It accepts only the server SPIFFE ID it is told to; every connection uses the current SVID, so
// rotations need no restart.
//
//   SPIFFE_ENDPOINT_SOCKET=unix://$PWD/.steeple/agent/api.sock \
//   node --import tsx examples/mtls/greeter-client.ts --port 8443 --hint greeter-client \
//     --server-id spiffe://example.org/greeter-server [--count 10]
import { X509Certificate } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import { parseArgs } from 'node:util'
import { authorizeId, connectMtls, parseSpiffeId } from '../../spiffe/index.js'
import { WorkloadApiClient, X509Source, pickByHint } from '../../workloadapi/index.js'

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8443' },
    hint: { type: 'string' },
    'server-id': { type: 'string' },
    interval: { type: 'string', default: '1000' },
    count: { type: 'string', default: '0' },
  },
})
if (values['server-id'] === undefined) {
  console.error('greeter-client: --server-id <spiffe id> is required: the only server this client trusts')
  process.exit(2)
}
const serverId = parseSpiffeId(values['server-id'])
const count = Number(values.count)
const intervalMs = Number(values.interval)

const client = WorkloadApiClient.connect()
const source = await X509Source.create(client, { ...(values.hint !== undefined && { picker: pickByHint(values.hint) }) })
let stopped = false
process.once('SIGINT', () => (stopped = true))
process.once('SIGTERM', () => (stopped = true))

let failures = 0
for (let i = 1; !stopped && (count === 0 || i <= count); i++) {
  const mySerial = new X509Certificate(Buffer.from(source.svid.certificatesDer[0]!)).serialNumber
  try {
    const { socket, peer } = await connectMtls(source, authorizeId(serverId), { host: values.host, port: Number(values.port) })
    socket.setEncoding('utf8')
    socket.write(`request ${i}\n`)
    const line = await firstLine(socket)
    socket.end()
    const reply = JSON.parse(line) as { greeting: string; server_serial: string }
    console.log(JSON.stringify({ ok: true, request: i, server_id: peer.toString(), client_serial: mySerial, ...reply }))
  } catch (err) {
    failures++
    console.log(JSON.stringify({ ok: false, request: i, client_serial: mySerial, error: (err as Error).message }))
  }
  if (!stopped && (count === 0 || i < count)) await new Promise((resolve) => setTimeout(resolve, intervalMs))
}
source.close()
client.close()
process.exitCode = failures === 0 ? 0 : 1

/** The first line the server sends; rejects when it closes the connection first (it refused us). */
function firstLine(socket: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = ''
    socket.on('data', (chunk: string) => {
      data += chunk
      if (data.includes('\n')) resolve(data.slice(0, data.indexOf('\n')))
    })
    socket.once('error', reject)
    socket.once('close', () => reject(new Error('the server closed the connection without an answer (it did not accept this client)')))
  })
}
