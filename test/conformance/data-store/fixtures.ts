import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { expect } from 'vitest'
import type { SteepleError } from '../../../common/errors.js'
import type { AttestedNode, DataStore, NewRegistrationEntry, RegistrationEntry } from '../../../plugins/data-store/types.js'
import {
  createSelfSignedCa,
  parseSelector,
  parseSpiffeId,
  parseTrustDomain,
  type Bundle,
  type Selector,
  type SpiffeId,
  type TrustDomain,
} from '../../../spiffe/index.js'
import { buildEntry } from '../../fixtures/entries.js'

/** What an implementation hands the suite for each test: a fresh, empty store. */
export interface DataStoreHarness {
  readonly store: DataStore
  /** Closes every store the harness opened (whether or not a test closed it) and removes files. */
  cleanup(): Promise<void>
  /**
   * Opens another store on the same database, as a second server would. Required when the suite
   * runs with `sharedDatabase: true`.
   */
  another?(): Promise<DataStore>
}

export interface DataStoreSuiteOptions {
  /** The store's clock: it must stamp createdAt and change-event times with it. */
  readonly clock: () => Date
}

export type DataStoreFactory = (options: DataStoreSuiteOptions) => Promise<DataStoreHarness>

/** A clock the tests move by hand; every reading is a fresh Date. */
export class TestClock {
  #ms: number

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.#ms = start
  }

  readonly now = (): Date => new Date(this.#ms)

  advance(ms: number): Date {
    this.#ms += ms
    return this.now()
  }
}

/** What one test works with. */
export interface SuiteContext {
  readonly store: DataStore
  readonly clock: TestClock
  readonly harness: DataStoreHarness
}

export const TD = parseTrustDomain('example.org')
export const FEDERATED_TD = parseTrustDomain('fed.example')
export const OTHER_TD = parseTrustDomain('other.example')

/** `spiffe://example.org<path>` */
export function id(path: string): SpiffeId {
  return parseSpiffeId(`spiffe://example.org${path}`)
}

export function sels(...texts: string[]): Selector[] {
  return texts.map(parseSelector)
}

/** An entry with every field at its empty value, then `fields`. */
export function newEntry(fields: Partial<NewRegistrationEntry> = {}): NewRegistrationEntry {
  return buildEntry({ spiffeId: id('/workload/a'), parentId: id('/agent/a'), selectors: sels('unix:uid:1000'), ...fields })
}

/** An entry with every field set to something other than its default. */
export function fullEntry(clock: TestClock): NewRegistrationEntry {
  return newEntry({
    id: 'entry-full',
    spiffeId: id('/billing/api'),
    parentId: id('/agent/node-1'),
    selectors: sels('unix:uid:1000', 'docker:label:app:billing', 'unix:gid:50'),
    x509SvidTtlSeconds: 3600,
    jwtSvidTtlSeconds: 300,
    dnsNames: ['api.billing.example', 'billing.internal'],
    federatesWith: [FEDERATED_TD, OTHER_TD],
    admin: true,
    downstream: true,
    expiresAt: new Date(clock.now().getTime() + 86_400_000),
    hint: 'external',
    storeSvid: true,
    owner: 'team-billing',
    description: 'serves the billing API to the AI agent "ledger"',
  })
}

const time = (d: Date | undefined): string | undefined => d?.toISOString()

/**
 * A plain view of an entry for `toEqual`: SpiffeId, TrustDomain and Selector keep their state in
 * #private fields, which toEqual does not see, so comparing them directly could never fail.
 */
export function entryView(e: RegistrationEntry) {
  return {
    id: e.id,
    spiffeId: e.spiffeId.toString(),
    parentId: e.parentId.toString(),
    selectors: e.selectors.map((s) => s.toString()),
    x509SvidTtlSeconds: e.x509SvidTtlSeconds,
    jwtSvidTtlSeconds: e.jwtSvidTtlSeconds,
    dnsNames: [...e.dnsNames],
    federatesWith: e.federatesWith.map((td) => td.name),
    admin: e.admin,
    downstream: e.downstream,
    expiresAt: time(e.expiresAt),
    hint: e.hint,
    storeSvid: e.storeSvid,
    revisionNumber: e.revisionNumber,
    createdAt: time(e.createdAt),
    owner: e.owner,
    description: e.description,
  }
}

