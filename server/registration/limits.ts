import { InvalidArgumentError } from '../../common/errors.js'
import { MAX_SELECTOR_BYTES, MAX_SPIFFE_ID_BYTES, MAX_TRUST_DOMAIN_BYTES } from '../../spiffe/index.js'

/**
 * How large registration entries, and the SVIDs minted from them, may be: one table used by every
 * path that writes an entry or mints an SVID (admin API and CLI, node alias entries, admin mint,
 * the agent API). The bounds are far above what an operator writes by hand, and keep one entry in
 * a sync message, and one X.509-SVID, to a few kilobytes. Byte limits count UTF-8 bytes.
 */

/** One named bound. */
export interface Limit {
  /** Where it applies, as fields are named in messages (`selectors`, `dns_names[i]`). */
  readonly field: string
  /** The largest allowed count or size. */
  readonly max: number
  /** What `max` counts, as it reads in messages: `bytes`, `selectors per entry`, … */
  readonly unit: string
  /** Why this bound, in one line (shown in the README table). */
  readonly reason: string
}

/** Every limit, by name. The README's "Entry limits" table lists the same (a test compares them). */
export const LIMITS = {
  selectorsPerEntry: { field: 'selectors', max: 64, unit: 'selectors per entry', reason: 'attestors emit a few dozen selectors for a process or node; every one is sent to agents in each sync' },
  selectorTypeBytes: { field: 'selectors[i].type', max: 64, unit: 'bytes', reason: 'the type is an attestor plugin name' },
  selectorBytes: { field: 'selectors[i]', max: MAX_SELECTOR_BYTES, unit: 'bytes', reason: '`type:value` as a whole; fits Docker labels and Kubernetes names' },
  dnsNamesPerEntry: { field: 'dns_names', max: 32, unit: 'DNS names', reason: 'each is a SAN of every X.509-SVID minted for the entry (also `x509 mint --dns`)' },
  dnsNameBytes: { field: 'dns_names[i]', max: 253, unit: 'bytes', reason: 'RFC 1035 §2.3.4 (255 octets on the wire)' },
  dnsLabelBytes: { field: 'DNS label', max: 63, unit: 'bytes', reason: 'RFC 1035 §2.3.4' },
  federatesWithPerEntry: { field: 'federates_with', max: 64, unit: 'trust domains per entry', reason: 'each adds a bundle to the workload\'s Workload API answers' },
  spiffeIdBytes: { field: 'spiffe_id, parent_id', max: MAX_SPIFFE_ID_BYTES, unit: 'bytes', reason: 'SPIFFE-ID.md §2.3' },
  trustDomainBytes: { field: 'trust domain', max: MAX_TRUST_DOMAIN_BYTES, unit: 'bytes', reason: 'SPIFFE-ID.md §2.3' },
  entryIdBytes: { field: 'id', max: 255, unit: 'bytes', reason: 'an ID, not a document (SPIRE has the same bound)' },
  hintBytes: { field: 'hint', max: 1024, unit: 'bytes', reason: 'SPIFFE Workload API §8: longer hints are not supported' },
  ownerBytes: { field: 'owner', max: 255, unit: 'bytes', reason: 'a team, user or system name' },
  descriptionBytes: { field: 'description', max: 1024, unit: 'bytes', reason: 'a paragraph for people; sent to agents with the entry' },
  audiencesPerJwt: { field: 'audience', max: 32, unit: 'audience values', reason: 'each is an `aud` value of the JWT-SVID (`jwt mint`, agents\' requests)' },
  audienceBytes: { field: 'audience[i]', max: 1024, unit: 'bytes', reason: 'an audience is a name or a URL' },
} as const satisfies Record<string, Limit>

// C0 control names (ASCII); DEL and C1 controls are named by code point.
const C0_NAMES = [
  'NUL', 'SOH', 'STX', 'ETX', 'EOT', 'ENQ', 'ACK', 'BEL', 'BS', 'HT', 'LF', 'VT', 'FF', 'CR', 'SO', 'SI',
  'DLE', 'DC1', 'DC2', 'DC3', 'DC4', 'NAK', 'SYN', 'ETB', 'CAN', 'EM', 'SUB', 'ESC', 'FS', 'GS', 'RS', 'US',
]
// C0 (U+0000-U+001F), DEL (U+007F) and C1 (U+0080-U+009F).
const CONTROL = /[\x00-\x1f\x7f-\x9f]/

function controlName(code: number): string {
  return C0_NAMES[code] ?? (code === 0x7f ? 'DEL' : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`)
}

function fail(field: string, rule: string): never {
  throw InvalidArgumentError.forField(field, `${rule}`)
}

/**
 * Refuses a list longer than the limit.
 * @throws InvalidArgumentError `<field>: at most 64 selectors per entry (got 10000)`.
 */
export function checkCount(list: readonly unknown[], field: string, limit: Limit): void {
  if (list.length > limit.max) fail(field, `at most ${limit.max} ${limit.unit} (got ${list.length})`)
}

/**
 * Refuses a string with a control character (C0 including NUL, DEL, C1) and, with a limit, one
 * longer than it.
 * @throws InvalidArgumentError `<field>: must not contain control characters (NUL at byte 3)` or
 *   `<field>: must not be longer than 1024 bytes (got 1030)`.
 */
export function checkText(value: string, field: string, limit?: Limit): void {
  const bytes = Buffer.byteLength(value, 'utf8')
  if (limit !== undefined && bytes > limit.max) fail(field, `must not be longer than ${limit.max} ${limit.unit} (got ${bytes})`)
  const at = value.search(CONTROL)
  if (at >= 0) {
    const offset = Buffer.byteLength(value.slice(0, at), 'utf8')
    fail(field, `must not contain control characters (${controlName(value.charCodeAt(at))} at byte ${offset})`)
  }
}

/**
 * Checks the audience of a JWT-SVID to mint: one to {@link LIMITS.audiencesPerJwt} non-empty values
 * within {@link LIMITS.audienceBytes}, without control characters.
 * @throws InvalidArgumentError naming `<field>` or `<field>[i]` and the rule.
 */
export function checkAudience(audience: readonly string[], field = 'audience'): void {
  if (audience.length === 0) fail(field, 'at least one value is required')
  checkCount(audience, field, LIMITS.audiencesPerJwt)
  for (const [i, value] of audience.entries()) {
    if (value === '') fail(`${field}[${i}]`, 'must not be empty')
    checkText(value, `${field}[${i}]`, LIMITS.audienceBytes)
  }
}
