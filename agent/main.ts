// steeple-agent entry point. The agent's commands (run, api fetch/watch/validate, healthcheck)
// are not built yet; until then this prints help and says so, rather than pretending to run.
import 'reflect-metadata'
import { Command } from 'commander'

const program = new Command('steeple-agent')
  .description(
    'Steeple node agent: attests the node to steeple-server and serves the SPIFFE Workload API on a Unix socket.\n' +
      'Not available yet in this version: the agent commands (run, api, healthcheck) are still being built.',
  )
  .version('0.1.0')
  .showHelpAfterError()

program.parse(process.argv)
if (program.args.length === 0) program.help()
