import type * as grpc from '@grpc/grpc-js'
import { toStatus } from '../../common/grpc-status.js'
import type { Logger } from '../../common/logger.js'

/**
 * Wraps a unary handler: the result goes to the callback, and any error goes through the one
 * error-to-status boundary (caller faults with their message, anything else as "internal error").
 */
export function unaryHandler<Req, Res>(
  log: Logger,
  method: string,
  handle: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  const methodLog = log.child({ method })
  return (call, callback) => {
    handle(call).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toStatus(err, methodLog) as grpc.ServiceError),
    )
  }
}

/** A call that writes a stream of responses (server-streaming or bidi). */
type StreamingCall = { writableEnded: boolean; cancelled: boolean; end(): unknown; emit(event: 'error', status: unknown): boolean }

/** Runs a streaming handler: the stream ends when it resolves, or with the mapped status when it throws. */
function runStream<C extends StreamingCall>(log: Logger, method: string, handle: (call: C) => Promise<void>): (call: C) => void {
  const methodLog = log.child({ method })
  return (call) => {
    handle(call).then(
      () => {
        if (!call.writableEnded) call.end()
      },
      (err: unknown) => {
        if (!call.cancelled) call.emit('error', toStatus(err, methodLog))
      },
    )
  }
}

/** Wraps a server-streaming handler; an error ends the stream with its mapped status. */
export function serverStreamHandler<Req, Res>(
  log: Logger,
  method: string,
  handle: (call: grpc.ServerWritableStream<Req, Res>) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Res> {
  return runStream(log, method, handle)
}

/** Wraps a bidi-streaming handler the same way. */
export function bidiStreamHandler<Req, Res>(
  log: Logger,
  method: string,
  handle: (call: grpc.ServerDuplexStream<Req, Res>) => Promise<void>,
): grpc.handleBidiStreamingCall<Req, Res> {
  return runStream(log, method, handle)
}
