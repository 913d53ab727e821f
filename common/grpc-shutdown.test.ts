import * as grpc from '@grpc/grpc-js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { shutdownGracefully } from './grpc-shutdown.js'

const identity = (b: Buffer): Buffer => b
const WAIT: grpc.MethodDefinition<Buffer, Buffer> = {
  path: '/test.Shutdown/Wait',
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
}

/** A server on a Unix socket whose one method answers when the test releases it. */
async function startServer(socketPath: string): Promise<{ server: grpc.Server; started: Promise<void>; release: () => void }> {
  const server = new grpc.Server()
  let onStarted!: () => void
  const started = new Promise<void>((r) => (onStarted = r))
  let release!: () => void
  const released = new Promise<void>((r) => (release = r))
  server.addService({ Wait: WAIT }, {
    Wait: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      onStarted()
      void released.then(() => callback(null, Buffer.from('done')))
    },
  })
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err === null ? resolve() : reject(err))),
  )
  return { server, started, release }
}

function call(socketPath: string): { client: grpc.Client; reply: Promise<{ code: number; body?: string }> } {
  const client = new grpc.Client(`unix:${socketPath}`, grpc.credentials.createInsecure())
  const reply = new Promise<{ code: number; body?: string }>((resolve) => {
    client.makeUnaryRequest(WAIT.path, identity, identity, Buffer.alloc(0), (err, value) =>
      resolve(err ? { code: err.code } : { code: grpc.status.OK, body: value!.toString() }),
    )
  })
  return { client, reply }
}

describe('shutdownGracefully on a real gRPC server', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steeple-grpc-shutdown-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('with no calls in flight, the server drains at once', async () => {
    const { server } = await startServer(join(dir, 'idle.sock'))
    expect(await shutdownGracefully(server, 60_000)).toBe('drained')
  })

  it('a call that finishes within the grace period completes and the server drains', async () => {
    const socketPath = join(dir, 'finishes.sock')
    const { server, started, release } = await startServer(socketPath)
    const { client, reply } = call(socketPath)
    await started
    const stopping = shutdownGracefully(server, 60_000)
    release()
    expect(await reply).toEqual({ code: grpc.status.OK, body: 'done' })
    expect(await stopping).toBe('drained')
    client.close()
  })

  it('a call still running when the grace period ends is cut off, and the caller gets an error', async () => {
    const socketPath = join(dir, 'hangs.sock')
    const { server, started, release } = await startServer(socketPath)
    const { client, reply } = call(socketPath)
    await started
    expect(await shutdownGracefully(server, 50)).toBe('cut-off')
    expect((await reply).code).not.toBe(grpc.status.OK)
    release()
    client.close()
  })
})
