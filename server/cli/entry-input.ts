import type { RegistrationEntry, RegistrationEntry__Output } from '../../proto/generated/steeple/common/v1/RegistrationEntry.js'
import type { Selector } from '../../proto/generated/steeple/common/v1/Selector.js'
import { CliError, INT32_MAX } from './output.js'
import { ENTRY_FIELDS } from '../registration/index.js'

/**
 * Registration entries as the CLI reads them (flags, `--data` JSON files) and writes them
 * (`--output json`). The JSON form uses the proto's snake_case field names, so `entry show
 * --output json` can be edited and fed back with `--data`. Only types are checked here, naming
 * the item and field (`entries[2].x509_svid_ttl`); the rules (trust domain, TTL bounds, selector
 * syntax) are the server's, which names the field the same way.
 */

/** An entry in the CLI's JSON form (output of `entry show --output json`). */
export interface EntryJson {
  id: string
  spiffe_id: string
  parent_id: string
  selectors: { type: string; value: string }[]
  x509_svid_ttl: number
  jwt_svid_ttl: number
  dns_names: string[]
  federates_with: string[]
  admin: boolean
  downstream: boolean
  expires_at: number
  hint: string
  store_svid: boolean
  revision_number: number
  created_at: number
  owner: string
  description: string
}

/** The JSON form of an entry from the server (numbers as numbers, every field present). */
export function entryToJson(m: RegistrationEntry__Output): EntryJson {
  return {
    id: m.id,
    spiffe_id: m.spiffe_id,
    parent_id: m.parent_id,
    selectors: m.selectors.map((s) => ({ type: s.type, value: s.value })),
    x509_svid_ttl: m.x509_svid_ttl,
    jwt_svid_ttl: m.jwt_svid_ttl,
    dns_names: [...m.dns_names],
    federates_with: [...m.federates_with],
    admin: m.admin,
    downstream: m.downstream,
    expires_at: Number(m.expires_at),
    hint: m.hint,
    store_svid: m.store_svid,
    revision_number: Number(m.revision_number),
    created_at: Number(m.created_at),
    owner: m.owner,
    description: m.description,
  }
}

function bad(where: string, rule: string): never {
  throw new CliError(`${where}: ${rule}`)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function str(value: unknown, where: string): string {
  if (value === undefined || value === null) return ''
  if (typeof value !== 'string') bad(where, 'must be a string')
  return value
}

function bool(value: unknown, where: string): boolean {
  if (value === undefined || value === null) return false
  if (typeof value !== 'boolean') bad(where, 'must be true or false')
  return value
}

function strings(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) bad(where, 'must be a list of strings')
  return value.map((item, i) => {
    if (typeof item !== 'string') bad(`${where}[${i}]`, 'must be a string')
    return item
  })
}

function ttl(value: unknown, where: string): number {
  if (value === undefined || value === null || value === '') return 0
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -INT32_MAX || n > INT32_MAX) bad(where, 'must be a whole number of seconds')
  return n
}

// RFC 3339 date-time with a zone.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** Unix seconds (number or decimal string) or an RFC 3339 date-time, as unix seconds. */
function expiresAt(value: unknown, where: string): string {
  if (value === undefined || value === null || value === '') return '0'
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return value
  if (typeof value === 'string' && RFC3339.test(value) && !Number.isNaN(Date.parse(value))) {
    return String(Math.ceil(Date.parse(value) / 1000))
  }
  bad(where, 'must be unix seconds or an RFC 3339 date-time such as 2030-01-01T00:00:00Z')
}

/**
 * A selector given as `type:value` (split at the first colon) or `{ "type", "value" }`.
 * @throws CliError `<where>: …` when it is neither.
 */
