import { randomBytes, type KeyObject } from 'node:crypto'
import { FailedPreconditionError, errorMessage } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { BundleStore } from '../../plugins/data-store/types.js'
import type { KeyManager, KeyType, ManagedKey } from '../../plugins/key-manager/types.js'
import type { UpstreamAuthority } from '../../plugins/upstream-authority/types.js'
import {
  Bundle,
  createSelfSignedCa,
  decodeCertificate,
  mintX509Svid,
  signJwtSvid,
  type MintedX509Svid,
  type NameAttribute,
  type SignedJwtSvid,
  type SpiffeId,
  type TrustDomain,
  type X509Authority,
} from '../../spiffe/index.js'
import { CaJournal, type JournalSlot, type RetiredJwtKey } from './journal.js'

export interface CaManagerOptions {
  readonly trustDomain: TrustDomain
  readonly keyManager: KeyManager
  readonly bundles: BundleStore
  readonly upstream: UpstreamAuthority | undefined
  readonly keyType: KeyType
  readonly caTtlSeconds: number
  readonly subject: { readonly country: string; readonly organization: string; readonly commonName: string }
  readonly journalPath: string
  readonly clock: () => Date
  readonly log: Logger
}

/** The signing material of one slot, ready to use. */
interface LoadedSlot {
  readonly record: JournalSlot
  readonly x509: X509Authority
  readonly jwtKey: ManagedKey
  readonly notAfter: Date
}

/** Fractions of a CA's life at which the next one is prepared (published) and activated. */
const PREPARE_AT = 1 / 2
const ACTIVATE_AT = 5 / 6

/**
 * The server's CA: an X.509 CA and a JWT signing key per slot, rotated as SPIRE does. At half of
 * the active CA's life the next one is prepared and published in the bundle (so every verifier
 * learns it before anything is signed with it, FED-02); at 5/6 it becomes active; old
 * authorities stay in the bundle until they expire (FED-03). State survives restarts through the
 * key manager and the journal.
 */
export class CaManager {
  readonly #o: CaManagerOptions
  readonly #journal: CaJournal
  #slots: LoadedSlot[] = []
  /** JWT keys of reused slots, published until they expire. */
  #retired: RetiredJwtKey[] = []
  #rotating: Promise<void> | undefined
  readonly #listeners = new Set<() => Promise<void>>()

  constructor(options: CaManagerOptions) {
    this.#o = options
    this.#journal = new CaJournal(options.journalPath)
  }

  /** Loads the journal and keys; makes and activates a CA when there is no usable one. */
  async init(): Promise<void> {
    const journal = await this.#journal.load()
    const now = this.#o.clock()
    const loaded: LoadedSlot[] = []
    for (const record of journal.slots) {
      if (record.notAfter <= now.getTime()) continue
      const slot = await this.#loadSlot(record)
      if (slot === undefined) {
        this.#o.log.warn('CA slot dropped: its keys are missing from the key manager', { slot: record.slot })
        continue
      }
      loaded.push(slot)
    }
    this.#slots = loaded
    this.#retired = [...(journal.retiredJwtKeys ?? [])]
    for (const record of journal.slots) {
      if (!loaded.some((s) => s.record === record)) this.#retired.push({ kid: record.jwtKid, notAfter: record.notAfter })
    }
    if (this.#active() === undefined) {
      const prepared = this.#slots.find((s) => s.record.status === 'prepared')
      if (prepared !== undefined) this.#setStatus(prepared.record.slot, 'active')
      else this.#slots.push(await this.#prepare('active'))
      await this.#save()
    }
    // The store is the source of truth for publication; make sure ours are in it (idempotent).
    await this.#publish(this.#slots)
    await this.rotate()
  }