/** The view an entry created from `input` should have (selectors sorted, no duplicates). */
export function expectedView(input: NewRegistrationEntry, extra: { id: string; revisionNumber: number; createdAt: Date }) {
  const selectors = [...new Set(input.selectors.map((s) => s.toString()))].sort(compareSelectorText)
  return entryView({ ...input, ...extra, selectors: selectors.map((s) => parseSelector(s)) })
}

function compareSelectorText(a: string, b: string): number {
  const [ta, va] = splitSelector(a)
  const [tb, vb] = splitSelector(b)
  if (ta !== tb) return ta < tb ? -1 : 1
  if (va !== vb) return va < vb ? -1 : 1
  return 0
}

function splitSelector(s: string): [string, string] {
  const i = s.indexOf(':')
  return [s.slice(0, i), s.slice(i + 1)]
}

export type NewNode = Omit<AttestedNode, 'createdAt'>

export function newNode(fields: Partial<NewNode> = {}): NewNode {
  return {
    spiffeId: id('/spire/agent/join_token/abc'),
    attestationType: 'join_token',
    selectors: [],
    certSerial: '0a1b2c',
    certNotAfter: new Date(Date.UTC(2030, 0, 2)),
    newCertSerial: '',
    newCertNotAfter: undefined,
    banned: false,
    canReattest: false,
    lastSeenAt: undefined,
    ...fields,
  }
}

export function nodeView(n: AttestedNode) {
  return {
    spiffeId: n.spiffeId.toString(),
    attestationType: n.attestationType,
    selectors: n.selectors.map((s) => s.toString()),
    certSerial: n.certSerial,
    certNotAfter: time(n.certNotAfter),
    newCertSerial: n.newCertSerial,
    newCertNotAfter: time(n.newCertNotAfter),
    banned: n.banned,
    canReattest: n.canReattest,
    createdAt: time(n.createdAt),
    lastSeenAt: time(n.lastSeenAt),
  }
}

/** A plain view of a bundle: DER as hex, JWT keys as kid → SPKI hex. */
export function bundleView(b: Bundle) {
  return {
    trustDomain: b.trustDomain.name,
    x509Authorities: b.x509Authorities.map((der) => Buffer.from(der).toString('hex')),
    jwtAuthorities: [...b.jwtAuthorities.values()].map((a) => [a.kid, spkiHex(a.publicKey)]),
    sequenceNumber: b.sequenceNumber,
    refreshHintSeconds: b.refreshHintSeconds,
  }
}

export function spkiHex(key: KeyObject): string {
  return key.export({ format: 'der', type: 'spki' }).toString('hex')
}

export function ecKey(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
}

/** A self-signed CA certificate (DER) of `td` whose notAfter is `now + ttlSeconds` (whole seconds). */
export function caCertificate(now: Date, ttlSeconds: number, td: TrustDomain = TD): Buffer {
  return createSelfSignedCa({ trustDomain: td, privateKey: ecKey().privateKey, ttlSeconds, now }).certificateDer
}

/** Asserts a promise rejects with a SteepleError of `code` whose message matches `message`. */
export async function expectError(promise: Promise<unknown>, code: SteepleError['code'], message?: RegExp): Promise<SteepleError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, 'expected the call to reject').toBeInstanceOf(Error)
  expect((err as SteepleError).code).toBe(code)
  if (message !== undefined) expect((err as Error).message).toMatch(message)
  return err as SteepleError
}

/** Every page of a listing, following tokens. */
export async function allPages<T>(
  list: (page: { pageToken?: string; pageSize: number }) => Promise<{ items: T[]; nextPageToken?: string }>,
  pageSize: number,
): Promise<T[][]> {
  const pages: T[][] = []
  let pageToken: string | undefined
  for (;;) {
    const page = await list({ pageToken, pageSize })
    pages.push(page.items)
    if (page.nextPageToken === undefined) return pages
    if (pages.length > 1000) throw new Error('paging did not end')
    pageToken = page.nextPageToken
  }
}
