import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../common/errors.js'
import { parseTrustDomain } from '../../spiffe/index.js'
import { emptyEntryFields } from '../../test/fixtures/entries.js'
import { LIMITS } from './limits.js'
import {
  validateDnsNames,
  validateEntryFilter,
  validateEntryId,
  validateEntryUpdate,
  validateNewEntry,
  type EntryInput,
  type EntryValidationContext,
} from './validate.js'

interface IdVectors {
  spiffe_ids: { invalid: { id: string; go_spiffe_error: string }[] }
  role_specific: { leaf_svid_ids: { invalid: { id: string; reason_code: string }[] } }
  spec_vs_go_spiffe: { kind: string; input?: string; reason_code?: string; length_of_trust_domain?: number }[]
}

const vectors = JSON.parse(readFileSync(new URL('../../test/data/vectors/spiffe-ids.json', import.meta.url), 'utf8')) as IdVectors

const td = parseTrustDomain('example.org')
const ctx: EntryValidationContext = {
  trustDomain: td,
  now: new Date('2030-01-01T00:00:00Z'),
  maxX509SvidTtlSeconds: 86400,
  maxJwtSvidTtlSeconds: 3600,
}
const AGENT = 'spiffe://example.org/steeple/agent/join_token/abc'
const base = { spiffe_id: 'spiffe://example.org/web', parent_id: AGENT, selectors: ['unix:uid:1000'] } as const

function invalid(input: unknown, validate = validateNewEntry): InvalidArgumentError {
  try {
    validate(input as EntryInput, ctx)
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as InvalidArgumentError).code).toBe('INVALID_ARGUMENT')
    return err as InvalidArgumentError
  }
  throw new Error(`accepted ${JSON.stringify(input)}`)
}

function idOfBytes(prefix: string, total: number): string {
  return prefix + 'a'.repeat(total - Buffer.byteLength(prefix))
}

