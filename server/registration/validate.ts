import { InvalidArgumentError } from '../../common/errors.js'
import type {
  EntryFilter,
  NewRegistrationEntry,
  RegistrationEntry,
  SelectorMatch,
} from '../../plugins/data-store/types.js'
import {
  parseSelector,
  parseSpiffeId,
  parseTrustDomain,
  selectorFromParts,
  sortSelectors,
  type Selector,
  type SpiffeId,
  type TrustDomain,
} from '../../spiffe/index.js'
import { agentIdPrefix, isAgentId, isReservedId, isServerId, serverId } from './ids.js'
import { LIMITS, checkCount, checkText, type Limit } from './limits.js'

/**
 * Turns registration entries as operators write them (CLI flags, JSON batch files, gRPC messages:
 * snake_case keys, numbers that may arrive as strings) into the typed records the data store
 * takes. Validation is pure and complete before anything is written; the first broken rule is
 * thrown as an InvalidArgumentError whose message starts with the field: `selectors[1]: …`.
 * Sizes and counts are bounded by the table in limits.ts; free text must not contain control
 * characters. One concept, the rules of a valid entry, field by field: hence one file past 400 lines.
 */

/** Largest TTL when the context sets no bound: the wire field is an int32. */
export const MAX_TTL_SECONDS = 2 ** 31 - 1
// Unix seconds of 9999-12-31T23:59:59Z: later instants have no RFC 3339 form.
const MAX_EXPIRES_AT_SECONDS = 253402300799

/** A selector as `type:value` or as its two parts. */
export type SelectorInput = string | { readonly type: string; readonly value: string }

/**
 * One registration entry as an operator supplies it. Absent and `null` fields take their default
 * (empty, 0, false); `revision_number` and `created_at` are output fields, accepted so that
 * `entry show --output json` can be edited and fed back, and ignored.
 */
export interface EntryInput {
  /** Optional on create (a UUID is chosen); required on update. `''` = absent. */
  readonly id?: string | null
  readonly spiffe_id?: string | null
  readonly parent_id?: string | null
  readonly selectors?: readonly SelectorInput[] | null
  /** Seconds (a number or a decimal string); 0 = the server default. */
  readonly x509_svid_ttl?: number | string | null
  readonly jwt_svid_ttl?: number | string | null
  readonly dns_names?: readonly string[] | null
  /** Trust domain names (`example.com` or `spiffe://example.com`). */
  readonly federates_with?: readonly string[] | null
  readonly admin?: boolean | null
  readonly downstream?: boolean | null
  /** Unix seconds (number or decimal string; 0 = never), an RFC 3339 date-time, or a Date. */
  readonly expires_at?: number | string | Date | null
  readonly hint?: string | null
  readonly store_svid?: boolean | null
  readonly owner?: string | null
  readonly description?: string | null
  readonly revision_number?: unknown
  readonly created_at?: unknown
}

/** What validation needs to know about the server. */
export interface EntryValidationContext {
  /** The server's trust domain: every entry's IDs must be in it (SPIFFE-ID.md §4.1.2). */
  readonly trustDomain: TrustDomain
  /** Now, for `expires_at`. */
  readonly now: Date
  /** Upper bound of `x509_svid_ttl`; {@link MAX_TTL_SECONDS} when absent. */
  readonly maxX509SvidTtlSeconds?: number
  /** Upper bound of `jwt_svid_ttl`; {@link MAX_TTL_SECONDS} when absent. */
  readonly maxJwtSvidTtlSeconds?: number
}

/** A full replacement of an existing entry, keyed by its id (what `EntryStore.update` takes). */
export type EntryUpdate = Omit<RegistrationEntry, 'revisionNumber' | 'createdAt'>

