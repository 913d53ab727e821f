import type * as grpc from '@grpc/grpc-js'
import { errorMessage } from '../../../common/errors.js'
import type { Logger } from '../../../common/logger.js'
import type { ServerCore } from '../../core.js'

/**
 * Catches the entry cache up with the store now (a reader that knows the store is ahead, e.g. a
 * node the store has and the cache not yet); logs a failure, never rejects.
 */
export async function applyCacheEvents(core: ServerCore, log: Logger): Promise<void> {
  try {
    await core.cache.applyEvents()
  } catch (err) {
    log.warn('Cache update failed', { err: errorMessage(err) })
  }
}

/** Writes one message on a server stream and waits until the stream can take more (backpressure). */
export function writeMessage<T>(call: grpc.ServerWritableStream<unknown, T> | grpc.ServerDuplexStream<unknown, T>, message: T): Promise<void> {
  if (call.write(message)) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done)
      call.off('close', done)
      resolve()
    }
    call.on('drain', done)
    call.on('close', done)
  })
}
