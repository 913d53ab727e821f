import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../../common/fs.js'

/** Where a CA slot is in its life: published ahead of use, signing, or kept until it expires. */
export type SlotStatus = 'prepared' | 'active' | 'old'

/** One X.509 CA + JWT signing key pair of keys, rotated together. */
export interface JournalSlot {
  /** `a` or `b`: the key manager slots are `x509-ca-<slot>` and `jwt-key-<slot>`. */
  readonly slot: 'a' | 'b'
  readonly status: SlotStatus
  /** base64 DER of the CA certificate. */
  readonly caCertificate: string
  /** base64 DER certificates above the CA, up to but not including the root (upstream case). */
  readonly intermediates: readonly string[]
  /** base64 DER trust anchors published for this CA (the CA itself when self-signed). */
  readonly roots: readonly string[]
  readonly jwtKid: string
  /** Unix milliseconds. notBefore is backdated a little for clock skew. */
  readonly notBefore: number
  readonly notAfter: number
  /** When the CA was made (unix ms): its life for rotation is issuedAt → notAfter. */
  readonly issuedAt?: number
}

/** A JWT key whose slot was reused: its public half stays published until `notAfter`. */
export interface RetiredJwtKey {
  readonly kid: string
  /** Unix milliseconds. */
  readonly notAfter: number
}

export interface Journal {
  readonly version: 1
  readonly slots: readonly JournalSlot[]
  readonly retiredJwtKeys?: readonly RetiredJwtKey[]
}

const EMPTY: Journal = { version: 1, slots: [], retiredJwtKeys: [] }

/**
 * The CA journal: which keys and certificates the server's CA slots hold, so a restart resumes
 * the same CA instead of minting a new one. Keys stay in the key manager; this file holds only
 * public material and is written atomically.
 */
export class CaJournal {
  readonly #path: string

  constructor(path: string) {
    this.#path = path
  }

  async load(): Promise<Journal> {
    let text: string
    try {
      text = await readFile(this.#path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY
      throw err
    }
    const parsed = JSON.parse(text) as Journal
    if (parsed.version !== 1 || !Array.isArray(parsed.slots)) {
      throw new Error(`ca: journal ${this.#path} has an unknown format (version ${String(parsed.version)})`)
    }
    return parsed
  }

  async save(journal: Journal): Promise<void> {
    await writeFileAtomic(this.#path, JSON.stringify(journal, null, 2) + '\n', 0o600)
  }
}