/** The snake_case field names an entry input may carry (what `entry show --output json` prints). */
export const ENTRY_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'spiffe_id',
  'parent_id',
  'selectors',
  'x509_svid_ttl',
  'jwt_svid_ttl',
  'dns_names',
  'federates_with',
  'admin',
  'downstream',
  'expires_at',
  'hint',
  'store_svid',
  'owner',
  'description',
  'revision_number',
  'created_at',
])

function fail(field: string, rule: string): never {
  throw InvalidArgumentError.forField(field, `${rule}`)
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

/**
 * Validates an entry to create.
 * @throws InvalidArgumentError naming the field and the rule, e.g.
 *   `spiffe_id: must be in trust domain "example.org", not "other.org"`.
 */
export function validateNewEntry(input: EntryInput, ctx: EntryValidationContext): NewRegistrationEntry {
  const fields = asRecord(input)
  const id = optionalEntryId(fields['id'], 'id')
  const entry = validateBody(fields, ctx)
  return id === undefined ? entry : { id, ...entry }
}

/**
 * Validates an update: a full replacement of entry `id` (fields left out take their defaults,
 * as on create).
 * @throws InvalidArgumentError naming the field and the rule; `id: is required` without an id.
 */
export function validateEntryUpdate(input: EntryInput, ctx: EntryValidationContext): EntryUpdate {
  const fields = asRecord(input)
  const id = optionalEntryId(fields['id'], 'id')
  if (id === undefined) fail('id', 'is required to update an entry')
  return { id, ...validateBody(fields, ctx) }
}

/**
 * Validates the ID of an existing entry (get, delete): a non-empty string.
 * @throws InvalidArgumentError `<field>: is required`, or the charset and length rules.
 */
export function validateEntryId(value: unknown, field = 'id'): string {
  const id = optionalEntryId(value, field)
  if (id === undefined) fail(field, 'is required')
  return id
}

function asRecord(input: unknown): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidArgumentError('entry: must be an object with fields such as spiffe_id, parent_id and selectors')
  }
  const record = input as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (!ENTRY_FIELDS.has(key)) fail(key, 'is not a registration entry field')
  }
  return record
}

function validateBody(fields: Record<string, unknown>, ctx: EntryValidationContext): Omit<NewRegistrationEntry, 'id'> {
  const td = ctx.trustDomain
  const spiffeId = requiredSpiffeId(fields['spiffe_id'], 'spiffe_id', td)
  if (isReservedId(spiffeId, td)) {
    fail('spiffe_id', `path "${spiffeId.path}" is reserved for the server and agents`)
  }
  const parentId = requiredSpiffeId(fields['parent_id'], 'parent_id', td)
  if (isReservedId(parentId, td) && !isServerId(parentId, td) && !isAgentId(parentId, td)) {
    fail(
      'parent_id',
      `path "${parentId.path}" is reserved: only the server ID ${serverId(td).toString()} and agent IDs under ${agentIdPrefix(td)} may be used there`,
    )
  }
  if (parentId.equals(spiffeId)) fail('parent_id', 'must differ from spiffe_id')
  return {
    spiffeId,
    parentId,
    selectors: validateSelectors(fields['selectors']),
    x509SvidTtlSeconds: ttlSeconds(fields['x509_svid_ttl'], 'x509_svid_ttl', ctx.maxX509SvidTtlSeconds),
    jwtSvidTtlSeconds: ttlSeconds(fields['jwt_svid_ttl'], 'jwt_svid_ttl', ctx.maxJwtSvidTtlSeconds),
    dnsNames: validateDnsNames(fields['dns_names']),
    federatesWith: validateFederatesWith(fields['federates_with'], td),
    admin: optionalBoolean(fields['admin'], 'admin'),
    downstream: optionalBoolean(fields['downstream'], 'downstream'),
    expiresAt: expiresAt(fields['expires_at'], ctx.now),
    hint: boundedString(fields['hint'], 'hint', LIMITS.hintBytes),
    storeSvid: optionalBoolean(fields['store_svid'], 'store_svid'),
    owner: boundedString(fields['owner'], 'owner', LIMITS.ownerBytes),
    description: boundedString(fields['description'], 'description', LIMITS.descriptionBytes),
  }
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') fail(field, 'must be a string')
  return value
}

