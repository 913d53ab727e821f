import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto'
import { NotFoundError } from '../../../common/errors.js'
import { Bundle, parseTrustDomain, type JwtAuthority, type TrustDomain } from '../../../spiffe/index.js'
import type { BundleStore } from '../types.js'
import { toMs, type Connection } from './connection.js'

interface BundleRow {
  trust_domain: string
  sequence_number: string | null
  refresh_hint_seconds: number | null
}

interface X509Row {
  trust_domain: string
  der: Buffer
}

interface JwtRow {
  trust_domain: string
  kid: string
  spki_der: Buffer
}

const SELECT_ONE = 'SELECT trust_domain, sequence_number, refresh_hint_seconds FROM bundles WHERE trust_domain = ?'
const SELECT_X509 = 'SELECT trust_domain, der FROM bundle_x509_authorities WHERE trust_domain = ? ORDER BY position'
const SELECT_JWT = 'SELECT trust_domain, kid, spki_der FROM bundle_jwt_authorities WHERE trust_domain = ? ORDER BY position'
const UPSERT = `INSERT INTO bundles (trust_domain, sequence_number, refresh_hint_seconds, updated_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (trust_domain) DO UPDATE SET sequence_number = excluded.sequence_number,
  refresh_hint_seconds = excluded.refresh_hint_seconds, updated_at = excluded.updated_at`

function spkiDer(key: KeyObject): Buffer {
  if (key.type === 'secret') throw new TypeError('datastore: a JWT authority must hold a public key')
  return (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'der', type: 'spki' })
}

function toBundle(trustDomain: TrustDomain, row: BundleRow, x509: readonly X509Row[], jwt: readonly JwtRow[]): Bundle {
  return new Bundle(trustDomain, {
    x509Authorities: x509.map((r) => r.der),
    jwtAuthorities: jwt.map((r) => ({ kid: r.kid, publicKey: createPublicKey({ key: r.spki_der, format: 'der', type: 'spki' }) })),
    sequenceNumber: row.sequence_number === null ? undefined : BigInt(row.sequence_number),
    refreshHintSeconds: row.refresh_hint_seconds ?? undefined,
  })
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}

/** The certificate's notAfter, or undefined when the DER does not parse. */
function notAfter(der: Uint8Array): Date | undefined {
  try {
    return new Date(new X509Certificate(der).validTo)
  } catch {
    return undefined
  }
}

/**
 * Trust bundles in `bundles` plus one row per authority, in publication order. Bundles are small,
 * so every write rewrites a bundle's authority rows.
 */
export class SqliteBundleStore implements BundleStore {
  readonly #c: Connection

  constructor(conn: Connection) {
    this.#c = conn
  }

  async set(bundle: Bundle): Promise<Bundle> {
    return this.#c.write(() => this.#put(bundle))
  }

