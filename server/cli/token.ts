import { Command } from 'commander'
import { withClient } from './client.js'
import { INT32_MAX, action, block, emit, formatUnixTime, wholeNumber, withCommonOptions, type CommonOptions } from './output.js'

/** The `token` command group: generate. */
export function tokenCommand(): Command {
  const token = new Command('token').description('manage join tokens')
  withCommonOptions(token.command('generate').description('generate a one-time join token for an agent'))
    .option('--spiffe-id <id>', 'alias the agent will also be known by (entries may name it as parent)')
    .option('--ttl <seconds>', 'how long the token can be used (default: the server\'s join_token_ttl)', wholeNumber(1, INT32_MAX, 'seconds'))
    .action(
      action(async (opts: CommonOptions & { spiffeId?: string; ttl?: number }) => {
        const response = await withClient(opts.socketPath, (client) =>
          client.call('CreateJoinToken', { ttl: opts.ttl ?? 0, spiffe_id: opts.spiffeId ?? '' }),
        )
        const json = {
          token: response.token,
          agent_id: response.agent_id,
          expires_at: Number(response.expires_at),
          ...(opts.spiffeId !== undefined && { alias_id: opts.spiffeId }),
        }
        emit(opts.output, json, () =>
          block([
            ['Token', json.token],
            ['Agent ID', json.agent_id],
            ['Alias ID', json.alias_id],
            ['Expires at', formatUnixTime(json.expires_at)],
          ]),
        )
      }),
    )
  return token
}
