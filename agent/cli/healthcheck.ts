import * as grpc from '@grpc/grpc-js'
import { Command } from 'commander'
import { errorMessage } from '../../common/errors.js'
import { WorkloadApiError } from '../../workloadapi/index.js'
import { emit, fail, withClient, withCommonOptions, type CommonOptions } from './output.js'

/**
 * `healthcheck`: asks the agent over the Workload API socket with the project's client (a
 * FetchX509Bundles call). Healthy means the agent answered as a ready agent does: with bundles, or
 * with PERMISSION_DENIED for a caller without an entry (the agent checks readiness before
 * identity). UNAVAILABLE (not ready, attestation failing), no socket or no answer is unhealthy.
 * Exit code 0 when healthy, 1 otherwise.
 */
export function healthcheckCommand(): Command {
  return withCommonOptions(new Command('healthcheck').description('check that the agent is up and serving the Workload API')).action(
    async (opts: CommonOptions) => {
      let problem: string | undefined
      try {
        await withClient(opts, (client, signal) => client.fetchX509Bundles({ signal }))
      } catch (err) {
        if (!(err instanceof WorkloadApiError && err.grpcStatus === grpc.status.PERMISSION_DENIED)) problem = errorMessage(err)
      }
      const healthy = problem === undefined
      if (opts.output === 'json') emit('json', { healthy, ...(problem !== undefined && { problem }) }, () => '')
      if (!healthy) {
        fail(`Agent is unhealthy: ${problem}`)
        return
      }
      if (opts.output === 'pretty') emit('pretty', {}, () => 'Agent is healthy.')
    },
  )
}
