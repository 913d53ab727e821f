import { InvalidArgumentError, NotFoundError, SteepleError, errorMessage, InternalError } from '../../common/errors.js'
import type { Logger } from '../../common/logger.js'
import type { AuditEvent, DataStore, Page, PageOf, RegistrationEntry } from '../../plugins/data-store/types.js'
import type { TrustDomain } from '../../spiffe/index.js'
import { recordAudit } from '../store/record-audit.js'
import {
  validateEntryFilter,
  validateEntryId,
  validateEntryUpdate,
  validateNewEntry,
  type EntryFilterInput,
  type EntryInput,
  type EntryValidationContext,
} from './validate.js'

/** The outcome of one item of a batch: the entry as stored (or as it was, for a delete), or why not. */
export type EntryResult =
  | { readonly index: number; readonly status: 'ok'; readonly entry: RegistrationEntry }
  | { readonly index: number; readonly status: 'error'; readonly error: SteepleError }

export interface RegistrationServiceOptions {
  /** Only `entries` and `audit` are used. */
  readonly store: Pick<DataStore, 'entries' | 'audit'>
  readonly trustDomain: TrustDomain
  readonly log: Logger
  readonly clock: () => Date
  /** Upper bound of an entry's `x509_svid_ttl` (e.g. the CA TTL); the int32 maximum when absent. */
  readonly maxX509SvidTtlSeconds?: number
  /** Upper bound of an entry's `jwt_svid_ttl`; the int32 maximum when absent. */
  readonly maxJwtSvidTtlSeconds?: number
  /**
   * Runs the writes of one batch call as one unit for whoever watches the store (the entry
   * cache's wake-up: one sync message per batch); runs them as they are when absent.
   */
  readonly writeBatch?: <T>(writes: () => Promise<T>) => Promise<T>
}

/**
 * Registration entries as operators manage them (the admin API and CLI call this): validation,
 * batches with a result per item, and an audit event for every write.
 *
 * Each item of a batch is validated completely and then written in one store call, so it either
 * takes effect entirely or not at all; items are independent of each other and run in order, so a
 * duplicate inside one batch fails on its second occurrence.
 */
export class RegistrationService {
  readonly #store: Pick<DataStore, 'entries' | 'audit'>
  readonly #trustDomain: TrustDomain
  readonly #log: Logger
  readonly #writeBatch: <T>(writes: () => Promise<T>) => Promise<T>
  readonly #clock: () => Date
  readonly #maxX509: number | undefined
  readonly #maxJwt: number | undefined

  constructor(opts: RegistrationServiceOptions) {
    this.#store = opts.store
    this.#trustDomain = opts.trustDomain
    this.#log = opts.log.child({ component: 'registration' })
    this.#clock = opts.clock
    this.#maxX509 = opts.maxX509SvidTtlSeconds
    this.#maxJwt = opts.maxJwtSvidTtlSeconds
    this.#writeBatch = opts.writeBatch ?? ((writes) => writes())
  }