describe('validateNewEntry', () => {
  it('turns operator input into a typed entry with defaults', () => {
    const entry = validateNewEntry(base, ctx)
    expect(entry.spiffeId.toString()).toBe('spiffe://example.org/web')
    expect(entry.parentId.toString()).toBe(AGENT)
    expect(entry.selectors.map(String)).toEqual(['unix:uid:1000'])
    expect(entry).toMatchObject(emptyEntryFields())
    expect('id' in entry).toBe(false)
  })

  it('reads every field, in the loose forms the CLI, JSON files and gRPC send', () => {
    const entry = validateNewEntry(
      {
        id: 'web-1',
        spiffe_id: 'spiffe://example.org/web',
        parent_id: 'spiffe://example.org/steeple/server',
        selectors: ['unix:uid:1000', { type: 'docker', value: 'label:app:web' }],
        x509_svid_ttl: '3600',
        jwt_svid_ttl: 300,
        dns_names: ['web.example.org', '*.svc.example.org'],
        federates_with: ['example.com', 'spiffe://partner.net'],
        admin: true,
        downstream: true,
        expires_at: '1924992000',
        hint: 'external',
        store_svid: true,
        owner: 'team-web',
        description: 'front end',
        revision_number: '3',
        created_at: '1700000000',
      },
      ctx,
    )
    expect(entry.id).toBe('web-1')
    expect(entry.selectors.map(String)).toEqual(['docker:label:app:web', 'unix:uid:1000'])
    expect(entry.x509SvidTtlSeconds).toBe(3600)
    expect(entry.jwtSvidTtlSeconds).toBe(300)
    expect(entry.dnsNames).toEqual(['web.example.org', '*.svc.example.org'])
    expect(entry.federatesWith.map(String)).toEqual(['example.com', 'partner.net'])
    expect(entry.expiresAt?.toISOString()).toBe('2031-01-01T00:00:00.000Z')
    expect(entry).toMatchObject({ admin: true, downstream: true, storeSvid: true, hint: 'external', owner: 'team-web' })
  })

  it.each([
    ['unix seconds', 1924992000],
    ['a decimal string', '1924992000'],
    ['RFC 3339', '2031-01-01T00:00:00Z'],
    ['RFC 3339 with an offset', '2031-01-01T01:00:00+01:00'],
    ['a Date', new Date('2031-01-01T00:00:00Z')],
  ])('expires_at as %s', (_name, expires_at) => {
    expect(validateNewEntry({ ...base, expires_at }, ctx).expiresAt?.toISOString()).toBe('2031-01-01T00:00:00.000Z')
  })

  it.each([0, '0', '', null])('expires_at %j means never', (expires_at) => {
    expect(validateNewEntry({ ...base, expires_at }, ctx).expiresAt).toBeUndefined()
  })

  it('treats an empty id as absent (the gRPC default)', () => {
    expect('id' in validateNewEntry({ ...base, id: '' }, ctx)).toBe(false)
  })

  it('accepts node entries: parent is the server ID', () => {
    const entry = validateNewEntry({ ...base, spiffe_id: 'spiffe://example.org/nodes/east', parent_id: 'spiffe://example.org/steeple/server' }, ctx)
    expect(entry.parentId.toString()).toBe('spiffe://example.org/steeple/server')
  })

  it('accepts a workload ID as parent (nested entries)', () => {
    expect(validateNewEntry({ ...base, parent_id: 'spiffe://example.org/downstream' }, ctx).parentId.path).toBe('/downstream')
  })

  it('ID-11: a 2048-byte SPIFFE ID is accepted', () => {
    const id = idOfBytes('spiffe://example.org/', 2048)
    expect(validateNewEntry({ ...base, spiffe_id: id }, ctx).spiffeId.toString()).toBe(id)
  })

  it('WAPI-15: a 1024-byte hint is accepted', () => {
    expect(validateNewEntry({ ...base, hint: 'h'.repeat(LIMITS.hintBytes.max) }, ctx).hint).toHaveLength(1024)
  })

  it.each(['spiffe_id', 'parent_id'])('ID-16: %s in another trust domain is refused', (field) => {
    expect(invalid({ ...base, [field]: 'spiffe://other.org/web' }).message).toBe(
      `${field}: must be in trust domain "example.org", not "other.org"`,
    )
  })

  it.each(['spiffe_id', 'parent_id'])('X509-04: %s without a path (the trust domain ID) is refused', (field) => {
    expect(invalid({ ...base, [field]: 'spiffe://example.org' }).message).toBe(`${field}: must have a non-root path`)
  })

  it.each(['spiffe_id', 'parent_id'])('ID-11: a 2049-byte %s is refused', (field) => {
    expect(invalid({ ...base, [field]: idOfBytes('spiffe://example.org/', 2049) }).message).toBe(
      `${field}: must not be longer than 2048 bytes (got 2049)`,
    )
  })

  it.each([
    ['1025 ASCII characters', 'h'.repeat(1025), 1025],
    ['513 two-byte characters', 'é'.repeat(513), 1026],
  ])('WAPI-15: a hint of %s (over 1024 bytes) is refused', (_name, hint, bytes) => {
    expect(invalid({ ...base, hint }).message).toBe(`hint: must not be longer than 1024 bytes (got ${bytes})`)
  })

  it.each(vectors.spec_vs_go_spiffe.filter((c) => c.reason_code === 'trust_domain_too_long'))(
    'ID-11: a SPIFFE ID with a 256-byte trust domain is refused ($length_of_trust_domain bytes)',
    (c) => {
      expect(invalid({ ...base, spiffe_id: c.input }).message).toBe('spiffe_id: trust domain must not be longer than 255 bytes (got 256)')
    },
  )

  it.each(vectors.role_specific.leaf_svid_ids.invalid)('X509-04: leaf vector $id is refused as spiffe_id', ({ id }) => {
    expect(invalid({ ...base, spiffe_id: id }).message).toBe('spiffe_id: must have a non-root path')
  })

  it.each(vectors.spiffe_ids.invalid.filter((c) => c.id !== ''))(
    'refuses the invalid SPIFFE ID vector $id with the parser rule',
    ({ id, go_spiffe_error }) => {
      expect(invalid({ ...base, spiffe_id: id }).message).toBe(`spiffe_id: spiffeid: ${go_spiffe_error}`)
      expect(invalid({ ...base, parent_id: id }).message).toBe(`parent_id: spiffeid: ${go_spiffe_error}`)
    },
  )

  it.each<[string, Record<string, unknown>, string]>([
    ['no spiffe_id', { spiffe_id: undefined }, 'spiffe_id: is required'],
    ['an empty spiffe_id', { spiffe_id: '' }, 'spiffe_id: is required'],
    ['a numeric spiffe_id', { spiffe_id: 42 }, 'spiffe_id: must be a string'],
    ['dot segments', { spiffe_id: 'spiffe://example.org/a/../b' }, 'spiffe_id: spiffeid: path cannot contain dot segments'],
    ['a server path', { spiffe_id: 'spiffe://example.org/steeple/server' }, 'spiffe_id: path "/steeple/server" is reserved for the server and agents'],
    ['an agent path', { spiffe_id: 'spiffe://example.org/steeple/agent/x509pop/abc' }, 'spiffe_id: path "/steeple/agent/x509pop/abc" is reserved for the server and agents'],
    ['the bare reserved path', { spiffe_id: 'spiffe://example.org/steeple' }, 'spiffe_id: path "/steeple" is reserved for the server and agents'],
    ['no parent_id', { parent_id: undefined }, 'parent_id: is required'],
    [
      'a reserved parent that is neither server nor agent',
      { parent_id: 'spiffe://example.org/steeple/other' },
      'parent_id: path "/steeple/other" is reserved: only the server ID spiffe://example.org/steeple/server and agent IDs under spiffe://example.org/steeple/agent/ may be used there',
    ],
    [
      'the bare agent prefix as parent',
      { parent_id: 'spiffe://example.org/steeple/agent' },
      'parent_id: path "/steeple/agent" is reserved: only the server ID spiffe://example.org/steeple/server and agent IDs under spiffe://example.org/steeple/agent/ may be used there',
    ],
    ['a parent equal to the ID', { parent_id: 'spiffe://example.org/web' }, 'parent_id: must differ from spiffe_id'],
    ['no selectors', { selectors: undefined }, 'selectors: at least one selector is required'],
    ['an empty selector list', { selectors: [] }, 'selectors: at least one selector is required'],
    ['selectors not a list', { selectors: 'unix:uid:1000' }, 'selectors: must be a list'],
    ['a selector without colon', { selectors: ['unix:uid:1', 'unix'] }, 'selectors[1]: selector: must have the form type:value'],
    ['a selector with empty value', { selectors: ['unix:'] }, 'selectors[0]: selector: value must not be empty'],
    ['a selector with upper-case type', { selectors: ['Unix:uid:1'] }, 'selectors[0]: selector: type characters are limited to lowercase letters, numbers, dashes, and underscores'],
    ['a selector object with empty type', { selectors: [{ type: '', value: 'x' }] }, 'selectors[0]: selector: type must not be empty'],
    ['a selector of the wrong shape', { selectors: [42] }, 'selectors[0]: must be a "type:value" string or an object with string fields type and value'],
    ['a duplicated selector', { selectors: ['unix:uid:1', 'unix:gid:2', { type: 'unix', value: 'uid:1' }] }, 'selectors[2]: "unix:uid:1" duplicates selectors[0]'],
    ['a negative x509 TTL', { x509_svid_ttl: -1 }, 'x509_svid_ttl: must be between 0 and 86400 seconds (0 = the server default)'],
    ['an x509 TTL over the CA TTL', { x509_svid_ttl: 86401 }, 'x509_svid_ttl: must be between 0 and 86400 seconds (0 = the server default)'],
    ['a fractional x509 TTL', { x509_svid_ttl: 1.5 }, 'x509_svid_ttl: must be a whole number of seconds'],
    ['a duration string TTL', { x509_svid_ttl: '1h' }, 'x509_svid_ttl: must be a whole number of seconds'],
    ['a JWT TTL over the bound', { jwt_svid_ttl: '3601' }, 'jwt_svid_ttl: must be between 0 and 3600 seconds (0 = the server default)'],
    ['dns_names not a list', { dns_names: 'web' }, 'dns_names: must be a list'],
    ['an empty DNS name', { dns_names: [''] }, 'dns_names[0]: "" is not a valid DNS name: must not be empty'],
    ['an empty DNS label', { dns_names: ['ok.example', 'a..b'] }, 'dns_names[1]: "a..b" is not a valid DNS name: labels must not be empty'],
    ['an underscore in DNS', { dns_names: ['a_b.example'] }, 'dns_names[0]: "a_b.example" is not a valid DNS name: labels are limited to letters, numbers, and dashes ("*" only as the whole first label)'],
    ['a leading dash in DNS', { dns_names: ['-a.example'] }, 'dns_names[0]: "-a.example" is not a valid DNS name: labels must not start or end with a dash'],
    ['a 64-byte DNS label', { dns_names: ['a'.repeat(64) + '.example'] }, `dns_names[0]: "${'a'.repeat(64)}.example" is not a valid DNS name: labels must not be longer than 63 bytes`],
    ['a wildcard in the middle', { dns_names: ['a.*.example'] }, 'dns_names[0]: "a.*.example" is not a valid DNS name: labels are limited to letters, numbers, and dashes ("*" only as the whole first label)'],
    ['a wildcard over a TLD', { dns_names: ['*.org'] }, 'dns_names[0]: "*.org" is not a valid DNS name: a wildcard needs at least two labels after it'],
    ['a DNS name that differs only in case', { dns_names: ['web.example', 'WEB.example'] }, 'dns_names[1]: "WEB.example" duplicates dns_names[0]'],
    ['a non-string DNS name', { dns_names: [1] }, 'dns_names[0]: must be a string'],
    ['federation with itself', { federates_with: ['example.org'] }, 'federates_with[0]: "example.org" must not be the server\'s own trust domain'],
    ['federation with itself as ID', { federates_with: ['example.com', 'spiffe://example.org'] }, 'federates_with[1]: "example.org" must not be the server\'s own trust domain'],
    ['a bad federated trust domain', { federates_with: ['Example.com'] }, 'federates_with[0]: spiffeid: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'],
    ['a federated ID with a path', { federates_with: ['spiffe://example.com/x'] }, 'federates_with[0]: "spiffe://example.com/x" must be a trust domain name or its ID without a path'],
    ['a duplicated federated trust domain', { federates_with: ['example.com', 'spiffe://example.com'] }, 'federates_with[1]: "example.com" duplicates federates_with[0]'],
    ['a string admin', { admin: 'yes' }, 'admin: must be true or false'],
    ['a numeric downstream', { downstream: 1 }, 'downstream: must be true or false'],
    ['a string store_svid', { store_svid: 'true' }, 'store_svid: must be true or false'],
    ['an expiry in the past', { expires_at: '2029-12-31T23:59:59Z' }, 'expires_at: must not be in the past (2029-12-31T23:59:59.000Z)'],
    ['an expiry equal to now', { expires_at: 1893456000 }, 'expires_at: must not be in the past (2030-01-01T00:00:00.000Z)'],
    ['a negative expiry', { expires_at: -5 }, 'expires_at: must be unix seconds between 1 and 253402300799 (0 = never)'],
    ['an expiry after year 9999', { expires_at: 253402300800 }, 'expires_at: must be unix seconds between 1 and 253402300799 (0 = never)'],
    ['a free-form date', { expires_at: 'next tuesday' }, 'expires_at: must be unix seconds or an RFC 3339 date-time such as 2030-01-01T00:00:00Z'],
    ['an impossible date', { expires_at: '2031-02-30T99:00:00Z' }, 'expires_at: "2031-02-30T99:00:00Z" is not a valid date-time'],
    ['an invalid Date', { expires_at: new Date(Number.NaN) }, 'expires_at: must be a valid date'],
    ['a numeric hint', { hint: 5 }, 'hint: must be a string'],
    ['a long owner', { owner: 'o'.repeat(256) }, 'owner: must not be longer than 255 bytes (got 256)'],
    ['a long description', { description: 'd'.repeat(1025) }, 'description: must not be longer than 1024 bytes (got 1025)'],
    ['an id with a slash', { id: 'a/b' }, 'id: characters are limited to letters, numbers, dots, dashes, and underscores'],
    ['an id with a space', { id: 'a b' }, 'id: characters are limited to letters, numbers, dots, dashes, and underscores'],
    ['a long id', { id: 'i'.repeat(256) }, 'id: must not be longer than 255 bytes (got 256)'],
    ['a numeric id', { id: 7 }, 'id: must be a string'],
    ['an unknown field', { spiffeId: 'spiffe://example.org/web' }, 'spiffeId: is not a registration entry field'],
  ])('refuses %s', (_name, change, message) => {
    expect(invalid({ ...base, ...change }).message).toBe(message)
  })

  it.each([null, 'spiffe://example.org/web', [base], 42])('refuses %j as an entry', (input) => {
    expect(invalid(input).message).toBe('entry: must be an object with fields such as spiffe_id, parent_id and selectors')
  })

  it('checks fields in a fixed order, so the first broken rule is reported', () => {
    expect(invalid({ spiffe_id: 'spiffe://other.org/x', selectors: [] }).message).toMatch(/^spiffe_id: /)
  })
})

