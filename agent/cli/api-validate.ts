import { Command } from 'commander'
import { CliError, action, block, emit, formatTime, withClient, withCommonOptions, type CommonOptions } from './output.js'

/**
 * `api validate jwt`: has the agent validate a JWT-SVID for an audience (ValidateJWTSVID) and prints
 * its SPIFFE ID and claims; an invalid token is an error (exit 1) with the agent's reason.
 */
export function validateCommand(): Command {
  const validate = new Command('validate').description('have the agent validate an SVID')
  withCommonOptions(validate.command('jwt').description('validate a JWT-SVID for an audience'))
    .option('--audience <aud>', 'the audience the token must name (required)')
    .option('--svid <token>', 'the JWT-SVID (required)')
    .action(
      action(async (opts: CommonOptions & { audience?: string; svid?: string }) => {
        if (opts.audience === undefined || opts.audience === '') throw new CliError('--audience: is required')
        if (opts.svid === undefined || opts.svid === '') throw new CliError('--svid: is required')
        const audience = opts.audience
        const token = opts.svid.trim()
        const result = await withClient(opts, (client, signal) => client.validateJwtSvid({ audience, token, signal }))
        const claims = result.claims
        const exp = typeof claims['exp'] === 'number' ? formatTime(new Date(claims['exp'] * 1000)) : undefined
        emit(opts.output, { spiffe_id: result.id.toString(), claims }, () =>
          'SVID is valid.\n' +
            block([
              ['SPIFFE ID', result.id.toString()],
              ['Audience', Array.isArray(claims['aud']) ? claims['aud'].join(', ') : undefined],
              ['Expires at', exp],
              ['Claims', JSON.stringify(claims)],
            ]),
        )
      }),
    )
  return validate
}
