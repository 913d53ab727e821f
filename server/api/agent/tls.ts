import * as grpc from '@grpc/grpc-js'
import { generateKeyPairSync } from 'node:crypto'
import { errorMessage } from '../../../common/errors.js'
import type { Logger } from '../../../common/logger.js'
import { certificatesToPem, type Bundle, type MintedX509Svid } from '../../../spiffe/index.js'
import type { ServerCore } from '../../core.js'
import { serverId } from '../../registration/index.js'

type CaUpdate = grpc.experimental.CaCertificateUpdate
type IdentityUpdate = grpc.experimental.IdentityCertificateUpdate

/**
 * A grpc-js certificate provider whose values are set by its owner. It serves as identity and CA
 * provider at once. A new listener gets the current value on the next tick: grpc-js registers its
 * own watcher only after adding the listener (server-credentials.js `_addWatcher`), so a value
 * delivered synchronously would never reach the server.
 */
class SettableCertificateProvider implements grpc.experimental.CertificateProvider {
  #ca: CaUpdate | null = null
  #identity: IdentityUpdate | null = null
  readonly #caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>()
  readonly #identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>()

  setCa(update: CaUpdate): void {
    this.#ca = update
    for (const listener of this.#caListeners) listener(update)
  }

  setIdentity(update: IdentityUpdate): void {
    this.#identity = update
    for (const listener of this.#identityListeners) listener(update)
  }

  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.#caListeners.add(listener)
    process.nextTick(() => {
      if (this.#ca !== null && this.#caListeners.has(listener)) listener(this.#ca)
    })
  }

  removeCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.#caListeners.delete(listener)
  }

  addIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.#identityListeners.add(listener)
    process.nextTick(() => {
      if (this.#identity !== null && this.#identityListeners.has(listener)) listener(this.#identity)
    })
  }

  removeIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.#identityListeners.delete(listener)
  }
}

/** Retry delay after a failed re-mint of the server SVID. */
const RETRY_MS = 10_000

/**
 * The agent API's TLS material: the server's own X509-SVID (`spiffe://<td>/steeple/server`, a
 * fresh key each time, signed by the active CA), re-minted at half its life and whenever another
 * CA becomes active; and the trust domain's bundle (followed from its owner), which anchors client
 * certificates. Certificates change at runtime through grpc-js certificate providers, so
 * connections made after a change use the new material.
 */
export class ServerTls {
  readonly #core: ServerCore
  readonly #log: Logger
  readonly #provider = new SettableCertificateProvider()
  readonly #credentials: grpc.ServerCredentials
  #unsubscribe: (() => void) | undefined
  #svid: MintedX509Svid | undefined
  /** DER of the CA that signed the current server SVID. */
  #signedBy: Buffer | undefined
  /** CA certificates and intermediates of every CA seen active: agent SVIDs may be signed by any of them. */
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(core: ServerCore, log: Logger) {
    this.#core = core
    this.#log = log
    // grpc-js types the first parameter as the CA provider, but its constructor takes the identity
    // provider first (grpc-js 1.14 server-credentials.js); one provider serves both roles here.
    // requestCert follows from the CA provider; rejectUnauthorized is false so agents can attest
    // without a certificate, and each handler decides what it needs.
    this.#credentials = grpc.experimental.createCertificateProviderServerCredentials(this.#provider, this.#provider, false)
  }

  /** Takes the current bundle and mints the first SVID; then follows bundle changes. Rejects when it cannot mint. */
  async start(): Promise<void> {
    this.#setBundle(this.#core.ownBundle.current())
    this.#mint()
    this.#unsubscribe = this.#core.ownBundle.subscribe((bundle) => this.#onBundleChange(bundle))
  }

  /** Stops timers and listeners. */
  stop(): void {
    this.#stopped = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#unsubscribe?.()
  }

  /** For grpc `bindAsync`. */
  get credentials(): grpc.ServerCredentials {
    return this.#credentials
  }

  /** The server SVID presented now (leaf first). */
  get svidChain(): readonly Buffer[] {
    return this.#svid?.chainDer ?? []
  }

  /**
   * The CA's intermediates (with an upstream authority). Agents present only their leaf through
   * grpc-js's auth context, so these complete the path to the bundle.
   */
  intermediates(): Uint8Array[] {
    return this.#core.ca.intermediates()
  }

  /** Takes the new bundle and re-mints when the active CA changed. Never throws. */
  #onBundleChange(bundle: Bundle): void {
    if (this.#stopped) return
    this.#setBundle(bundle)
    try {
      const active = Buffer.from(this.#core.ca.activeAuthority().x509.certificateDer)
      if (this.#signedBy === undefined || !active.equals(this.#signedBy)) this.#mint()
    } catch (err) {
      this.#log.error('Server TLS refresh failed', { err: errorMessage(err) })
    }
  }

  #setBundle(bundle: Bundle): void {
    this.#provider.setCa({ caCertificate: Buffer.from(certificatesToPem(bundle.x509Authorities)) })
  }

  #mint(): void {
    const active = this.#core.ca.activeAuthority()
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const svid = this.#core.ca.signX509Svid({
      spiffeId: serverId(this.#core.config.trustDomain),
      publicKey: privateKey,
      ttlSeconds: this.#core.config.defaultX509SvidTtlSeconds,
    })
    this.#svid = svid
    this.#signedBy = Buffer.from(active.x509.certificateDer)
    this.#provider.setIdentity({
      certificate: Buffer.from(certificatesToPem(svid.chainDer)),
      privateKey: Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
    })
    this.#log.info('Server SVID minted', {
      spiffeId: svid.id.toString(),
      serial: svid.serial.toString(16),
      notAfter: svid.notAfter.toISOString(),
    })
    const now = this.#core.clock().getTime()
    this.#schedule(now + Math.max(1000, (svid.notAfter.getTime() - now) / 2))
  }

  #schedule(dueAtMs: number): void {
    if (this.#stopped) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    // setTimeout holds at most a signed 32-bit delay; a longer wait re-arms until it is due.
    const delayMs = Math.min(Math.max(0, dueAtMs - this.#core.clock().getTime()), 2 ** 31 - 1)
    this.#timer = setTimeout(() => this.#remint(dueAtMs), delayMs)
    this.#timer.unref()
  }

  #remint(dueAtMs: number): void {
    if (this.#core.clock().getTime() < dueAtMs) {
      this.#schedule(dueAtMs)
      return
    }
    try {
      this.#mint()
    } catch (err) {
      this.#log.error('Server SVID renewal failed', { err: errorMessage(err), retryInMs: RETRY_MS })
      this.#schedule(this.#core.clock().getTime() + RETRY_MS)
    }
  }
}
