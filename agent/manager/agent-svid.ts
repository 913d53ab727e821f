import { FailedPreconditionError, errorMessage, type SteepleError } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import { createCsr, generateKeyPair, type Bundle } from '../../spiffe/index.js'
import { isRefusal, type AgentSvidClient } from '../client/server-api.js'
import type { Clock, ClockTimer } from './clock.js'
import { agentSvidFrom, type AgentSvid } from './node-attestation.js'
import type { AgentStorage } from './storage.js'

export interface AgentSvidRotatorOptions {
  readonly client: AgentSvidClient
  readonly storage: Pick<AgentStorage, 'saveSvid' | 'deleteSvid' | 'dataDir'>
  readonly clock: Clock
  readonly log: Logger
  /** The agent's own trust domain bundle now (a renewed SVID must chain to it). */
  readonly ownBundle: () => Bundle | undefined
  /** Attests the node again; resolves with the new SVID once it is stored. */
  readonly reattest: () => Promise<AgentSvid>
  /** A new SVID is in use (renewed or re-attested): streams opened with the old one should reopen. */
  readonly onNewSvid: () => void
  /**
   * Called once when the agent cannot go on: the server refused its SVID for good and attesting
   * again failed. The agent should stop.
   */
  readonly onFatal: (err: FailedPreconditionError) => void
}

/**
 * The agent SVID's renewal and re-attestation (SPIRE's svid/rotator): presents the SVID to the
 * server, renews it at half of its life (a fresh key each time, stored before use), retries a
 * failed renewal while the SVID still lasts, and when the server refuses the SVID (evicted, banned,
 * expired) attests again, where the method allows, or gives up and removes the refused SVID.
 */
export class AgentSvidRotator {
  readonly #o: AgentSvidRotatorOptions
  #svid: AgentSvid | undefined
  #timer: ClockTimer | undefined
  #reattesting: Promise<void> | undefined
  #closed = false
  #failed = false

  constructor(options: AgentSvidRotatorOptions) {
    this.#o = options
  }

  /** The SVID in use, undefined before the first one. */
  get svid(): AgentSvid | undefined {
    return this.#svid
  }

  /** Whether the agent had to stop because the server refused it. */
  get failed(): boolean {
    return this.#failed
  }

  /** Presents `svid` from now on (with the current bundle) and schedules its renewal. */
  use(svid: AgentSvid): void {
    this.#svid = svid
    this.#o.client.setSvid({ chainDer: svid.chainDer, privateKey: svid.privateKey })
    const own = this.#o.ownBundle()
    if (own !== undefined) this.#o.client.setBundle(own)
    this.#scheduleRenewal()
  }

  /**
   * The server refused the agent SVID: attests again (once for concurrent callers), or gives up.
   * Resolves when done either way.
   */
  rejected(err: SteepleError): Promise<void> {
    this.#reattesting ??= this.#reattest(err).finally(() => {
      this.#reattesting = undefined
    })
    return this.#reattesting
  }

  /** Stops renewing. Safe to call twice. */
  close(): void {
    this.#closed = true
    this.#timer?.cancel()
    this.#timer = undefined
  }

  #scheduleRenewal(delayMs?: number): void {
    this.#timer?.cancel()
    this.#timer = undefined
    const svid = this.#svid
    if (svid === undefined || this.#closed) return
    const start = svid.notBefore.getTime()
    const halfLife = start + (svid.notAfter.getTime() - start) / 2
    const waitMs = delayMs ?? Math.max(0, halfLife - this.#o.clock.now().getTime())
    this.#timer = this.#o.clock.setTimer(() => void this.#renew(), waitMs)
  }

  async #renew(): Promise<void> {
    if (this.#closed) return
    const { client, storage, clock, log } = this.#o
    const keys = generateKeyPair('ec-p256')
    try {
      const renewed = await client.renew(createCsr(keys.privateKey))
      const own = this.#o.ownBundle()
      if (own === undefined) throw new FailedPreconditionError('agent: no trust bundle to check the renewed SVID with')
      const svid = agentSvidFrom(renewed.svidChainDer, keys.privateKey, own)
      await storage.saveSvid({ chainDer: svid.chainDer, privateKey: svid.privateKey })
      this.use(svid)
      log.info('Agent SVID renewed', { agentId: svid.id.toString(), expiresAt: svid.notAfter.toISOString() })
      this.#o.onNewSvid()
    } catch (err) {
      if (isRefusal(err)) {
        void this.rejected(err)
        return
      }
      const retryMs = Math.min(30_000, Math.max(1000, ((this.#svid?.notAfter.getTime() ?? 0) - clock.now().getTime()) / 10))
      log.warn('Agent SVID renewal failed; retrying', { err: errorMessage(err), retryInMs: retryMs })
      this.#scheduleRenewal(retryMs)
    }
  }

  async #reattest(err: SteepleError): Promise<void> {
    const { storage, log } = this.#o
    log.warn('The server refused the agent SVID; attesting again', { err: errorMessage(err) })
    try {
      this.use(await this.#o.reattest())
      this.#o.onNewSvid()
    } catch (attestErr) {
      if (this.#closed) return
      log.error('The agent was refused by the server and cannot attest again; stopping', {
        err: errorMessage(err),
        attestErr: errorMessage(attestErr),
        dataDir: storage.dataDir,
      })
      await storage.deleteSvid().catch((e: unknown) => log.error('Removing the refused agent SVID failed', { err: errorMessage(e) }))
      this.#failed = true
      this.#o.onFatal(
        new FailedPreconditionError(
          `agent: the server refused this agent (${errorMessage(err)}) and attesting again failed (${errorMessage(attestErr)}); start it with new attestation evidence (a new join token)`,
          { cause: attestErr },
        ),
      )
    }
  }
}
