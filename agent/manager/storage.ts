import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import { mkdir, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { FailedPreconditionError, errorMessage } from '../../common/errors.js'
import { writeFileAtomic } from '../../common/fs.js'
import {
  certificatesToPem,
  encodeSpiffeBundle,
  parseSpiffeBundle,
  pemDecodeAll,
  type Bundle,
  type TrustDomain,
} from '../../spiffe/index.js'

/** File names in the agent's data directory. */
export const AGENT_FILES = Object.freeze({
  /** The agent SVID chain, leaf first (PEM). */
  svid: 'agent_svid.pem',
  /** The agent SVID's private key (PKCS#8 PEM). */
  key: 'agent_svid.key',
  /** The trust domain's bundle, X.509 and JWT authorities (SPIFFE bundle JSON). */
  bundle: 'bundle.spiffe.json',
})

/** The agent's own SVID as stored. */
export interface StoredAgentSvid {
  /** Leaf first (DER). */
  readonly chainDer: readonly Uint8Array[]
  readonly privateKey: KeyObject
}

/**
 * What the agent keeps across restarts, so a restart needs no new join token: its SVID and key,
 * and the bundle it trusts the server with. Every file is written atomically with mode 0600: the key
 * is a credential, and the bundle decides whom the agent trusts. The directory is created 0755, not
 * 0700, because the default Workload API socket lives in it and workloads of other users must reach it.
 */
export class AgentStorage {
  readonly #dir: string
  readonly #trustDomain: TrustDomain

  constructor(dataDir: string, trustDomain: TrustDomain) {
    this.#dir = dataDir
    this.#trustDomain = trustDomain
  }

  get dataDir(): string {
    return this.#dir
  }

  /**
   * The stored SVID and key, or undefined when none is stored.
   * @throws FailedPreconditionError naming the file when one exists but cannot be read or parsed, or
   *   when the key is not the leaf certificate's (a corrupt credential is never silently replaced).
   */
  async loadSvid(): Promise<StoredAgentSvid | undefined> {
    const certPath = join(this.#dir, AGENT_FILES.svid)
    const keyPath = join(this.#dir, AGENT_FILES.key)
    const [certPem, keyPem] = await Promise.all([readOptional(certPath), readOptional(keyPath)])
    if (certPem === undefined && keyPem === undefined) return undefined
    if (certPem === undefined || keyPem === undefined) {
      throw new FailedPreconditionError(
        `agent: ${certPem === undefined ? certPath : keyPath} is missing while ${certPem === undefined ? keyPath : certPath} exists; remove both to attest again`,
      )
    }
    let chainDer: Uint8Array[]
    try {
      chainDer = pemDecodeAll(certPem, 'CERTIFICATE')
    } catch (err) {
      throw new FailedPreconditionError(`agent: ${certPath} is not a PEM certificate chain: ${errorMessage(err)}`, { cause: err })
    }
    if (chainDer.length === 0) throw new FailedPreconditionError(`agent: ${certPath} holds no certificate`)
    let privateKey: KeyObject
    try {
      privateKey = createPrivateKey(keyPem)
    } catch (err) {
      // node:crypto's message is OpenSSL's text; the rule is said here, its error kept as cause.
      throw new FailedPreconditionError(`agent: ${keyPath} must hold a PEM private key`, { cause: err })
    }
    // saveSvid writes the key first: a crash before the certificate leaves a new key beside the old
    // certificate, which must be refused here rather than fail later as an opaque TLS error.
    let leaf: X509Certificate
    try {
      leaf = new X509Certificate(chainDer[0]!)
    } catch (err) {
      throw new FailedPreconditionError(`agent: ${certPath}: the first certificate must be a DER X.509 certificate`, { cause: err })
    }
    if (!leaf.checkPrivateKey(privateKey)) {
      throw new FailedPreconditionError(`agent: ${keyPath} is not the private key of the certificate in ${certPath}; remove both to attest again`)
    }
    return { chainDer, privateKey }
  }

  /** Stores the SVID and key (key first, so a crash in between leaves a pair that fails loudly, not a wrong pair). */
  async saveSvid(svid: StoredAgentSvid): Promise<void> {
    await this.#ensureDir()
    await writeFileAtomic(join(this.#dir, AGENT_FILES.key), svid.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)
    await writeFileAtomic(join(this.#dir, AGENT_FILES.svid), certificatesToPem(svid.chainDer))
  }

  /** Removes the stored SVID and key (after the server refused them for good). */
  async deleteSvid(): Promise<void> {
    for (const name of [AGENT_FILES.svid, AGENT_FILES.key]) {
      await unlink(join(this.#dir, name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err
      })
    }
  }

  /**
   * The stored bundle of the agent's trust domain, or undefined when none is stored.
   * @throws FailedPreconditionError naming the file, and the member and rule the bundle parser
   *   reported, when it exists but does not parse.
   */
  async loadBundle(): Promise<Bundle | undefined> {
    const path = join(this.#dir, AGENT_FILES.bundle)
    const text = await readOptional(path)
    if (text === undefined) return undefined
    try {
      return parseSpiffeBundle(this.#trustDomain, text)
    } catch (err) {
      throw new FailedPreconditionError(`agent: ${path} is not a SPIFFE bundle of ${this.#trustDomain.name}: ${errorMessage(err)}`, { cause: err })
    }
  }

  async saveBundle(bundle: Bundle): Promise<void> {
    await this.#ensureDir()
    await writeFileAtomic(join(this.#dir, AGENT_FILES.bundle), encodeSpiffeBundle(bundle))
  }

  async #ensureDir(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o755 })
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new FailedPreconditionError(`agent: cannot read ${path}: ${errorMessage(err)}`, { cause: err })
  }
}