  /**
   * One rotation step at the clock's now: prepare, activate, and prune what expired. Safe to call
   * often (a timer does); concurrent calls share one run.
   */
  rotate(): Promise<void> {
    this.#rotating ??= this.#rotateOnce().finally(() => {
      this.#rotating = undefined
    })
    return this.#rotating
  }

  async #rotateOnce(): Promise<void> {
    const now = this.#o.clock().getTime()
    const active = this.#active()
    if (active === undefined) throw new FailedPreconditionError('ca: no active CA')
    // The schedule runs from issuance, not from the backdated notBefore (which would shift it
    // noticeably for short CA lifetimes).
    const start = active.record.issuedAt ?? active.record.notBefore
    const life = active.notAfter.getTime() - start
    const prepared = this.#slots.find((s) => s.record.status === 'prepared')
    let changed = false
    let published = false
    if (prepared === undefined && now >= start + life * PREPARE_AT) {
      const next = await this.#prepare('prepared')
      for (const reused of this.#slots.filter((s) => s.record.slot === next.record.slot)) {
        this.#retired.push({ kid: reused.record.jwtKid, notAfter: reused.record.notAfter })
      }
      this.#slots = [...this.#slots.filter((s) => s.record.slot !== next.record.slot), next]
      await this.#save()
      await this.#publish([next])
      this.#o.log.info('CA prepared', { slot: next.record.slot, notAfter: next.notAfter.toISOString(), jwtKid: next.record.jwtKid })
      changed = true
      published = true
    }
    const ready = this.#slots.find((s) => s.record.status === 'prepared')
    if (ready !== undefined && now >= start + life * ACTIVATE_AT) {
      // Every reader of the bundle holds a CA before anything is signed with it (FED-02).
      if (published) await this.#notify()
      this.#setStatus(active.record.slot, 'old')
      this.#setStatus(ready.record.slot, 'active')
      await this.#save()
      this.#o.log.info('CA activated', { slot: ready.record.slot, notAfter: ready.notAfter.toISOString(), jwtKid: ready.record.jwtKid })
      changed = true
    }
    const expiredKids = [
      ...this.#slots.filter((s) => s.notAfter.getTime() <= now).map((s) => s.record.jwtKid),
      ...this.#retired.filter((r) => r.notAfter <= now).map((r) => r.kid),
    ]
    if (expiredKids.length > 0) {
      this.#slots = this.#slots.filter((s) => s.notAfter.getTime() > now)
      this.#retired = this.#retired.filter((r) => r.notAfter > now)
      await this.#save()
    }
    // Old X.509 authorities leave the bundle only once expired, when no SVID can depend on them.
    const before = (await this.#o.bundles.get(this.#o.trustDomain))?.sequenceNumber
    const after = await this.#o.bundles.pruneAuthorities(
      this.#o.trustDomain,
      new Date(now),
      expiredKids,
    )
    if (changed || after?.sequenceNumber !== before) await this.#notify()
  }

  /** The CA that signs now. @throws FailedPreconditionError before init. */
  activeAuthority(): { x509: X509Authority; jwtKid: string; notAfter: Date } {
    const active = this.#active()
    if (active === undefined) throw new FailedPreconditionError('ca: no active CA')
    return { x509: active.x509, jwtKid: active.record.jwtKid, notAfter: active.notAfter }
  }

  /**
   * Signs an X.509-SVID with the active CA; the lifetime is capped at the CA's own (the minting
   * code caps notAfter), so no SVID outlives the CA that signed it.
   */
  signX509Svid(request: { spiffeId: SpiffeId; publicKey: KeyObject; ttlSeconds: number; dnsNames?: readonly string[] }): MintedX509Svid {
    const active = this.activeAuthority()
    return mintX509Svid({ ca: active.x509, ...request, now: this.#o.clock() })
  }

  /** Signs a JWT-SVID with the active JWT key, expiring no later than that key. */
  signJwtSvid(request: { spiffeId: SpiffeId; audience: readonly string[]; ttlSeconds: number }): SignedJwtSvid {
    const active = this.#active()
    if (active === undefined) throw new FailedPreconditionError('ca: no active CA')
    return signJwtSvid({
      ...request,
      key: { kid: active.record.jwtKid, privateKey: active.jwtKey.privateKey },
      now: this.#o.clock(),
      expiresAt: active.notAfter,
    })
  }

  /**
   * Calls `listener` whenever this server changed the bundle in the store or switched its active
   * CA, and waits for the promise it returns before {@link rotate} resolves (so readers hold the
   * new bundle by then). A rejection is logged.
   */
  onBundleChange(listener: () => Promise<void>): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * The CA certificates below the published roots that this server's slots sign with (empty with
   * a self-signed CA). A peer presenting only its leaf can be verified with these, including SVIDs
   * signed before a restart by a slot that is no longer active.
   */
  intermediates(): Uint8Array[] {
    return this.#slots.flatMap((s) =>
      s.record.roots.includes(s.record.caCertificate) ? [] : [s.x509.certificateDer, ...(s.x509.intermediatesDer ?? [])],
    )
  }

  /** Slot states, for health and metrics. */
  slots(): { slot: string; status: string; notAfter: Date }[] {
    return this.#slots.map((s) => ({ slot: s.record.slot, status: s.record.status, notAfter: s.notAfter }))
  }

  #active(): LoadedSlot | undefined {
    return this.#slots.find((s) => s.record.status === 'active')
  }

  #setStatus(slot: 'a' | 'b', status: JournalSlot['status']): void {
    this.#slots = this.#slots.map((s) => (s.record.slot === slot ? { ...s, record: { ...s.record, status } } : s))
  }

  async #loadSlot(record: JournalSlot): Promise<LoadedSlot | undefined> {
    const x509Key = await this.#o.keyManager.getKey(`x509-ca-${record.slot}`)
    const jwtKey = await this.#o.keyManager.getKey(`jwt-key-${record.slot}`)
    if (x509Key === undefined || jwtKey === undefined) return undefined
    return {
      record,
      x509: {
        certificateDer: Buffer.from(record.caCertificate, 'base64'),
        intermediatesDer: record.intermediates.map((c) => Buffer.from(c, 'base64')),
        privateKey: x509Key.privateKey,
      },
      jwtKey,
      notAfter: new Date(record.notAfter),
    }
  }

  /** Makes a new CA and JWT key in the free slot (the one not active). */
  async #prepare(status: 'prepared' | 'active'): Promise<LoadedSlot> {
    const activeSlot = this.#active()?.record.slot
    const slot: 'a' | 'b' = activeSlot === 'a' ? 'b' : 'a'
    const now = this.#o.clock()
    const x509Key = await this.#o.keyManager.generateKey(`x509-ca-${slot}`, this.#o.keyType)
    const jwtKey = await this.#o.keyManager.generateKey(`jwt-key-${slot}`, this.#o.keyType)
    let caCertificateDer: Uint8Array
    let intermediatesDer: readonly Uint8Array[]
    let rootsDer: readonly Uint8Array[]
    if (this.#o.upstream !== undefined) {
      const minted = await this.#o.upstream.mintX509Ca(x509Key.publicKey, this.#o.trustDomain, this.#o.caTtlSeconds, now)
      caCertificateDer = minted.caCertificateDer
      intermediatesDer = minted.intermediatesDer
      rootsDer = minted.upstreamRootsDer
    } else {
      const ca = createSelfSignedCa({
        trustDomain: this.#o.trustDomain,
        privateKey: x509Key.privateKey,
        ttlSeconds: this.#o.caTtlSeconds,
        subject: subjectAttributes(this.#o.subject),
        now,
      })
      caCertificateDer = ca.certificateDer
      intermediatesDer = []
      rootsDer = [ca.certificateDer]
    }
    const x509: X509Authority = { certificateDer: caCertificateDer, intermediatesDer, privateKey: x509Key.privateKey }
    const { notBefore, notAfter } = certificateValidity(caCertificateDer)
    const record: JournalSlot = {
      slot,
      status,
      caCertificate: Buffer.from(caCertificateDer).toString('base64'),
      intermediates: intermediatesDer.map((c) => Buffer.from(c).toString('base64')),
      roots: rootsDer.map((c) => Buffer.from(c).toString('base64')),
      jwtKid: randomBytes(24).toString('base64url'),
      notBefore: notBefore.getTime(),
      notAfter: notAfter.getTime(),
      issuedAt: now.getTime(),
    }
    return { record, x509, jwtKey, notAfter }
  }

  async #publish(slots: readonly LoadedSlot[]): Promise<void> {
    if (slots.length === 0) return
    await this.#o.bundles.append(
      new Bundle(this.#o.trustDomain, {
        x509Authorities: slots.flatMap((s) => s.record.roots.map((r) => Buffer.from(r, 'base64'))),
        jwtAuthorities: slots.map((s) => ({ kid: s.record.jwtKid, publicKey: s.jwtKey.publicKey })),
      }),
    )
  }

  async #save(): Promise<void> {
    await this.#journal.save({ version: 1, slots: this.#slots.map((s) => s.record), retiredJwtKeys: this.#retired })
  }

  async #notify(): Promise<void> {
    const results = await Promise.allSettled([...this.#listeners].map((listener) => listener()))
    for (const r of results) if (r.status === 'rejected') this.#o.log.error('Bundle change listener failed', { err: errorMessage(r.reason) })
  }
}

/** The configured subject plus a random serialNumber, so that successive CAs never share a name. */
function subjectAttributes(subject: CaManagerOptions['subject']): NameAttribute[] {
  const attributes: NameAttribute[] = []
  if (subject.country !== '') attributes.push({ type: 'C', value: subject.country })
  if (subject.organization !== '') attributes.push({ type: 'O', value: subject.organization })
  if (subject.commonName !== '') attributes.push({ type: 'CN', value: subject.commonName })
  attributes.push({ type: 'serialNumber', value: randomBytes(8).toString('hex') })
  return attributes
}

function certificateValidity(der: Uint8Array): { notBefore: Date; notAfter: Date } {
  const fields = decodeCertificate(der)
  return { notBefore: fields.notBefore, notAfter: fields.notAfter }
}
