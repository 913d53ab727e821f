import { Command } from 'commander'
import { agentCommand } from './agent.js'
import { auditCommand } from './audit.js'
import { bundleCommand } from './bundle.js'
import { entryCommand } from './entry.js'
import { healthcheckCommand } from './healthcheck.js'
import { jwtCommand } from './jwt.js'
import { runCommand } from './run.js'
import { tokenCommand } from './token.js'
import { x509Command } from './x509.js'

export { AdminClient, withClient, type AdminMethods } from './client.js'
export { DEFAULT_SOCKET_PATH } from './output.js'

/** The `steeple-server` command line: `run` and the operator commands that talk to the admin socket. */
export function serverProgram(): Command {
  return new Command('steeple-server')
    .description('Steeple server: SPIFFE CA, registration entries, node attestation, agent and admin APIs')
    .addCommand(runCommand())
    .addCommand(entryCommand())
    .addCommand(agentCommand())
    .addCommand(tokenCommand())
    .addCommand(bundleCommand())
    .addCommand(x509Command())
    .addCommand(jwtCommand())
    .addCommand(auditCommand())
    .addCommand(healthcheckCommand())
}
