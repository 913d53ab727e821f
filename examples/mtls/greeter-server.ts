// Greeter server: answers each line a client sends with a greeting, over mTLS with the X509-SVID the
// local steeple-agent gives this process. It accepts only the client SPIFFE ID it is told to, and
// picks up every rotated SVID and bundle without a restart.
//
//   SPIFFE_ENDPOINT_SOCKET=unix://$PWD/.steeple/agent/api.sock \
//   node --import tsx examples/mtls/greeter-server.ts --port 8443 --hint greeter-server \
//     --client-id spiffe://example.org/greeter-client
import { X509Certificate } from 'node:crypto'
import { parseArgs } from 'node:util'
import { authorizeId, createMtlsServer, parseSpiffeId } from '../../spiffe/index.js'
import { WorkloadApiClient, X509Source, pickByHint } from '../../workloadapi/index.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8443' },
    hint: { type: 'string' },
    'client-id': { type: 'string' },
  },
})
if (values['client-id'] === undefined) {
  console.error('greeter-server: --client-id <spiffe id> is required: the only client this server talks to')
  process.exit(2)
}
const clientId = parseSpiffeId(values['client-id'])

const client = WorkloadApiClient.connect()
const source = await X509Source.create(client, {
  ...(values.hint !== undefined && { picker: pickByHint(values.hint) }),
  onError: (err) => log({ event: 'workload_api_error', error: err.message }),
})
source.onUpdate((s) => log({ event: 'svid_updated', spiffe_id: s.svid.id.toString(), serial: serialOf(s.svid.certificatesDer[0]!) }))

const server = createMtlsServer(
  source,
  authorizeId(clientId),
  (socket, peer) => {
    socket.setEncoding('utf8')
    let pending = ''
    socket.on('data', (chunk: string) => {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) {
        socket.write(JSON.stringify({ greeting: `hello ${peer.toString()}, you said ${JSON.stringify(line)}`, server_serial: serialOf(source.svid.certificatesDer[0]!) }) + '\n')
      }
    })
    socket.on('error', () => socket.destroy())
  },
  (err) => log({ event: 'client_refused', error: err.message }),
)
server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address()
  log({ event: 'listening', port: typeof address === 'object' && address !== null ? address.port : values.port, spiffe_id: source.svid.id.toString() })
})

const stop = (): void => {
  server.close()
  source.close()
  client.close()
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)

function log(record: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n')
}

function serialOf(der: Uint8Array): string {
  return new X509Certificate(Buffer.from(der)).serialNumber
}
