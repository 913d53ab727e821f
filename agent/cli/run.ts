import { Command } from 'commander'
import { errorMessage } from '../../common/errors.js'
import { loadAgentConfig, type AgentConfig, type AgentFlags } from '../config.js'
import { JOIN_TOKEN_ENV, takeJoinTokenEnv } from '../join-token.js'
import { fail } from './output.js'

/** `run`: starts the agent on the config file (if any) and flag overrides; runs until SIGTERM/SIGINT. */
export function runCommand(): Command {
  return new Command('run')
    .description('run the agent (embedded defaults without --config)')
    .option('--config <file>', 'YAML config file (see examples/agent.yaml)')
    .option('--join-token-file <file>', `attest with the one-time join token in this file, kept 0600 (agent.join_token_path; or set ${JOIN_TOKEN_ENV})`)
    .option('--join-token <token>', `attest with this one-time join token; every local user can read it in /proc/<pid>/cmdline: prefer --join-token-file or ${JOIN_TOKEN_ENV}`)
    .option('--trust-domain <name>', 'trust domain of the server (agent.trust_domain)')
    .option('--server-address <host>', 'steeple-server agent API address (agent.server_address)')
    .option('--server-port <port>', 'steeple-server agent API port (agent.server_port)')
    .option('--data-dir <dir>', 'where the agent keeps its SVID, key and bundle (agent.data_dir)')
    .option('--socket-path <path>', 'Workload API socket; relative paths are under the data directory (agent.socket_path)')
    .option('--trust-bundle <file>', 'PEM bundle to trust the server with on first start (agent.trust_bundle_path)')
    .option('--insecure-bootstrap', 'trust the server without a bundle on first start; development only (agent.insecure_bootstrap)')
    .option('--log-level <level>', 'debug, info, warn or error (agent.log_level)')
    .action(async (flags: AgentFlags) => {
      let config: AgentConfig
      try {
        config = loadAgentConfig(flags, process.cwd(), { [JOIN_TOKEN_ENV]: takeJoinTokenEnv(process.env) })
      } catch (err) {
        fail(errorMessage(err))
        return
      }
      // Loaded here so that the workload-side commands do not pay for the agent's modules.
      const { runAgent } = await import('../agent.js')
      try {
        await runAgent(config)
      } catch (err) {
        fail(errorMessage(err))
        process.exit(1)
      }
      process.exit(0)
    })
}
