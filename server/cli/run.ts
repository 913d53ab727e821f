import { Command } from 'commander'
import { errorMessage } from '../../common/errors.js'
import { loadServerConfig, type ServerConfig, type ServerFlags } from '../config.js'
import { fail } from './output.js'

/** `run`: starts the server on the config file (if any) and flag overrides; runs until SIGTERM/SIGINT. */
export function runCommand(): Command {
  return new Command('run')
    .description('run the server (embedded defaults without --config)')
    .option('--config <file>', 'YAML config file (see examples/server.yaml)')
    .option('--trust-domain <name>', 'trust domain served (server.trust_domain)')
    .option('--data-dir <dir>', 'database, keys and admin socket directory (server.data_dir)')
    .option('--socket-path <path>', 'admin API socket; relative paths are under the data directory (server.socket_path)')
    .option('--bind-address <ip>', 'agent API address (server.bind_address)')
    .option('--bind-port <port>', 'agent API port; 0 picks a free one (server.bind_port)')
    .option('--log-level <level>', 'debug, info, warn or error (server.log_level)')
    .option('--metrics-port <port>', 'serve /metrics, /live and /ready on 127.0.0.1:<port> (server.metrics_port)')
    .action(async (flags: ServerFlags) => {
      let config: ServerConfig
      try {
        config = loadServerConfig(flags)
      } catch (err) {
        fail(errorMessage(err))
        return
      }
      // Loaded here so that the operator commands do not pay for the server's modules.
      const { runServer } = await import('../server.js')
      try {
        await runServer(config)
      } catch (err) {
        fail(errorMessage(err))
        process.exit(1)
      }
      process.exit(0)
    })
}
