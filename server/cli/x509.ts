import { Command, Option } from 'commander'
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { writeFileAtomic } from '../../common/fs.js'
import { KEY_TYPES, certificatesToPem, createCsr, generateKeyPair, type KeyType } from '../../spiffe/index.js'
import { withClient } from './client.js'
import { CliError, INT32_MAX, action, collect, emit, formatUnixTime, wholeNumber, withCommonOptions, type CommonOptions } from './output.js'

interface MintOptions extends CommonOptions {
  spiffeId?: string
  ttl?: number
  dns?: string[]
  keyType: KeyType
  write?: string
}

/** The `x509` command group: mint. */
export function x509Command(): Command {
  const x509 = new Command('x509').description('mint X.509-SVIDs')
  withCommonOptions(x509.command('mint').description('mint an X.509-SVID for any workload ID of the trust domain (no entry needed)'))
    .option('--spiffe-id <id>', 'SPIFFE ID of the X.509-SVID')
    .option('--ttl <seconds>', 'lifetime (default: the server\'s default_x509_svid_ttl; capped at the CA\'s)', wholeNumber(1, INT32_MAX, 'seconds'))
    .option('--dns <name>', 'DNS name added to the certificate; repeatable', collect)
    .addOption(new Option('--key-type <type>', 'type of the key pair made for the SVID').choices([...KEY_TYPES]).default('ec-p256'))
    .option('--write <dir>', 'write svid.pem, key.pem (0600) and bundle.pem into this directory instead of printing them')
    .action(
      action(async (opts: MintOptions) => {
        if (opts.spiffeId === undefined) throw new CliError('--spiffe-id: is required')
        const spiffeId = opts.spiffeId
        // The key never leaves this process: the server signs a CSR for its public half.
        const { privateKey } = generateKeyPair(opts.keyType)
        const response = await withClient(opts.socketPath, (client) =>
          client.call('MintX509SVID', { spiffe_id: spiffeId, csr: createCsr(privateKey), ttl: opts.ttl ?? 0, dns_names: opts.dns ?? [] }),
        )
        const svidPem = certificatesToPem(response.svid_chain)
        const keyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
        const bundlePem = certificatesToPem(response.bundle)
        const expiresAt = Number(response.expires_at)
        if (opts.write === undefined) {
          emit(opts.output, { spiffe_id: spiffeId, expires_at: expiresAt, svid: svidPem, key: keyPem, bundle: bundlePem }, () =>
            `X509-SVID:\n${svidPem}\nPrivate key:\n${keyPem}\nRoot CAs:\n${bundlePem}`,
          )
          return
        }
        const dir = resolve(opts.write)
        await mkdir(dir, { recursive: true, mode: 0o700 })
        const paths = { svid: join(dir, 'svid.pem'), key: join(dir, 'key.pem'), bundle: join(dir, 'bundle.pem') }
        await writeFileAtomic(paths.key, keyPem, 0o600)
        await writeFileAtomic(paths.svid, svidPem, 0o644)
        await writeFileAtomic(paths.bundle, bundlePem, 0o644)
        emit(
          opts.output,
          { spiffe_id: spiffeId, expires_at: expiresAt, svid_path: paths.svid, key_path: paths.key, bundle_path: paths.bundle },
          () =>
            `X509-SVID for ${spiffeId} (expires ${formatUnixTime(expiresAt)}) written to ${paths.svid}\n` +
            `Private key written to ${paths.key}\nRoot CAs written to ${paths.bundle}`,
        )
      }),
    )
  return x509
}
