import type { Server } from '@grpc/grpc-js'

/**
 * Stops `server` taking new calls, lets the calls in flight finish for up to `graceMs`, then cuts
 * off whatever still runs.
 * @returns 'drained' when every call finished in time, 'cut-off' when some had to be cut off.
 */
export function shutdownGracefully(server: Server, graceMs: number): Promise<'drained' | 'cut-off'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown()
      resolve('cut-off')
    }, graceMs)
    server.tryShutdown(() => {
      clearTimeout(timer)
      resolve('drained')
    })
  })
}