function optionalList(value: unknown, field: string): readonly unknown[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) fail(field, 'must be a list')
  return value
}

const ENTRY_ID_CHARS = /^[A-Za-z0-9._-]+$/

function optionalEntryId(value: unknown, field: string): string | undefined {
  const id = optionalString(value, field)
  if (id === undefined || id === '') return undefined
  checkText(id, field, LIMITS.entryIdBytes)
  if (!ENTRY_ID_CHARS.test(id)) fail(field, 'characters are limited to letters, numbers, dots, dashes, and underscores')
  return id
}

/**
 * A SPIFFE ID the server may register: parse rules (SPIFFE-ID.md §2), in the server's trust
 * domain (§4.1.2), a non-root path (X509-SVID.md §3.1) and the §2.3 length limits.
 */
function requiredSpiffeId(value: unknown, field: string, td: TrustDomain): SpiffeId {
  const s = optionalString(value, field)
  if (s === undefined || s === '') fail(field, 'is required')
  // The parser refuses control characters (its character sets are ASCII letters, digits and
  // `.-_`), with go-spiffe's message.
  let id: SpiffeId
  try {
    id = parseSpiffeId(s)
  } catch (err) {
    fail(field, messageOf(err))
  }
  checkTrustDomainLength(id.trustDomain, field)
  if (!id.memberOf(td)) fail(field, `must be in trust domain "${td.name}", not "${id.trustDomain.name}"`)
  if (id.isRoot) fail(field, 'must have a non-root path')
  checkText(s, field, LIMITS.spiffeIdBytes)
  return id
}

function parseSelectorInput(value: unknown, field: string): Selector {
  try {
    if (typeof value === 'string') return parseSelector(value)
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const { type, value: v } = value as { type?: unknown; value?: unknown }
      if (typeof type === 'string' && typeof v === 'string') return selectorFromParts(type, v)
    }
  } catch (err) {
    fail(field, messageOf(err))
  }
  fail(field, 'must be a "type:value" string or an object with string fields type and value')
}

/** A selector of an entry: the parse rules, no control characters, the type within its limit. */
function entrySelector(value: unknown, field: string): Selector {
  if (typeof value === 'string') checkText(value, field)
  else if (value !== null && typeof value === 'object') {
    const parts = value as { type?: unknown; value?: unknown }
    if (typeof parts.type === 'string') checkText(parts.type, `${field}.type`)
    if (typeof parts.value === 'string') checkText(parts.value, `${field}.value`)
  }
  const selector = parseSelectorInput(value, field)
  checkText(selector.type, `${field}.type`, LIMITS.selectorTypeBytes)
  return selector
}

function validateSelectors(value: unknown): Selector[] {
  const list = optionalList(value, 'selectors')
  if (list.length === 0) fail('selectors', 'at least one selector is required')
  checkCount(list, 'selectors', LIMITS.selectorsPerEntry)
  const seen = new Map<string, number>()
  const selectors = list.map((item, i) => {
    const selector = entrySelector(item, `selectors[${i}]`)
    const key = selector.toString()
    const first = seen.get(key)
    if (first !== undefined) fail(`selectors[${i}]`, `"${key}" duplicates selectors[${first}]`)
    seen.set(key, i)
    return selector
  })
  return sortSelectors(selectors)
}

function ttlSeconds(value: unknown, field: string, max: number | undefined): number {
  const bound = max ?? MAX_TTL_SECONDS
  if (value === undefined || value === null || value === '') return 0
  let n: number
  if (typeof value === 'number') n = value
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = Number(value)
  else fail(field, 'must be a whole number of seconds')
  if (!Number.isInteger(n)) fail(field, 'must be a whole number of seconds')
  if (n < 0 || n > bound) fail(field, `must be between 0 and ${bound} seconds (0 = the server default)`)
  return n
}

function dnsNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty'
  const labels = name.split('.')
  for (const [i, label] of labels.entries()) {
    if (label === '') return 'labels must not be empty'
    // A wildcard is allowed as the whole first label of a name with at least two more labels
    // (RFC 6125 §6.4.3 style): `*.example.org`, never `*` or `*.org`.
    if (label === '*' && i === 0) {
      if (labels.length < 3) return 'a wildcard needs at least two labels after it'
      continue
    }
    if (label.length > LIMITS.dnsLabelBytes.max) return `labels must not be longer than ${LIMITS.dnsLabelBytes.max} bytes`
    if (!/^[A-Za-z0-9-]+$/.test(label)) {
      return 'labels are limited to letters, numbers, and dashes ("*" only as the whole first label)'
    }
    if (label.startsWith('-') || label.endsWith('-')) return 'labels must not start or end with a dash'
  }
  return undefined
}

/**
 * DNS names for X.509-SVIDs, of an entry or of an admin mint: at most {@link LIMITS.dnsNamesPerEntry},
 * each a host name (a `*` first label allowed) without duplicates. `null` and absent are `[]`.
 * @throws InvalidArgumentError naming `<field>` or `<field>[i]` and the rule.
 */
export function validateDnsNames(value: unknown, listField = 'dns_names'): string[] {
  const list = optionalList(value, listField)
  checkCount(list, listField, LIMITS.dnsNamesPerEntry)
  const seen = new Map<string, number>()
  return list.map((item, i) => {
    const field = `${listField}[${i}]`
    if (typeof item !== 'string') fail(field, 'must be a string')
    checkText(item, field, LIMITS.dnsNameBytes)
    const problem = dnsNameProblem(item)
    if (problem !== undefined) fail(field, `${JSON.stringify(item)} is not a valid DNS name: ${problem}`)
    // DNS names compare case-insensitively (RFC 4343).
    const key = item.toLowerCase()
    const first = seen.get(key)
    if (first !== undefined) fail(field, `${JSON.stringify(item)} duplicates ${listField}[${first}]`)
    seen.set(key, i)
    return item
  })
}

function federatedTrustDomain(value: unknown, field: string): TrustDomain {
  if (typeof value !== 'string') fail(field, 'must be a string')
  checkText(value, field)
  let td: TrustDomain
  try {
    if (value.includes(':/') && !parseSpiffeId(value).isRoot) {
      fail(field, `${JSON.stringify(value)} must be a trust domain name or its ID without a path`)
    }
    td = parseTrustDomain(value)
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err
    fail(field, messageOf(err))
  }
  checkTrustDomainLength(td, field)
  return td
}

function checkTrustDomainLength(td: TrustDomain, field: string): void {
  const { max } = LIMITS.trustDomainBytes
  const bytes = byteLength(td.name)
  if (bytes > max) fail(field, `trust domain must not be longer than ${max} bytes (got ${bytes})`)
}

function validateFederatesWith(value: unknown, own: TrustDomain): TrustDomain[] {
  const list = optionalList(value, 'federates_with')
  checkCount(list, 'federates_with', LIMITS.federatesWithPerEntry)
  const seen = new Map<string, number>()
  return list.map((item, i) => {
    const field = `federates_with[${i}]`
    const td = federatedTrustDomain(item, field)
    if (td.equals(own)) fail(field, `"${td.name}" must not be the server's own trust domain`)
    const first = seen.get(td.name)
    if (first !== undefined) fail(field, `"${td.name}" duplicates federates_with[${first}]`)
    seen.set(td.name, i)
    return td
  })
}

function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false
  if (typeof value !== 'boolean') fail(field, 'must be true or false')
  return value
}

function boundedString(value: unknown, field: string, limit: Limit): string {
  const s = optionalString(value, field) ?? ''
  checkText(s, field, limit)
  return s
}