export function selectorFromInput(value: unknown, where: string): Selector {
  if (typeof value === 'string') {
    // Split only: the server checks the parts, so both forms get the same rules and messages.
    const colon = value.indexOf(':')
    if (colon < 0) bad(where, `${JSON.stringify(value)} must have the form type:value`)
    return { type: value.slice(0, colon), value: value.slice(colon + 1) }
  }
  if (isRecord(value) && typeof value['type'] === 'string' && typeof value['value'] === 'string') {
    return { type: value['type'], value: value['value'] }
  }
  bad(where, 'must be a "type:value" string or an object with string fields type and value')
}

/**
 * One entry of a `--data` file as a request message.
 * @throws CliError `<where>.<field>: …` for unknown fields and wrong types.
 */
export function entryFromJson(value: unknown, where: string): RegistrationEntry {
  if (!isRecord(value)) bad(where, 'must be an object with fields such as spiffe_id, parent_id and selectors')
  for (const key of Object.keys(value)) {
    if (!ENTRY_FIELDS.has(key)) bad(`${where}.${key}`, 'is not a registration entry field')
  }
  const selectors = value['selectors']
  if (selectors !== undefined && selectors !== null && !Array.isArray(selectors)) bad(`${where}.selectors`, 'must be a list')
  return {
    id: str(value['id'], `${where}.id`),
    spiffe_id: str(value['spiffe_id'], `${where}.spiffe_id`),
    parent_id: str(value['parent_id'], `${where}.parent_id`),
    selectors: (selectors ?? []).map((s: unknown, i: number) => selectorFromInput(s, `${where}.selectors[${i}]`)),
    x509_svid_ttl: ttl(value['x509_svid_ttl'], `${where}.x509_svid_ttl`),
    jwt_svid_ttl: ttl(value['jwt_svid_ttl'], `${where}.jwt_svid_ttl`),
    dns_names: strings(value['dns_names'], `${where}.dns_names`),
    federates_with: strings(value['federates_with'], `${where}.federates_with`),
    admin: bool(value['admin'], `${where}.admin`),
    downstream: bool(value['downstream'], `${where}.downstream`),
    expires_at: expiresAt(value['expires_at'], `${where}.expires_at`),
    hint: str(value['hint'], `${where}.hint`),
    store_svid: bool(value['store_svid'], `${where}.store_svid`),
    owner: str(value['owner'], `${where}.owner`),
    description: str(value['description'], `${where}.description`),
  }
}

/**
 * The entries of a `--data` document: `{"entries": [...]}`.
 * @throws CliError naming the flag, item and field.
 */
export function entriesFromDocument(doc: unknown, flag = '--data'): RegistrationEntry[] {
  if (!isRecord(doc) || !Array.isArray(doc['entries'])) bad(flag, 'must be a JSON object {"entries": [...]}')
  for (const key of Object.keys(doc)) if (key !== 'entries') bad(`${flag}: ${key}`, 'is not a known key (expected "entries")')
  const entries = doc['entries'] as unknown[]
  if (entries.length === 0) bad(`${flag}: entries`, 'must not be empty')
  return entries.map((e, i) => entryFromJson(e, `entries[${i}]`))
}

/**
 * The IDs of a `--data` document for `entry delete`: `{"ids": [...]}` (an `entries` list with
 * `id` fields, as `entry show --output json` prints, works too).
 * @throws CliError naming the flag and item.
 */
export function idsFromDocument(doc: unknown, flag = '--data'): string[] {
  if (isRecord(doc) && Array.isArray(doc['ids'])) {
    const ids = strings(doc['ids'], 'ids')
    if (ids.length === 0) bad(`${flag}: ids`, 'must not be empty')
    return ids
  }
  if (isRecord(doc) && Array.isArray(doc['entries'])) {
    const entries = doc['entries'] as unknown[]
    if (entries.length === 0) bad(`${flag}: entries`, 'must not be empty')
    return entries.map((e, i) => {
      if (!isRecord(e) || typeof e['id'] !== 'string' || e['id'] === '') bad(`entries[${i}].id`, 'is required')
      return e['id'] as string
    })
  }
  bad(flag, 'must be a JSON object {"ids": [...]}')
}
