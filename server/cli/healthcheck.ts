import { Command } from 'commander'
import { withClient } from './client.js'
import { action, emit, fail, withCommonOptions, type CommonOptions } from './output.js'

/**
 * `healthcheck`: asks the server over the admin socket. Healthy means ready (every API serving,
 * the CA able to sign, the data store answering); with `--shallow`, only that the server answers.
 * Exit code 0 when healthy, 1 otherwise.
 */
export function healthcheckCommand(): Command {
  return withCommonOptions(new Command('healthcheck').description('check that the server is up and ready'))
    .option('--shallow', 'only check that the server answers (liveness), not that it is ready')
    .action(
      action(async (opts: CommonOptions & { shallow?: boolean }) => {
        let health
        try {
          health = await withClient(opts.socketPath, (client) => client.call('Health', {}))
        } catch (err) {
          fail(`Server is unhealthy: ${(err as Error).message}`)
          return
        }
        const healthy = opts.shallow === true ? health.live : health.ready
        const json = {
          healthy,
          live: health.live,
          ready: health.ready,
          problem: health.problem,
          trust_domain: health.trust_domain,
          ca_expires_at: Number(health.ca_expires_at),
          entries: Number(health.entries),
          agents: Number(health.agents),
        }
        if (opts.output === 'json') emit('json', json, () => '')
        if (!healthy) {
          fail(`Server is unhealthy: ${health.problem || 'not live'}`)
          return
        }
        if (opts.output === 'pretty') {
          emit('pretty', json, () => 'Server is healthy.')
        }
      }),
    )
}