function many(n: number, item: (i: number) => string): string[] {
  return Array.from({ length: n }, (_, i) => item(i))
}

// A DNS name of exactly `bytes` bytes: 63-byte labels, then a shorter one.
function dnsNameOf(bytes: number): string {
  const labels: string[] = []
  let left = bytes
  while (left > 0) {
    const label = 'a'.repeat(Math.min(63, left))
    labels.push(label)
    left -= label.length + 1
  }
  return labels.join('.')
}

describe('entry limits and control characters', () => {
  it.each<[string, Record<string, unknown>]>([
    ['64 selectors', { selectors: many(64, (i) => `unix:uid:${i}`) }],
    ['a 64-byte selector type', { selectors: [`${'t'.repeat(64)}:v`] }],
    ['a 1024-byte selector', { selectors: [`unix:${'v'.repeat(1019)}`] }],
    ['32 DNS names', { dns_names: many(32, (i) => `h${i}.example.org`) }],
    ['a 253-byte DNS name', { dns_names: [dnsNameOf(253)] }],
    ['64 federated trust domains', { federates_with: many(64, (i) => `td${i}.example`) }],
    ['a 255-byte owner', { owner: 'o'.repeat(255) }],
    ['a 1024-byte description of two-byte characters', { description: 'é'.repeat(512) }],
    ['printable Unicode beyond C1 in free text', { hint: 'µ', owner: 'équipe', description: 'ü\u00a0\u2028' }],
  ])('accepts %s (at the limit)', (_name, change) => {
    expect(() => validateNewEntry({ ...base, ...change }, ctx)).not.toThrow()
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['10,000 selectors', { selectors: many(10_000, (i) => `unix:uid:${i}`) }, 'selectors: at most 64 selectors per entry (got 10000)'],
    ['65 selectors', { selectors: many(65, (i) => `unix:uid:${i}`) }, 'selectors: at most 64 selectors per entry (got 65)'],
    ['a 65-byte selector type', { selectors: [`${'t'.repeat(65)}:v`] }, 'selectors[0].type: must not be longer than 64 bytes (got 65)'],
    ['a 1025-byte selector', { selectors: [`unix:${'v'.repeat(1020)}`] }, 'selectors[0]: selector: must not be longer than 1024 bytes'],
    ['10,000 DNS names', { dns_names: many(10_000, (i) => `h${i}.example.org`) }, 'dns_names: at most 32 DNS names (got 10000)'],
    ['33 DNS names', { dns_names: many(33, (i) => `h${i}.example.org`) }, 'dns_names: at most 32 DNS names (got 33)'],
    ['a 254-byte DNS name', { dns_names: [dnsNameOf(254)] }, 'dns_names[0]: must not be longer than 253 bytes (got 254)'],
    ['65 federated trust domains', { federates_with: many(65, (i) => `td${i}.example`) }, 'federates_with: at most 64 trust domains per entry (got 65)'],
    ['a 1025-byte description', { description: 'd'.repeat(1025) }, 'description: must not be longer than 1024 bytes (got 1025)'],
  ])('refuses %s', (_name, change, message) => {
    expect(invalid({ ...base, ...change }).message).toBe(message)
    // An update goes through the same rules.
    expect(invalid({ ...base, ...change, id: 'e1' }, validateEntryUpdate).message).toBe(message)
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['a selector value (type:value form)', { selectors: ['unix:uid:1\0'] }, 'selectors[0]: must not contain control characters (NUL at byte 10)'],
    ['a selector value (object form)', { selectors: [{ type: 'unix', value: 'a\0b' }] }, 'selectors[0].value: must not contain control characters (NUL at byte 1)'],
    ['a selector type (object form)', { selectors: [{ type: 'un\0ix', value: 'x' }] }, 'selectors[0].type: must not contain control characters (NUL at byte 2)'],
    ['the hint', { hint: 'abc\0' }, 'hint: must not contain control characters (NUL at byte 3)'],
    ['the owner', { owner: '\0team' }, 'owner: must not contain control characters (NUL at byte 0)'],
    ['the description', { description: 'de\0sc' }, 'description: must not contain control characters (NUL at byte 2)'],
    ['the description (a newline)', { description: 'line\nline' }, 'description: must not contain control characters (LF at byte 4)'],
    ['the hint (a tab)', { hint: 'a\tb' }, 'hint: must not contain control characters (HT at byte 1)'],
    ['the owner (ESC)', { owner: '\x1b[31m' }, 'owner: must not contain control characters (ESC at byte 0)'],
    ['the hint (DEL)', { hint: 'x\x7f' }, 'hint: must not contain control characters (DEL at byte 1)'],
    ['the description (C1 NEL after a two-byte character)', { description: 'é\u0085' }, 'description: must not contain control characters (U+0085 at byte 2)'],
    ['a DNS name', { dns_names: ['ok.example', 'a\0.example'] }, 'dns_names[1]: must not contain control characters (NUL at byte 1)'],
    ['a federated trust domain', { federates_with: ['partner\0.org'] }, 'federates_with[0]: must not contain control characters (NUL at byte 7)'],
    // SPIFFE IDs: the parser's character sets leave control characters out (go-spiffe's message).
    ['the spiffe_id', { spiffe_id: 'spiffe://example.org/web\0' }, 'spiffe_id: spiffeid: path segment characters are limited to letters, numbers, dots, dashes, and underscores'],
    ['the parent_id', { parent_id: 'spiffe://example.org/p\u0085' }, 'parent_id: spiffeid: path segment characters are limited to letters, numbers, dots, dashes, and underscores'],
    ['the id', { id: 'e\0' }, 'id: must not contain control characters (NUL at byte 1)'],
  ])('refuses a control character in %s', (_name, change, message) => {
    expect(invalid({ ...base, ...change }).message).toBe(message)
  })

  it('validateDnsNames names the list it checks (x509 mint uses it for its dns_names)', () => {
    expect(validateDnsNames(['a.example', 'b.example'])).toEqual(['a.example', 'b.example'])
    expect(validateDnsNames(undefined)).toEqual([])
    expect(() => validateDnsNames(many(33, (i) => `h${i}.example`), 'dns')).toThrow(new InvalidArgumentError('dns: at most 32 DNS names (got 33)'))
    expect(() => validateDnsNames(['x.example', 'X.example'], 'dns')).toThrow(new InvalidArgumentError('dns[1]: "X.example" duplicates dns[0]'))
  })
})

