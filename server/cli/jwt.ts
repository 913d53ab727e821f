import { Command } from 'commander'
import { withClient } from './client.js'
import { CliError, INT32_MAX, action, collect, emit, wholeNumber, withCommonOptions, type CommonOptions } from './output.js'

/** The `jwt` command group: mint. */
export function jwtCommand(): Command {
  const jwt = new Command('jwt').description('mint JWT-SVIDs')
  withCommonOptions(jwt.command('mint').description('mint a JWT-SVID for any workload ID of the trust domain (no entry needed)'))
    .option('--spiffe-id <id>', 'SPIFFE ID of the JWT-SVID (sub)')
    .option('--audience <aud>', 'audience (aud); repeatable, at least one', collect)
    .option('--ttl <seconds>', 'lifetime (default: the server\'s default_jwt_svid_ttl)', wholeNumber(1, INT32_MAX, 'seconds'))
    .action(
      action(async (opts: CommonOptions & { spiffeId?: string; audience?: string[]; ttl?: number }) => {
        if (opts.spiffeId === undefined) throw new CliError('--spiffe-id: is required')
        if (opts.audience === undefined) throw new CliError('--audience: at least one is required')
        const spiffeId = opts.spiffeId
        const audience = opts.audience
        const response = await withClient(opts.socketPath, (client) => client.call('MintJWTSVID', { spiffe_id: spiffeId, audience, ttl: opts.ttl ?? 0 }))
        // Pretty output is the token alone, so `$(steeple-server jwt mint …)` is the token.
        emit(opts.output, { token: response.token, spiffe_id: spiffeId, audience, expires_at: Number(response.expires_at) }, () => response.token)
      }),
    )
  return jwt
}