// RFC 3339 date-time with a zone; Date.parse alone would accept many other forms.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

function expiresAt(value: unknown, now: Date): Date | undefined {
  const field = 'expires_at'
  if (value === undefined || value === null || value === '') return undefined
  let ms: number
  if (value instanceof Date) {
    ms = value.getTime()
    if (Number.isNaN(ms)) fail(field, 'must be a valid date')
  } else if (typeof value === 'number' || (typeof value === 'string' && /^-?\d+$/.test(value))) {
    const seconds = Number(value)
    if (!Number.isInteger(seconds)) fail(field, 'must be whole unix seconds')
    if (seconds === 0) return undefined
    if (seconds < 0 || seconds > MAX_EXPIRES_AT_SECONDS) {
      fail(field, `must be unix seconds between 1 and ${MAX_EXPIRES_AT_SECONDS} (0 = never)`)
    }
    ms = seconds * 1000
  } else if (typeof value === 'string' && RFC3339.test(value)) {
    ms = Date.parse(value)
    if (Number.isNaN(ms)) fail(field, `${JSON.stringify(value)} is not a valid date-time`)
  } else {
    fail(field, 'must be unix seconds or an RFC 3339 date-time such as 2030-01-01T00:00:00Z')
  }
  if (ms <= now.getTime()) fail(field, `must not be in the past (${new Date(ms).toISOString()})`)
  return new Date(ms)
}

/** Loosely typed filter for listing entries (gRPC ListEntriesRequest, CLI flags); `''` = unset. */
export interface EntryFilterInput {
  readonly spiffe_id?: string | null
  readonly parent_id?: string | null
  readonly selectors?: readonly SelectorInput[] | null
  /** exact (the default) | subset | superset | any; only used with selectors. */
  readonly match?: string | null
  readonly hint?: string | null
  readonly owner?: string | null
  readonly federates_with?: string | null
  readonly downstream?: boolean | null
}

const MATCHES: readonly SelectorMatch[] = ['exact', 'subset', 'superset', 'any']

/**
 * Validates a list/count filter. IDs only need to parse here: a filter that names another trust
 * domain simply matches nothing.
 * @throws InvalidArgumentError naming the field and the rule.
 */
export function validateEntryFilter(input: EntryFilterInput = {}): EntryFilter {
  const spiffeId = optionalFilterId(input.spiffe_id, 'spiffe_id')
  const parentId = optionalFilterId(input.parent_id, 'parent_id')
  const selectorList = optionalList(input.selectors, 'selectors').map((s, i) => parseSelectorInput(s, `selectors[${i}]`))
  const match = optionalString(input.match, 'match') || 'exact'
  if (!(MATCHES as readonly string[]).includes(match)) fail('match', `must be one of ${MATCHES.join(', ')}`)
  const hint = optionalString(input.hint, 'hint') || undefined
  const owner = optionalString(input.owner, 'owner') || undefined
  const federates = optionalString(input.federates_with, 'federates_with') || undefined
  const downstream = input.downstream === undefined || input.downstream === null ? undefined : optionalBoolean(input.downstream, 'downstream')
  return {
    ...(spiffeId && { spiffeId }),
    ...(parentId && { parentId }),
    ...(selectorList.length > 0 && {
      selectors: { selectors: sortSelectors(selectorList), match: match as SelectorMatch },
    }),
    ...(hint !== undefined && { hint }),
    ...(owner !== undefined && { owner }),
    ...(federates !== undefined && { federatesWith: federatedTrustDomain(federates, 'federates_with') }),
    ...(downstream !== undefined && { downstream }),
  }
}

function optionalFilterId(value: unknown, field: string): SpiffeId | undefined {
  const s = optionalString(value, field)
  if (s === undefined || s === '') return undefined
  try {
    return parseSpiffeId(s)
  } catch (err) {
    fail(field, messageOf(err))
  }
}