describe('validateEntryUpdate', () => {
  it('is a full replacement keyed by id', () => {
    const update = validateEntryUpdate({ ...base, id: 'e1', hint: 'h' }, ctx)
    expect(update.id).toBe('e1')
    expect(update.hint).toBe('h')
    expect(update.x509SvidTtlSeconds).toBe(0)
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['no id', {}, 'id: is required to update an entry'],
    ['an empty id', { id: '' }, 'id: is required to update an entry'],
    ['a bad id', { id: 'a/b' }, 'id: characters are limited to letters, numbers, dots, dashes, and underscores'],
    ['another trust domain', { id: 'e1', spiffe_id: 'spiffe://other.org/web' }, 'spiffe_id: must be in trust domain "example.org", not "other.org"'],
    ['no selectors', { id: 'e1', selectors: [] }, 'selectors: at least one selector is required'],
  ])('refuses %s', (_name, change, message) => {
    expect(invalid({ ...base, ...change }, validateEntryUpdate).message).toBe(message)
  })
})

describe('validateEntryId', () => {
  it('accepts an ID', () => {
    expect(validateEntryId('0b7c-aa_1.x')).toBe('0b7c-aa_1.x')
  })

  it.each<[unknown, string]>([
    ['', 'id: is required'],
    [undefined, 'id: is required'],
    [3, 'id: must be a string'],
    ['a\nb', 'id: must not contain control characters (LF at byte 1)'],
  ])('refuses %j', (value, message) => {
    expect(() => validateEntryId(value)).toThrow(new InvalidArgumentError(message))
  })
})

