import { Command } from 'commander'
import { errorMessage } from '../../common/errors.js'
import type { X509Context } from '../../workloadapi/index.js'
import { x509ContextJson, x509ContextText } from './api-fetch.js'
import { CliError, action, connect, formatTime, plural, withCommonOptions, type CommonOptions } from './output.js'

/**
 * `api watch`: keeps a FetchX509SVID stream open and prints every update as it arrives (pretty
 * blocks, or one JSON object per line with `--output json`), until interrupted (exit 0). Errors the
 * client recovers from (the agent restarting, no identity yet) go to stderr while it reconnects;
 * an error it does not retry ends the command with exit 1.
 */
export function watchCommand(): Command {
  return withCommonOptions(new Command('watch').description('print every X.509 update of this process as it arrives, until interrupted'), false).action(
    action(async (opts: Omit<CommonOptions, 'timeout'>) => {
      const client = connect({ ...opts, timeout: 0 })
      const stop = new AbortController()
      const onSignal = (): void => stop.abort()
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      let updates = 0
      const onUpdate = (context: X509Context): void => {
        updates++
        const at = formatTime(new Date())
        if (opts.output === 'json') {
          process.stdout.write(JSON.stringify({ received_at: at, ...x509ContextJson(context) }) + '\n')
        } else {
          process.stdout.write(`Update ${updates} at ${at}: ${plural(context.svids.length, 'SVID')}\n\n${x509ContextText(context)}\n`)
        }
      }
      const onError = (err: Error): void => {
        process.stderr.write(`Warning: ${errorMessage(err)}; retrying\n`)
      }
      try {
        await client.watchX509Context(onUpdate, onError, stop.signal)
      } catch (err) {
        throw new CliError(errorMessage(err), { cause: err })
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        client.close()
      }
    }),
  )
}
