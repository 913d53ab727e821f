import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { ConfigError } from '../../../common/errors.js'
import * as s from '../../../common/schema.js'
import { mintX509Ca, pemDecodeAll, type TrustDomain } from '../../../spiffe/index.js'
import { definePlugin } from '../../registry.js'
import type { UpstreamAuthority, UpstreamMintResult } from '../types.js'
import type { KeyObject } from 'node:crypto'

interface DiskUpstreamFiles {
  /** The upstream CA certificate that signs, then any intermediates above it (PEM). */
  readonly certificatesDer: Buffer[]
  readonly privateKey: KeyObject
  /** Roots to publish: the bundle file's certificates, or the last certificate of the chain. */
  readonly rootsDer: Buffer[]
}

/**
 * An upstream CA whose certificate and key are files on disk (PEM). The server's CA becomes an
 * intermediate under it; the bundle publishes the upstream root.
 */
export class DiskUpstreamAuthority implements UpstreamAuthority {
  readonly #files: DiskUpstreamFiles

  private constructor(files: DiskUpstreamFiles) {
    this.#files = files
  }

  static async load(certFilePath: string, keyFilePath: string, bundleFilePath: string | undefined): Promise<DiskUpstreamAuthority> {
    const read = async (path: string, key: string) => {
      try {
        return await readFile(path, 'utf8')
      } catch (err) {
        throw new ConfigError(`plugins.UpstreamAuthority.disk.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
      }
    }
    const certificatesDer = pemDecodeAll(await read(certFilePath, 'cert_file_path'), 'CERTIFICATE').map((d) => Buffer.from(d))
    if (certificatesDer.length === 0) throw new ConfigError(`plugins.UpstreamAuthority.disk.cert_file_path: ${certFilePath} holds no PEM certificate`)
    let privateKey: KeyObject
    try {
      privateKey = createPrivateKey(await read(keyFilePath, 'key_file_path'))
    } catch (err) {
      if (err instanceof ConfigError) throw err
      throw new ConfigError(`plugins.UpstreamAuthority.disk.key_file_path: ${keyFilePath} is not a readable PEM private key`)
    }
    const signing = new X509Certificate(certificatesDer[0]!)
    if (!signing.ca) throw new ConfigError('plugins.UpstreamAuthority.disk.cert_file_path: the first certificate must be a CA certificate')
    if (!signing.checkPrivateKey(privateKey)) {
      throw new ConfigError('plugins.UpstreamAuthority.disk.key_file_path: the key does not match the upstream CA certificate')
    }
    const rootsDer =
      bundleFilePath !== undefined
        ? pemDecodeAll(await read(bundleFilePath, 'bundle_file_path'), 'CERTIFICATE').map((d) => Buffer.from(d))
        : [certificatesDer[certificatesDer.length - 1]!]
    if (rootsDer.length === 0) throw new ConfigError('plugins.UpstreamAuthority.disk.bundle_file_path: holds no PEM certificate')
    return new DiskUpstreamAuthority({ certificatesDer, privateKey, rootsDer })
  }

  async mintX509Ca(publicKey: KeyObject, trustDomain: TrustDomain, preferredTtlSeconds: number, now: Date): Promise<UpstreamMintResult> {
    const { certificatesDer, privateKey, rootsDer } = this.#files
    const minted = mintX509Ca({
      parent: { certificateDer: certificatesDer[0]!, intermediatesDer: certificatesDer.slice(1), privateKey },
      trustDomain,
      publicKey,
      ttlSeconds: preferredTtlSeconds,
      now,
    })
    // The chain a peer needs above the server CA: the upstream certificates that are not roots.
    const rootSet = new Set(rootsDer.map((r) => r.toString('base64')))
    const intermediatesDer = certificatesDer.filter((c) => !rootSet.has(c.toString('base64')))
    return { caCertificateDer: minted.certificateDer, intermediatesDer, upstreamRootsDer: rootsDer }
  }
}

export const diskUpstreamAuthority = definePlugin({
  kind: 'UpstreamAuthority',
  name: 'disk',
  config: s.object({
    /** PEM: the upstream CA certificate first, then any intermediates above it. */
    cert_file_path: s.string({ nonEmpty: true }),
    /** PEM private key of the upstream CA. */
    key_file_path: s.string({ nonEmpty: true }),
    /** PEM roots to publish in the bundle; default: the last certificate of cert_file_path. */
    bundle_file_path: s.optional(s.string({ nonEmpty: true })),
  }),
  create: (config) => DiskUpstreamAuthority.load(config.cert_file_path, config.key_file_path, config.bundle_file_path),
})
