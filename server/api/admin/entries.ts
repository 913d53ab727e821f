import { InvalidArgumentError } from '../../../common/errors.js'
import type { CountResponse } from '../../../proto/generated/steeple/admin/v1/CountResponse.js'
import type { CreateEntriesRequest__Output } from '../../../proto/generated/steeple/admin/v1/CreateEntriesRequest.js'
import type { DeleteEntriesRequest__Output } from '../../../proto/generated/steeple/admin/v1/DeleteEntriesRequest.js'
import type { EntryResults } from '../../../proto/generated/steeple/admin/v1/EntryResults.js'
import type { GetEntryRequest__Output } from '../../../proto/generated/steeple/admin/v1/GetEntryRequest.js'
import type { ListEntriesRequest__Output } from '../../../proto/generated/steeple/admin/v1/ListEntriesRequest.js'
import type { ListEntriesResponse } from '../../../proto/generated/steeple/admin/v1/ListEntriesResponse.js'
import type { UpdateEntriesRequest__Output } from '../../../proto/generated/steeple/admin/v1/UpdateEntriesRequest.js'
import type { RegistrationEntry as EntryMessage, RegistrationEntry__Output } from '../../../proto/generated/steeple/common/v1/RegistrationEntry.js'
import type { EntryFilterInput, EntryInput, EntryResult } from '../../registration/index.js'
import { entryToMessage } from '../convert.js'
import type { AdminContext } from './common.js'
import { grpcStatusOf } from '../../../common/grpc-status.js'

/** Most items one create, update or delete call may carry. */
export const MAX_ENTRY_BATCH = 10_000

/**
 * The entry as the operator sent it, for the registration service to validate. Proto3 cannot
 * tell an empty field from an absent one; both mean "not given", which is what the validator
 * takes `''`, 0 and `[]` to mean as well.
 */
export function entryInputFromMessage(m: RegistrationEntry__Output): EntryInput {
  return {
    id: m.id,
    spiffe_id: m.spiffe_id,
    parent_id: m.parent_id,
    selectors: m.selectors.map((s) => ({ type: s.type, value: s.value })),
    x509_svid_ttl: m.x509_svid_ttl,
    jwt_svid_ttl: m.jwt_svid_ttl,
    dns_names: m.dns_names,
    federates_with: m.federates_with,
    admin: m.admin,
    downstream: m.downstream,
    expires_at: m.expires_at,
    hint: m.hint,
    store_svid: m.store_svid,
    owner: m.owner,
    description: m.description,
  }
}

function filterFromRequest(r: ListEntriesRequest__Output): EntryFilterInput {
  return {
    spiffe_id: r.spiffe_id,
    parent_id: r.parent_id,
    selectors: r.selectors.map((s) => ({ type: s.type, value: s.value })),
    match: r.match,
    hint: r.hint,
    owner: r.owner,
    federates_with: r.federates_with,
  }
}

function checkBatch(size: number, field: string): void {
  if (size === 0) throw InvalidArgumentError.forField(field, `at least one item is required`)
  if (size > MAX_ENTRY_BATCH) throw InvalidArgumentError.forField(field, `at most ${MAX_ENTRY_BATCH} items per call, got ${size}`)
}

async function toResults(ctx: AdminContext, results: readonly EntryResult[]): Promise<EntryResults> {
  return {
    results: results.map((r) =>
      r.status === 'ok'
        ? { index: r.index, status: { code: 0, message: 'OK' }, entry: entryToMessage(r.entry) }
        : { index: r.index, status: { code: grpcStatusOf(r.error), message: r.error.message } },
    ),
  }
}

/** CreateEntries, UpdateEntries, DeleteEntries, GetEntry, ListEntries, CountEntries. */
export class EntryHandlers {
  readonly #ctx: AdminContext

  constructor(ctx: AdminContext) {
    this.#ctx = ctx
  }

  /** One result per item, in order. @throws InvalidArgumentError for an empty or oversized batch. */
  async create(request: CreateEntriesRequest__Output): Promise<EntryResults> {
    checkBatch(request.entries.length, 'entries')
    const results = await this.#ctx.core.registration.createEntries(request.entries.map(entryInputFromMessage), this.#ctx.actor)
    return toResults(this.#ctx, results)
  }

  /** Full replacement of each entry by ID. @throws InvalidArgumentError for an empty or oversized batch. */
  async update(request: UpdateEntriesRequest__Output): Promise<EntryResults> {
    checkBatch(request.entries.length, 'entries')
    const results = await this.#ctx.core.registration.updateEntries(request.entries.map(entryInputFromMessage), this.#ctx.actor)
    return toResults(this.#ctx, results)
  }

  /** @throws InvalidArgumentError for an empty or oversized batch. */
  async delete(request: DeleteEntriesRequest__Output): Promise<EntryResults> {
    checkBatch(request.ids.length, 'ids')
    return toResults(this.#ctx, await this.#ctx.core.registration.deleteEntries(request.ids, this.#ctx.actor))
  }

  /** @throws InvalidArgumentError, NotFoundError. */
  async get(request: GetEntryRequest__Output): Promise<EntryMessage> {
    return entryToMessage(await this.#ctx.core.registration.getEntry(request.id))
  }

  /** One page (all entries when page_size is 0). @throws InvalidArgumentError naming the filter field. */
  async list(request: ListEntriesRequest__Output): Promise<ListEntriesResponse> {
    if (request.page_size < 0) throw new InvalidArgumentError('page_size: must be 0 or more')
    const page = await this.#ctx.core.registration.listEntries(filterFromRequest(request), {
      ...(request.page_token !== '' && { pageToken: request.page_token }),
      pageSize: request.page_size,
    })
    return { entries: page.items.map(entryToMessage), next_page_token: page.nextPageToken ?? '' }
  }

  /** @throws InvalidArgumentError naming the filter field. */
  async count(request: ListEntriesRequest__Output): Promise<CountResponse> {
    return { count: await this.#ctx.core.registration.countEntries(filterFromRequest(request)) }
  }
}
