import type { KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { ConfigError, SteepleError, errorMessage, InternalError } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { AgentNodeAttestorPlugin } from '../../plugins/node-attestor/types.js'
import type { LoadedPlugin } from '../../plugins/registry.js'
import {
  createCsr,
  decodeCertificate,
  generateKeyPair,
  parseX509BundlePem,
  verifyX509Svid,
  type Bundle,
  type SpiffeId,
} from '../../spiffe/index.js'
import type { AgentConfig } from '../config.js'
import type { NodeAttestationClient } from '../client/server-api.js'
import { Backoff } from './backoff.js'
import type { OwnBundleChange } from './cache.js'
import type { Clock } from './clock.js'
import type { AgentStorage } from './storage.js'
import type { ManagerTiming } from './timing.js'

/** The agent's own credentials. */
export interface AgentSvid {
  readonly id: SpiffeId
  readonly chainDer: readonly Uint8Array[]
  readonly privateKey: KeyObject
  readonly notBefore: Date
  readonly notAfter: Date
}

/** An agent SVID and the bundle of the agent's trust domain it chains to. */
export interface NodeCredentials {
  readonly svid: AgentSvid
  readonly bundle: Bundle
}

/**
 * The agent SVID from its chain, checked to be an X509-SVID chaining to `bundle` (at its own start
 * time: expiry is the caller's decision).
 * @throws SpiffeError when it is not.
 */
export function agentSvidFrom(chainDer: readonly Uint8Array[], privateKey: KeyObject, bundle: Bundle): AgentSvid {
  const leaf = decodeCertificate(chainDer[0]!)
  const { id } = verifyX509Svid(chainDer, bundle, { now: leaf.notBefore })
  return { id, chainDer: [...chainDer], privateKey, notBefore: leaf.notBefore, notAfter: leaf.notAfter }
}

export interface NodeBootstrapOptions {
  readonly config: Pick<AgentConfig, 'trustDomain' | 'serverAddress' | 'serverPort' | 'dataDir' | 'trustBundlePath' | 'insecureBootstrap'>
  readonly nodeAttestor: LoadedPlugin<AgentNodeAttestorPlugin>
  readonly client: NodeAttestationClient
  readonly storage: AgentStorage
  readonly clock: Clock
  readonly random: () => number
  readonly timing: Pick<ManagerTiming, 'attestRetryMs' | 'retryInitialMs'>
  readonly log: Logger
}

/** Why the stored or bootstrap material cannot be used: stop with this, never trust silently. */
function noTrust(dataDir: string): ConfigError {
  return new ConfigError(
    `agent: no trust bundle for the first start: set agent.trust_bundle_path (--trust-bundle FILE) to the server's bundle (\`steeple-server bundle show\`), ` +
      `or agent.insecure_bootstrap (--insecure-bootstrap) for development; nothing is stored in ${dataDir} yet`,
  )
}

/**
 * Node bootstrap and trust (SPIRE's attestor/node): how the agent comes by its SVID and whom it
 * trusts as its server. On start the SVID and bundle in the data directory are used when they
 * chain and have not expired; otherwise the node is attested, trusting the server with the
 * configured bundle (or, explicitly, with none), and the result is stored before use so a crash
 * does not cost a one-time join token. Bundles that arrive later are kept for the next start.
 */
export class NodeBootstrap {
  readonly #o: NodeBootstrapOptions
  /** Aborted by close(): ends the wait between attestation attempts at once. */
  readonly #stopping = new AbortController()

  constructor(options: NodeBootstrapOptions) {
    this.#o = options
  }

  /**
   * The stored credentials when still usable, else those of a first attestation (retried while the
   * server is unreachable, for `attestRetryMs`).
   * @throws ConfigError without any way to trust the server or with an unusable trust bundle file;
   *   SteepleError from attestation (PERMISSION_DENIED: evidence refused, token used);
   *   FailedPreconditionError for unreadable files in the data directory.
   */
  async bootstrap(): Promise<NodeCredentials> {
    const { dataDir, trustBundlePath, insecureBootstrap } = this.#o.config
    const { storage, log } = this.#o
    const storedBundle = await storage.loadBundle()
    const stored = await storage.loadSvid()
    if (stored !== undefined && storedBundle !== undefined) {
      let svid: AgentSvid | undefined
      try {
        svid = agentSvidFrom(stored.chainDer, stored.privateKey, storedBundle)
      } catch (err) {
        log.warn('Stored agent SVID does not chain to the stored bundle; attesting again', { err: errorMessage(err) })
      }
      if (svid !== undefined && svid.notAfter.getTime() > this.#o.clock.now().getTime()) {
        log.info('Agent SVID loaded', { agentId: svid.id.toString(), expiresAt: svid.notAfter.toISOString(), dataDir })
        return { svid, bundle: storedBundle }
      }
      if (svid !== undefined) log.warn('Stored agent SVID has expired; attesting again', { expiredAt: svid.notAfter.toISOString() })
    }
    let trusted = storedBundle
    if (trusted === undefined) {
      if (trustBundlePath !== undefined) {
        trusted = await this.#readTrustBundle(trustBundlePath)
      } else if (insecureBootstrap) {
        log.warn('Insecure bootstrap: trusting whichever server answers first, and the bundle it sends', {
          server: `${this.#o.config.serverAddress}:${this.#o.config.serverPort}`,
        })
      } else {
        throw noTrust(dataDir)
      }
    }
    return this.#attestWithRetry(trusted)
  }

  /**
   * Attests the node once, trusting the server with `trusted` (undefined: insecure bootstrap), and
   * stores the new SVID and bundle before returning them.
   * @throws SteepleError from the server (PERMISSION_DENIED: evidence refused, token used,
   *   banned), INTERNAL when the SVID is not the one the server named; the attestor's errors.
   */
  async attest(trusted: Bundle | undefined): Promise<NodeCredentials> {
    const { client, storage, nodeAttestor, log } = this.#o
    if (trusted !== undefined) client.setBundle(trusted)
    const session = await nodeAttestor.instance.begin()
    const keys = generateKeyPair('ec-p256')
    const outcome = await client.attest(nodeAttestor.name, session, createCsr(keys.privateKey))
    // The SVID must chain to the bundle the server sent, and be the agent ID the server named.
    const svid = agentSvidFrom(outcome.svidChainDer, keys.privateKey, outcome.bundle)
    if (!svid.id.equals(outcome.agentId)) {
      throw new InternalError(`agent: the server issued an SVID for ${svid.id.toString()} but named ${outcome.agentId.toString()}`)
    }
    // Stored before use: a crash right after attestation must not cost the (one-time) join token.
    await storage.saveBundle(outcome.bundle)
    await storage.saveSvid({ chainDer: svid.chainDer, privateKey: svid.privateKey })
    log.info('Node attested', {
      agentId: svid.id.toString(),
      attestor: nodeAttestor.name,
      expiresAt: svid.notAfter.toISOString(),
      reattestable: outcome.reattestable,
    })
    return { svid, bundle: outcome.bundle }
  }

  /**
   * The server sent a changed bundle of the agent's own trust domain: new X.509 roots verify the
   * server from now on, and the bundle is stored for the next start.
   */
  trustBundle(change: OwnBundleChange): void {
    if (change.x509Changed) this.#o.client.setBundle(change.bundle)
    this.#o.storage.saveBundle(change.bundle).catch((err: unknown) => this.#o.log.error('Storing the trust bundle failed', { err: errorMessage(err) }))
  }

  /** Ends a first attestation's retries. */
  close(): void {
    this.#stopping.abort()
  }

  async #attestWithRetry(trusted: Bundle | undefined): Promise<NodeCredentials> {
    const { clock, timing, log } = this.#o
    const deadline = clock.now().getTime() + timing.attestRetryMs
    const backoff = new Backoff(timing.retryInitialMs, 5000, this.#o.random)
    for (;;) {
      try {
        return await this.attest(trusted)
      } catch (err) {
        const unavailable = err instanceof SteepleError && err.code === 'UNAVAILABLE'
        if (!unavailable || this.#stopping.signal.aborted || clock.now().getTime() >= deadline) throw err
        const waitMs = backoff.next()
        log.warn('Server unreachable for attestation; retrying', { err: errorMessage(err), retryInMs: waitMs })
        await clock.sleep(waitMs, this.#stopping.signal)
      }
    }
  }

  async #readTrustBundle(path: string): Promise<Bundle> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      throw new ConfigError(`agent.trust_bundle_path: cannot read ${path}: ${errorMessage(err)}`, { cause: err })
    }
    try {
      const bundle = parseX509BundlePem(this.#o.config.trustDomain, text)
      if (bundle.x509Authorities.length === 0) throw new Error('no certificate in it')
      return bundle
    } catch (err) {
      throw new ConfigError(`agent.trust_bundle_path: ${path} is not a PEM bundle of CA certificates: ${errorMessage(err)}`, { cause: err })
    }
  }
}
