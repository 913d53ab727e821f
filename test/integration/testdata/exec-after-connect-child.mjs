// The child of exec-after-connect.py: makes FetchX509SVID calls over the connection its parent
// made (fd from argv). One call, then "ready" on stdout (the parent then executes another
// program), then it waits until /proc/<parent>/comm shows that program and calls again. Prints
// {phase, code, details, spiffeIds} per call on stderr (the attacker's stdout), one JSON line each.
// Usage: node exec-after-connect-child.mjs FD COMM (raw-grpc.mjs next to it: the test copies both)
import { readFileSync } from 'node:fs'
import * as net from 'node:net'
import { call, frame, sessionOver, WORKLOAD_HEADERS } from './raw-grpc.mjs'

const [fd, comm] = process.argv.slice(2)
const session = sessionOver(new net.Socket({ fd: Number(fd), readable: true, writable: true }))

async function fetchX509(phase) {
  // An empty X509SVIDRequest; the stream stays open, so its first message is the answer.
  const { code, details, body } = await call(session, '/SpiffeWorkloadAPI/FetchX509SVID', frame(), { headers: WORKLOAD_HEADERS, firstMessageOnly: true })
  process.stderr.write(JSON.stringify({ phase, code: code ?? 0, details, spiffeIds: svidIds(body) }) + '\n')
}

/** Protobuf length-delimited fields `number` of a message (every one here is under 2^28 bytes). */
function fields(bytes, number) {
  const found = []
  let at = 0
  const varint = () => {
    let value = 0
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++]
      value += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return value
    }
  }
  while (at < bytes.length) {
    const key = varint()
    const wire = key & 7
    if (wire === 0) varint()
    else if (wire === 2) {
      const length = varint()
      if (key >>> 3 === number) found.push(bytes.subarray(at, at + length))
      at += length
    } else throw new Error(`unexpected wire type ${wire}`)
  }
  return found
}

/** The spiffe_id (field 1) of each X509SVID (field 1) in the first gRPC message of a response. */
function svidIds(body) {
  if (body.length < 5) return []
  const message = body.subarray(5, 5 + body.readUInt32BE(1))
  return fields(message, 1).map((svid) => fields(svid, 1)[0].toString('utf8')).sort()
}

await fetchX509('before')
process.stdout.write('ready\n')
const deadline = Date.now() + 10_000
while (readFileSync(`/proc/${process.ppid}/comm`, 'utf8').trim() !== comm) {
  if (Date.now() > deadline) {
    process.stderr.write(JSON.stringify({ phase: 'after', error: `parent never became ${comm}` }) + '\n')
    process.exit(1)
  }
  await new Promise((r) => setTimeout(r, 10))
}
await fetchX509('after')
session.destroy()