  async append(bundle: Bundle): Promise<Bundle> {
    return this.#c.write(() => {
      const current = this.#read(bundle.trustDomain)
      const x509 = [...(current?.x509Authorities ?? [])]
      for (const der of bundle.x509Authorities) if (!x509.some((d) => sameBytes(d, der))) x509.push(der)
      const jwt = new Map<string, JwtAuthority>(current?.jwtAuthorities ?? [])
      for (const [kid, authority] of bundle.jwtAuthorities) if (!jwt.has(kid)) jwt.set(kid, authority)
      const added = x509.length > (current?.x509Authorities.length ?? 0) || jwt.size > (current?.jwtAuthorities.size ?? 0)
      if (current !== undefined && !added) return current
      const sequence = (current?.sequenceNumber ?? 0n) + (added ? 1n : 0n)
      return this.#put(
        new Bundle(bundle.trustDomain, {
          x509Authorities: x509,
          jwtAuthorities: [...jwt.values()],
          sequenceNumber: sequence,
          refreshHintSeconds: current === undefined ? bundle.refreshHintSeconds : current.refreshHintSeconds,
        }),
      )
    })
  }

  async get(trustDomain: TrustDomain): Promise<Bundle | undefined> {
    return this.#c.readSnapshot(() => this.#read(trustDomain))
  }

  async list(): Promise<Bundle[]> {
    return this.#c.readSnapshot(() => {
      const rows = this.#c.statement<BundleRow>('SELECT trust_domain, sequence_number, refresh_hint_seconds FROM bundles ORDER BY trust_domain').all()
      const x509 = groupBy(this.#c.statement<X509Row>('SELECT trust_domain, der FROM bundle_x509_authorities ORDER BY trust_domain, position').all())
      const jwt = groupBy(this.#c.statement<JwtRow>('SELECT trust_domain, kid, spki_der FROM bundle_jwt_authorities ORDER BY trust_domain, position').all())
      return rows.map((row) =>
        toBundle(parseTrustDomain(row.trust_domain), row, x509.get(row.trust_domain) ?? [], jwt.get(row.trust_domain) ?? []),
      )
    })
  }

  async delete(trustDomain: TrustDomain): Promise<void> {
    this.#c.write(() => {
      const { changes } = this.#c.statement('DELETE FROM bundles WHERE trust_domain = ?').run(trustDomain.name)
      if (changes === 0) throw new NotFoundError(`bundle: no bundle for trust domain "${trustDomain.name}"`)
      this.#c.appendEvent('bundle', trustDomain.name, toMs(this.#c.clock()))
    })
  }

  async pruneAuthorities(trustDomain: TrustDomain, before: Date, expiredJwtKids: readonly string[]): Promise<Bundle | undefined> {
    const beforeMs = toMs(before)
    const expiredKids = new Set(expiredJwtKids)
    return this.#c.write(() => {
      const current = this.#read(trustDomain)
      if (current === undefined) return undefined
      // An authority whose certificate does not parse is kept: it is not known to have expired.
      const x509 = current.x509Authorities.filter((der) => !((notAfter(der)?.getTime() ?? Infinity) < beforeMs))
      const jwt = [...current.jwtAuthorities.values()].filter((a) => !expiredKids.has(a.kid))
      if (x509.length === current.x509Authorities.length && jwt.length === current.jwtAuthorities.size) return current
      return this.#put(current.with({ x509Authorities: x509, jwtAuthorities: jwt, sequenceNumber: (current.sequenceNumber ?? 0n) + 1n }))
    })
  }

  #read(trustDomain: TrustDomain): Bundle | undefined {
    const row = this.#c.statement<BundleRow>(SELECT_ONE).get(trustDomain.name)
    if (row === undefined) return undefined
    const x509 = this.#c.statement<X509Row>(SELECT_X509).all(trustDomain.name)
    const jwt = this.#c.statement<JwtRow>(SELECT_JWT).all(trustDomain.name)
    return toBundle(trustDomain, row, x509, jwt)
  }

  /** Writes the whole bundle and its change event; call inside a write transaction. */
  #put(bundle: Bundle): Bundle {
    const name = bundle.trustDomain.name
    const at = toMs(this.#c.clock())
    this.#c.statement(UPSERT).run(name, bundle.sequenceNumber?.toString() ?? null, bundle.refreshHintSeconds ?? null, at)
    this.#c.statement('DELETE FROM bundle_x509_authorities WHERE trust_domain = ?').run(name)
    this.#c.statement('DELETE FROM bundle_jwt_authorities WHERE trust_domain = ?').run(name)
    const insertX509 = this.#c.statement('INSERT INTO bundle_x509_authorities (trust_domain, position, der) VALUES (?, ?, ?)')
    bundle.x509Authorities.forEach((der, i) => insertX509.run(name, i, Buffer.from(der.buffer, der.byteOffset, der.byteLength)))
    const insertJwt = this.#c.statement('INSERT INTO bundle_jwt_authorities (trust_domain, position, kid, spki_der) VALUES (?, ?, ?, ?)')
    let position = 0
    for (const authority of bundle.jwtAuthorities.values()) insertJwt.run(name, position++, authority.kid, spkiDer(authority.publicKey))
    this.#c.appendEvent('bundle', name, at)
    // Return what a read gives back (copied DER, keys rebuilt), not the caller's objects.
    return this.#read(bundle.trustDomain)!
  }
}

function groupBy<R extends { trust_domain: string }>(rows: readonly R[]): Map<string, R[]> {
  const out = new Map<string, R[]>()
  for (const row of rows) {
    let list = out.get(row.trust_domain)
    if (list === undefined) out.set(row.trust_domain, (list = []))
    list.push(row)
  }
  return out
}