  /**
   * Creates each entry of the batch. `actor` names who asks (`admin:uid:1000`) for the audit trail.
   * Never throws for a bad item: its result carries an InvalidArgumentError (validation) or an
   * AlreadyExistsError (same spiffe_id, parent_id and selectors as another entry, or a taken id).
   */
  async createEntries(inputs: readonly EntryInput[], actor: string): Promise<EntryResult[]> {
    return this.#batch(inputs, actor, 'entry.create', async (input) => {
      const entry = validateNewEntry(input, this.#validationContext())
      return this.#store.entries.create(entry)
    })
  }

  /**
   * Replaces each entry of the batch (keyed by `id`; fields left out take their defaults).
   * Item errors: InvalidArgumentError, NotFoundError, AlreadyExistsError.
   */
  async updateEntries(inputs: readonly EntryInput[], actor: string): Promise<EntryResult[]> {
    return this.#batch(inputs, actor, 'entry.update', async (input) => {
      const entry = validateEntryUpdate(input, this.#validationContext())
      return this.#store.entries.update(entry)
    })
  }

  /** Deletes each entry by ID; an item's entry is the deleted record. Item errors: InvalidArgumentError, NotFoundError. */
  async deleteEntries(ids: readonly string[], actor: string): Promise<EntryResult[]> {
    return this.#batch(ids, actor, 'entry.delete', async (id) => this.#store.entries.delete(validateEntryId(id)))
  }

  /**
   * The entry with this ID.
   * @throws InvalidArgumentError for an empty or malformed ID, NotFoundError when there is none.
   */
  async getEntry(id: string): Promise<RegistrationEntry> {
    const valid = validateEntryId(id)
    const entry = await this.#store.entries.get(valid)
    if (entry === undefined) throw new NotFoundError(`entry: no entry with id "${valid}"`)
    return entry
  }

  /**
   * Entries matching the filter, one page at a time (`pageSize` 0 or absent = all).
   * @throws InvalidArgumentError naming the filter field or `page_size`.
   */
  async listEntries(filter?: EntryFilterInput, page?: Page): Promise<PageOf<RegistrationEntry>> {
    const f = validateEntryFilter(filter)
    if (page?.pageSize !== undefined && !(Number.isSafeInteger(page.pageSize) && page.pageSize >= 0)) {
      throw new InvalidArgumentError('page_size: must be a whole number, 0 or more')
    }
    return this.#store.entries.list(f, page)
  }

  /** How many entries match the filter. @throws InvalidArgumentError naming the filter field. */
  async countEntries(filter?: EntryFilterInput): Promise<number> {
    return this.#store.entries.count(validateEntryFilter(filter))
  }

  #validationContext(): EntryValidationContext {
    return {
      trustDomain: this.#trustDomain,
      now: this.#clock(),
      ...(this.#maxX509 !== undefined && { maxX509SvidTtlSeconds: this.#maxX509 }),
      ...(this.#maxJwt !== undefined && { maxJwtSvidTtlSeconds: this.#maxJwt }),
    }
  }

  async #batch<T>(
    items: readonly T[],
    actor: string,
    action: 'entry.create' | 'entry.update' | 'entry.delete',
    write: (item: T) => Promise<RegistrationEntry>,
  ): Promise<EntryResult[]> {
    const run = async (): Promise<EntryResult[]> => {
      const results: EntryResult[] = []
      for (const [index, item] of items.entries()) {
        let entry: RegistrationEntry
        try {
          entry = await write(item)
        } catch (err) {
          results.push({ index, status: 'error', error: this.#itemError(err, action, index, actor) })
          continue
        }
        results.push({ index, status: 'ok', entry })
        this.#log.info(LOG_MESSAGES[action], {
          entryId: entry.id,
          spiffeId: entry.spiffeId.toString(),
          parentId: entry.parentId.toString(),
          actor,
        })
        await this.#audit(action, actor, entry)
      }
      return results
    }
    return this.#writeBatch(run)
  }

  #itemError(err: unknown, action: string, index: number, actor: string): SteepleError {
    if (err instanceof SteepleError) {
      this.#log.info('Entry request refused', { action, index, actor, err: err.message, code: err.code })
      return err
    }
    this.#log.error('Entry request failed', { action, index, actor, err: errorMessage(err) })
    return new InternalError('internal error', { cause: err })
  }

  // The store offers no transaction spanning the entry write and the audit append, so an audit
  // failure cannot undo a committed write: the write stands, and the failure is logged loudly.
  async #audit(action: string, actor: string, entry: RegistrationEntry): Promise<void> {
    const event: AuditEvent = {
      at: this.#clock(),
      action,
      actor,
      subject: entry.spiffeId.toString(),
      entryId: entry.id,
      details: {
        parentId: entry.parentId.toString(),
        selectors: entry.selectors.map((s) => s.toString()),
        revisionNumber: entry.revisionNumber,
      },
    }
    await recordAudit(this.#store.audit, this.#log, [event])
  }
}

const LOG_MESSAGES = {
  'entry.create': 'Entry created',
  'entry.update': 'Entry updated',
  'entry.delete': 'Entry deleted',
} as const