describe('validateEntryFilter', () => {
  it('is empty for no input and for gRPC defaults', () => {
    expect(validateEntryFilter()).toEqual({})
    expect(validateEntryFilter({ spiffe_id: '', parent_id: '', selectors: [], match: '', hint: '', owner: '', federates_with: '' })).toEqual({})
  })

  it('reads every field', () => {
    const f = validateEntryFilter({
      spiffe_id: 'spiffe://example.org/web',
      parent_id: AGENT,
      selectors: ['unix:uid:1', { type: 'docker', value: 'x' }],
      match: 'superset',
      hint: 'h',
      owner: 'o',
      federates_with: 'example.com',
      downstream: true,
    })
    expect(f.spiffeId?.toString()).toBe('spiffe://example.org/web')
    expect(f.parentId?.toString()).toBe(AGENT)
    expect(f.selectors?.match).toBe('superset')
    expect(f.selectors?.selectors.map(String)).toEqual(['docker:x', 'unix:uid:1'])
    expect(f.federatesWith?.name).toBe('example.com')
    expect(f).toMatchObject({ hint: 'h', owner: 'o', downstream: true })
  })

  it('defaults the selector match to exact', () => {
    expect(validateEntryFilter({ selectors: ['unix:uid:1'] }).selectors?.match).toBe('exact')
  })

  it.each<[Record<string, unknown>, string]>([
    [{ spiffe_id: 'spiffe://x/a/..' }, 'spiffe_id: spiffeid: path cannot contain dot segments'],
    [{ parent_id: 'nope' }, 'parent_id: spiffeid: scheme is missing or invalid'],
    [{ selectors: ['bad'] }, 'selectors[0]: selector: must have the form type:value'],
    [{ selectors: ['unix:uid:1'], match: 'some' }, 'match: must be one of exact, subset, superset, any'],
    [{ federates_with: 'Bad' }, 'federates_with: spiffeid: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores'],
    [{ downstream: 'yes' }, 'downstream: must be true or false'],
  ])('refuses %j', (input, message) => {
    expect(() => validateEntryFilter(input as never)).toThrow(new InvalidArgumentError(message))
  })
})
