import { Command } from 'commander'
import { fetchCommand } from './api-fetch.js'
import { validateCommand } from './api-validate.js'
import { watchCommand } from './api-watch.js'
import { healthcheckCommand } from './healthcheck.js'
import { runCommand } from './run.js'

export { DEFAULT_SOCKET_PATH, endpointAddress } from './output.js'

/** The `steeple-agent` command line: `run`, and the commands a workload or operator uses on the socket. */
export function agentProgram(): Command {
  const api = new Command('api')
    .description('talk to the Workload API as this process: fetch, watch and validate SVIDs')
    .addCommand(fetchCommand())
    .addCommand(watchCommand())
    .addCommand(validateCommand())
  return new Command('steeple-agent')
    .description('Steeple node agent: attests the node to steeple-server and serves the SPIFFE Workload API on a Unix socket')
    .version('0.1.0')
    .showHelpAfterError()
    .addCommand(runCommand())
    .addCommand(api)
    .addCommand(healthcheckCommand())
}
