import { Command, Option } from 'commander'
import type { Bundle__Output } from '../../proto/generated/steeple/common/v1/Bundle.js'
import { encodeSpiffeBundle, encodeX509BundlePem } from '../../spiffe/index.js'
import { bundleFromMessage } from '../api/convert.js'
import { withClient } from './client.js'
import { CliError, action, emit, readFlagFile, withCommonOptions, type CommonOptions } from './output.js'

type BundleFormat = 'pem' | 'spiffe'

function formatOption(description: string): Option {
  return new Option('--format <format>', description).choices(['pem', 'spiffe']).default('pem')
}

/** The bundle as text: PEM certificates (X.509 authorities only) or a SPIFFE bundle document. */
export function renderBundle(message: Bundle__Output, format: BundleFormat): string {
  const bundle = bundleFromMessage(message)
  return format === 'pem' ? encodeX509BundlePem(bundle) : encodeSpiffeBundle(bundle)
}

/** JSON output: the trust domain and the bundle (a PEM string, or the SPIFFE bundle object). */
function bundleJson(message: Bundle__Output, format: BundleFormat): { trust_domain: string; bundle: unknown } {
  const text = renderBundle(message, format)
  return { trust_domain: message.trust_domain, bundle: format === 'pem' ? text : (JSON.parse(text) as unknown) }
}

/** SPIRE's separator between the bundles of `bundle list`. */
function banner(trustDomain: string): string {
  const line = '*'.repeat(trustDomain.length + 4)
  return `${line}\n* ${trustDomain} *\n${line}\n`
}

/** The `bundle` command group: show (own), list, set, delete (federated). */
export function bundleCommand(): Command {
  const bundle = new Command('bundle').description('show the trust bundle; manage federated bundles')

  withCommonOptions(bundle.command('show').description('show the server\'s own trust bundle'))
    .addOption(formatOption('pem: CA certificates; spiffe: SPIFFE bundle (JWKS, X.509 and JWT keys)'))
    .action(
      action(async (opts: CommonOptions & { format: BundleFormat }) => {
        const message = await withClient(opts.socketPath, (client) => client.call('GetBundle', {}))
        emit(opts.output, bundleJson(message, opts.format), () => renderBundle(message, opts.format))
      }),
    )

  withCommonOptions(bundle.command('list').description('list federated bundles (other trust domains)'))
    .addOption(formatOption('pem or spiffe'))
    .action(
      action(async (opts: CommonOptions & { format: BundleFormat }) => {
        const { bundles } = await withClient(opts.socketPath, (client) => client.call('ListFederatedBundles', {}))
        emit(opts.output, { bundles: bundles.map((b) => bundleJson(b, opts.format)) }, () =>
          bundles.length === 0 ? 'No federated bundles' : bundles.map((b) => banner(b.trust_domain) + renderBundle(b, opts.format)).join('\n'),
        )
      }),
    )

  withCommonOptions(bundle.command('set').description('add or replace the bundle of another trust domain'))
    .option('--id <trust-domain>', 'trust domain of the bundle (name or spiffe://name)')
    .option('--path <file>', 'file holding the bundle')
    .addOption(formatOption('format of the file'))
    .action(
      action(async (opts: CommonOptions & { id?: string; path?: string; format: BundleFormat }) => {
        if (opts.id === undefined) throw new CliError('--id: is required')
        if (opts.path === undefined) throw new CliError('--path: is required')
        const trustDomain = opts.id
        const data = await readFlagFile('--path', opts.path)
        const saved = await withClient(opts.socketPath, (client) =>
          client.call('SetFederatedBundle', { trust_domain: trustDomain, data, format: opts.format }),
        )
        emit(opts.output, bundleJson(saved, opts.format), () => `Bundle set for ${saved.trust_domain}`)
      }),
    )

  withCommonOptions(bundle.command('delete').description('delete the bundle of another trust domain'))
    .option('--id <trust-domain>', 'trust domain of the bundle')
    .action(
      action(async (opts: CommonOptions & { id?: string }) => {
        if (opts.id === undefined) throw new CliError('--id: is required')
        const trustDomain = opts.id
        await withClient(opts.socketPath, (client) => client.call('DeleteFederatedBundle', { trust_domain: trustDomain }))
        emit(opts.output, { trust_domain: trustDomain, deleted: true }, () => `Bundle deleted for ${trustDomain}`)
      }),
    )
  return bundle
}
