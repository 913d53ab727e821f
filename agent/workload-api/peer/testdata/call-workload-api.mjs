// Test helper run as a child process: one FetchJWTSVID call over the Workload API socket with
// grpc-js, then prints {pid, code, details, svid} as one JSON line and exits.
// Usage: node call-workload-api.mjs <socket path> <workload.proto path>
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

const [socketPath, protoFile] = process.argv.slice(2)
const definition = protoLoader.loadSync(protoFile, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
const WorkloadApi = grpc.loadPackageDefinition(definition).SpiffeWorkloadAPI
const client = new WorkloadApi(`unix://${socketPath}`, grpc.credentials.createInsecure())
const metadata = new grpc.Metadata()
metadata.set('workload.spiffe.io', 'true')
client.FetchJWTSVID({ audience: ['test'] }, metadata, (err, response) => {
  const result = err
    ? { pid: process.pid, code: err.code, details: err.details }
    : { pid: process.pid, code: 0, svid: response.svids[0]?.svid }
  process.stdout.write(JSON.stringify(result) + '\n')
  client.close()
})
