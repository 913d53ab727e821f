import { describe, expect, it } from 'vitest'
import { entriesFromDocument, entryFromJson, entryToJson, idsFromDocument, selectorFromInput } from './entry-input.js'

describe('entry JSON files (--data)', () => {
  it('reads every field, selectors in both forms, numbers as numbers or decimal strings, dates as RFC 3339', () => {
    const [entry] = entriesFromDocument({
      entries: [
        {
          id: 'web-1',
          spiffe_id: 'spiffe://example.org/web',
          parent_id: 'spiffe://example.org/steeple/server',
          selectors: ['docker:label:app:web', { type: 'unix', value: 'uid:1000' }],
          x509_svid_ttl: '600',
          jwt_svid_ttl: 60,
          dns_names: ['web.example.org'],
          federates_with: ['partner.org'],
          admin: true,
          downstream: false,
          expires_at: '2030-01-01T00:00:00Z',
          hint: 'h',
          store_svid: null,
          owner: 'team',
          description: 'why',
          revision_number: 4,
          created_at: 1,
        },
      ],
    })
    expect(entry).toEqual({
      id: 'web-1',
      spiffe_id: 'spiffe://example.org/web',
      parent_id: 'spiffe://example.org/steeple/server',
      selectors: [
        { type: 'docker', value: 'label:app:web' },
        { type: 'unix', value: 'uid:1000' },
      ],
      x509_svid_ttl: 600,
      jwt_svid_ttl: 60,
      dns_names: ['web.example.org'],
      federates_with: ['partner.org'],
      admin: true,
      downstream: false,
      expires_at: String(Date.UTC(2030, 0, 1) / 1000),
      hint: 'h',
      store_svid: false,
      owner: 'team',
      description: 'why',
    })
  })

  it('reads back what `entry show --output json` prints', () => {
    const shown = entryToJson({
      id: 'e1',
      spiffe_id: 'spiffe://example.org/a',
      parent_id: 'spiffe://example.org/p',
      selectors: [{ type: 'unix', value: 'uid:1' }],
      x509_svid_ttl: 0,
      jwt_svid_ttl: 0,
      dns_names: [],
      federates_with: [],
      admin: false,
      downstream: false,
      expires_at: '0',
      hint: '',
      store_svid: false,
      revision_number: '3',
      created_at: '1700000000',
      owner: '',
      description: '',
    })
    expect(shown.revision_number).toBe(3)
    expect(shown.created_at).toBe(1700000000)
    const [again] = entriesFromDocument(JSON.parse(JSON.stringify({ entries: [shown] })))
    expect(again).toMatchObject({ id: 'e1', spiffe_id: 'spiffe://example.org/a', selectors: [{ type: 'unix', value: 'uid:1' }], expires_at: '0' })
  })

  it.each([
    ['a document without entries', [], /^--data: must be a JSON object \{"entries": \[\.\.\.\]\}$/],
    ['an unknown top-level key', { entries: [{}], extra: 1 }, /^--data: extra: is not a known key/],
    ['an empty list', { entries: [] }, /^--data: entries: must not be empty$/],
    ['an entry that is not an object', { entries: ['x'] }, /^entries\[0\]: must be an object/],
    ['an unknown field', { entries: [{ spiffeid: 'x' }] }, /^entries\[0\]\.spiffeid: is not a registration entry field$/],
    ['a SPIFFE ID that is a number', { entries: [{ spiffe_id: 5 }] }, /^entries\[0\]\.spiffe_id: must be a string$/],
    ['selectors that are not a list', { entries: [{ selectors: 'unix:uid:1' }] }, /^entries\[0\]\.selectors: must be a list$/],
    ['a selector without a colon', { entries: [{ selectors: ['uid'] }] }, /^entries\[0\]\.selectors\[0\]: "uid" must have the form type:value$/],
    ['a selector object without value', { entries: [{ selectors: [{ type: 'unix' }] }] }, /^entries\[0\]\.selectors\[0\]: must be a "type:value" string or an object/],
    ['a fractional TTL', { entries: [{ x509_svid_ttl: 1.5 }] }, /^entries\[0\]\.x509_svid_ttl: must be a whole number of seconds$/],
    ['a TTL beyond int32', { entries: [{ jwt_svid_ttl: 2 ** 31 }] }, /^entries\[0\]\.jwt_svid_ttl: must be a whole number of seconds$/],
    ['a DNS name that is not a string', { entries: [{ dns_names: ['a', 1] }] }, /^entries\[0\]\.dns_names\[1\]: must be a string$/],
    ['a flag as a string', { entries: [{ admin: 'yes' }] }, /^entries\[0\]\.admin: must be true or false$/],
    ['an expiry in words', { entries: [{ expires_at: 'tomorrow' }] }, /^entries\[0\]\.expires_at: must be unix seconds or an RFC 3339 date-time/],
  ])('refuses %s, naming where', (_name, doc, message) => {
    expect(() => entriesFromDocument(doc)).toThrow(message)
  })

  it('takes IDs to delete from {"ids"} or from the entries of `entry show` output', () => {
    expect(idsFromDocument({ ids: ['a', 'b'] })).toEqual(['a', 'b'])
    expect(idsFromDocument({ entries: [{ id: 'a', spiffe_id: 'x' }] })).toEqual(['a'])
    expect(() => idsFromDocument({ ids: [] })).toThrow(/^--data: ids: must not be empty$/)
    expect(() => idsFromDocument({ entries: [{ spiffe_id: 'x' }] })).toThrow(/^entries\[0\]\.id: is required$/)
    expect(() => idsFromDocument({ ids: [1] })).toThrow(/^ids\[0\]: must be a string$/)
    expect(() => idsFromDocument('x')).toThrow(/^--data: must be a JSON object \{"ids": \[\.\.\.\]\}$/)
  })

  it('splits flag selectors at the first colon and leaves the rules to the server', () => {
    expect(selectorFromInput('k8s:pod-label:app:web', '--selector')).toEqual({ type: 'k8s', value: 'pod-label:app:web' })
    expect(selectorFromInput('Odd:', '--selector')).toEqual({ type: 'Odd', value: '' })
    expect(() => entryFromJson({ selectors: [7] }, 'x')).toThrow(/^x\.selectors\[0\]: /)
  })
})
