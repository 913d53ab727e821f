import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { SpiffeError, type SpiffeErrorCode } from './errors.js'
import {
  MAX_SPIFFE_ID_BYTES,
  SpiffeId,
  TrustDomain,
  assertIssuableId,
  assertIssuableTrustDomain,
  assertLeafId,
  assertSigningAuthorityId,
  parseSpiffeId,
  parseTrustDomain,
  spiffeIdFromPath,
  spiffeIdFromSegments,
  validatePath,
} from './id.js'
import { thrown as caught } from './testdata/thrown.js'

interface Rejected {
  reason_code: string
  go_spiffe_error: string
}
interface SweepCase {
  codepoint: number
  id?: string
  input?: string
  valid: boolean
}
interface Sweep {
  template: string
  cases: SweepCase[]
}
interface SpecVsGoCase {
  kind: 'spiffe_id' | 'workload_endpoint_address'
  input?: string
  input_generator?: { prefix: string; repeat: string; total_length: number }
  steeple: string
  reason_code?: string
}
interface Vectors {
  spiffe_ids: {
    valid: { id: string; trust_domain: string; path: string; is_root: boolean }[]
    invalid: ({ id: string } & Rejected)[]
  }
  trust_domains: {
    valid: { input: string; trust_domain: string }[]
    invalid: ({ input: string } & Rejected)[]
  }
  paths: { valid: { path: string }[]; invalid: ({ path: string } & Rejected)[] }
  path_segments: { valid: { segment: string }[]; invalid: ({ segment: string } & Rejected)[] }
  char_sweeps: {
    allowed_trust_domain_chars: string
    allowed_path_chars: string
    go_spiffe_error_trust_domain_char: string
    go_spiffe_error_path_char: string
    id_trust_domain_position: Sweep
    id_path_position: Sweep
    trust_domain_name: Sweep
  }
  role_specific: {
    leaf_svid_ids: { valid: string[]; invalid: { id: string; reason_code: string }[] }
    signing_ca_ids: { valid: string[]; invalid: { id: string; reason_code: string }[] }
    jwt_svid_sub: {
      valid: string[]
      accepted_by_go_spiffe_but_do_not_issue: string[]
      invalid: { sub: string; go_spiffe_error: string }[]
    }
  }
  spec_vs_go_spiffe: SpecVsGoCase[]
  x509_uri_san_interop: {
    cases: { uri_san: string; valid_spiffe_id_per_go_spiffe: boolean; go_crypto_x509_1_19_parses_cert: boolean }[]
  }
}

const vectors = JSON.parse(
  readFileSync(new URL('../test/data/vectors/spiffe-ids.json', import.meta.url), 'utf8'),
) as Vectors

/** Runs `fn`, expects a SpiffeError and returns it. */

/** Asserts the error's code and that its message is `spiffeid: <go-spiffe's message>`. */
function expectRejection(err: SpiffeError, code: SpiffeErrorCode, goSpiffeError: string): void {
  expect(err.code).toBe(code)
  expect(err.message.startsWith('spiffeid: ')).toBe(true)
  expect(err.message.endsWith(goSpiffeError)).toBe(true)
}

/** Shortens 2 KiB inputs and shows control characters in test titles. */
function show(s: string): string {
  const json = JSON.stringify(s)
  return json.length > 80 ? `${json.slice(0, 60)}…(${Buffer.byteLength(s)} bytes)` : json
}

/** The CONFORMANCE items one rejected ID exercises, from its reason and what it contains. */
function conformanceIdsFor(id: string, reason: string): string {
  const ids = new Set<string>()
  const authority = (id.startsWith('spiffe://') ? id.slice(9) : id).split('/')[0]!
  switch (reason) {
    case 'empty':
    case 'bad_scheme':
    case 'no_leading_slash':
      ids.add('ID-01')
      if (/^spiffe:\/\//i.test(id) && !id.startsWith('spiffe://')) ids.add('ID-12')
      break
    case 'missing_trust_domain':
      ids.add('ID-02')
      break
    case 'bad_trust_domain_char':
      ids.add('ID-05')
      if (authority.includes('@') || /^[^:]+:[0-9]+$/.test(authority)) ids.add('ID-04')
      if (authority.includes('::')) ids.add('ID-07')
      break
    case 'bad_path_char':
      ids.add('ID-10')
      break
    case 'empty_segment':
    case 'dot_segment':
      ids.add('ID-08')
      break
    case 'trailing_slash':
      ids.add('ID-09')
      break
    default:
      throw new Error(`unknown reason_code ${reason}`)
  }
  if (/[?#]/.test(id)) ids.add('ID-03')
  if (id.includes('%')) ids.add('ID-06')
  return [...ids].sort().join(', ')
}

describe('spiffe_ids vectors', () => {
  const valid = vectors.spiffe_ids.valid.map((c) => {
    const tags = Buffer.byteLength(c.id) === MAX_SPIFFE_ID_BYTES ? 'ID-01, ID-11' : 'ID-01'
    return [`${tags}: accepts ${show(c.id)}`, c] as const
  })
  it.each(valid)('%s', (_title, c) => {
    const id = parseSpiffeId(c.id)
    expect(id.trustDomain.name).toBe(c.trust_domain)
    expect(id.path).toBe(c.path)
    expect(id.isRoot).toBe(c.is_root)
    expect(id.toString()).toBe(c.id)
    expect(id.toJSON()).toBe(c.id)
    expect(id.equals(parseSpiffeId(c.id))).toBe(true)
  })

  const invalid = vectors.spiffe_ids.invalid.map(
    (c) => [`${conformanceIdsFor(c.id, c.reason_code)}: rejects ${show(c.id)} (${c.reason_code})`, c] as const,
  )
  it.each(invalid)('%s', (_title, c) => {
    expectRejection(caught(() => parseSpiffeId(c.id)), 'INVALID_SPIFFE_ID', c.go_spiffe_error)
  })

  it('ID-01, ID-05: a SpiffeId cannot be built except by parsing', () => {
    const td = parseTrustDomain('example.org')
    expect(() => new SpiffeId(Symbol('construct'), td, '/x')).toThrow(TypeError)
    expect(() => new TrustDomain(Symbol('construct'), 'EXAMPLE')).toThrow(TypeError)
  })
})

describe('trust_domains vectors', () => {
  it.each(vectors.trust_domains.valid.map((c) => [`ID-05: accepts ${show(c.input)}`, c] as const))(
    '%s',
    (_title, c) => {
      const td = parseTrustDomain(c.input)
      expect(td.name).toBe(c.trust_domain)
      expect(td.toString()).toBe(c.trust_domain)
      expect(td.idString()).toBe(`spiffe://${c.trust_domain}`)
      expect(td.id.toString()).toBe(`spiffe://${c.trust_domain}`)
      expect(td.id.isRoot).toBe(true)
    },
  )

  it.each(
    vectors.trust_domains.invalid.map(
      (c) => [`${conformanceIdsFor(c.input, c.reason_code)}: rejects ${show(c.input)} (${c.reason_code})`, c] as const,
    ),
  )('%s', (_title, c) => {
    expectRejection(caught(() => parseTrustDomain(c.input)), 'INVALID_TRUST_DOMAIN', c.go_spiffe_error)
  })
})

describe('paths vectors', () => {
  const td = parseTrustDomain('example.org')

  it.each(vectors.paths.valid.map((c) => [`ID-08, ID-10: accepts path ${show(c.path)}`, c] as const))(
    '%s',
    (_title, c) => {
      expect(() => validatePath(c.path)).not.toThrow()
      const id = spiffeIdFromPath(td, c.path)
      expect(id.path).toBe(c.path)
      expect(id.equals(parseSpiffeId(`spiffe://example.org${c.path}`))).toBe(true)
    },
  )

  it.each(
    vectors.paths.invalid.map(
      (c) => [`${conformanceIdsFor('spiffe://td' + c.path, c.reason_code)}: rejects path ${show(c.path)}`, c] as const,
    ),
  )('%s', (_title, c) => {
    expectRejection(caught(() => validatePath(c.path)), 'INVALID_PATH', c.go_spiffe_error)
    expectRejection(caught(() => spiffeIdFromPath(td, c.path)), 'INVALID_PATH', c.go_spiffe_error)
  })
})

describe('path_segments vectors (spiffeIdFromSegments, one segment per case)', () => {
  const td = parseTrustDomain('example.org')

  it.each(vectors.path_segments.valid.map((c) => [`ID-08, ID-10: accepts segment ${show(c.segment)}`, c] as const))(
    '%s',
    (_title, c) => {
      const id = spiffeIdFromSegments(td, c.segment)
      expect(id.path).toBe(`/${c.segment}`)
      expect(id.equals(spiffeIdFromPath(td, `/${c.segment}`))).toBe(true)
      expect(spiffeIdFromSegments(td, 'ns', c.segment).toString()).toBe(`spiffe://example.org/ns/${c.segment}`)
    },
  )

  it.each(
    vectors.path_segments.invalid.map(
      (c) =>
        [`${conformanceIdsFor('spiffe://td/' + c.segment, c.reason_code)}: rejects segment ${show(c.segment)}`, c] as const,
    ),
  )('%s', (_title, c) => {
    expectRejection(caught(() => spiffeIdFromSegments(td, c.segment)), 'INVALID_PATH', c.go_spiffe_error)
    expectRejection(caught(() => spiffeIdFromSegments(td, 'ok', c.segment)), 'INVALID_PATH', c.go_spiffe_error)
  })

  it('ID-08: no segments gives the root ID', () => {
    expect(spiffeIdFromSegments(td).toString()).toBe('spiffe://example.org')
  })
})

describe('char_sweeps vectors (code points 0..255)', () => {
  const sweeps = vectors.char_sweeps
  const positions = [
    {
      title: 'ID-05: trust domain position of an ID',
      sweep: sweeps.id_trust_domain_position,
      parse: (s: string) => parseSpiffeId(s),
      allowed: sweeps.allowed_trust_domain_chars,
      message: sweeps.go_spiffe_error_trust_domain_char,
      skipsSlash: true,
    },
    {
      title: 'ID-10: path position of an ID',
      sweep: sweeps.id_path_position,
      parse: (s: string) => parseSpiffeId(s),
      allowed: sweeps.allowed_path_chars,
      message: sweeps.go_spiffe_error_path_char,
      skipsSlash: true,
    },
    {
      title: 'ID-05: bare trust domain name',
      sweep: sweeps.trust_domain_name,
      parse: (s: string) => parseTrustDomain(s),
      allowed: sweeps.allowed_trust_domain_chars,
      message: sweeps.go_spiffe_error_trust_domain_char,
      skipsSlash: false,
    },
  ]

  it.each(positions.map((p) => [`${p.title}: every code point gets go-spiffe's verdict`, p] as const))('%s', (_title, p) => {
    const expected = Array.from({ length: 256 }, (_, i) => i).filter((i) => !(p.skipsSlash && i === 0x2f))
    expect(p.sweep.cases.map((c) => c.codepoint)).toEqual(expected)
    for (const c of p.sweep.cases) {
      const input = c.id ?? c.input!
      // The JSON carries code points >= 0x80 as UTF-8 text, as Go's string(rune(i)) does, so the
      // decoded string holds exactly the code point the template names.
      expect(input).toBe(p.sweep.template.replace('{c}', String.fromCodePoint(c.codepoint)))
      expect(c.valid).toBe(p.allowed.includes(String.fromCodePoint(c.codepoint)))
      let verdict: boolean
      try {
        p.parse(input)
        verdict = true
      } catch (err) {
        expect((err as Error).message).toBe(`spiffeid: ${p.message}`)
        verdict = false
      }
      expect({ codepoint: c.codepoint, valid: verdict }).toEqual({ codepoint: c.codepoint, valid: c.valid })
    }
  })
})

describe('role_specific vectors', () => {
  const roles = vectors.role_specific

  it.each(roles.leaf_svid_ids.valid)('X509-04: leaf ID %s has a non-root path', (s) => {
    expect(() => assertLeafId(parseSpiffeId(s))).not.toThrow()
  })

  it.each(roles.leaf_svid_ids.invalid)('X509-04: leaf ID $id is refused ($reason_code)', (c) => {
    const err = caught(() => assertLeafId(parseSpiffeId(c.id)))
    expect(err.code).toBe('INVALID_SPIFFE_ID')
    expect(err.message).toBe('spiffeid: leaf SPIFFE ID must have a non-root path')
  })

  it.each(roles.signing_ca_ids.valid)('ID-13, X509-15: signing authority ID %s has no path', (s) => {
    expect(() => assertSigningAuthorityId(parseSpiffeId(s))).not.toThrow()
  })

  it.each(roles.signing_ca_ids.invalid)('ID-09, ID-13, X509-15: signing authority ID $id is refused ($reason_code)', (c) => {
    const err = caught(() => assertSigningAuthorityId(parseSpiffeId(c.id)))
    expect(err.code).toBe('INVALID_SPIFFE_ID')
    expect(err.message).toBe(
      c.reason_code === 'trailing_slash'
        ? 'spiffeid: path cannot have a trailing slash'
        : 'spiffeid: signing authority SPIFFE ID must not have a path',
    )
  })

  it.each(roles.jwt_svid_sub.valid)('JWT-06: sub %s is issuable', (s) => {
    expect(() => assertLeafId(parseSpiffeId(s))).not.toThrow()
  })

  it.each(roles.jwt_svid_sub.accepted_by_go_spiffe_but_do_not_issue)(
    'JWT-06: sub %s parses but is not issuable for a workload',
    (s) => {
      expect(() => assertLeafId(parseSpiffeId(s))).toThrow('leaf SPIFFE ID must have a non-root path')
    },
  )

  it.each(roles.jwt_svid_sub.invalid)('ID-01, JWT-06: sub $sub is not a SPIFFE ID', (c) => {
    const err = caught(() => parseSpiffeId(c.sub))
    expect(err.code).toBe('INVALID_SPIFFE_ID')
    expect(c.go_spiffe_error.endsWith(err.message.slice('spiffeid: '.length))).toBe(true)
  })
})

describe('spec_vs_go_spiffe vectors (we follow the steeple column)', () => {
  function inputOf(c: SpecVsGoCase): string {
    if (c.input !== undefined) return c.input
    const g = c.input_generator!
    return g.prefix + g.repeat.repeat(g.total_length - g.prefix.length)
  }

  // The workload_endpoint_address cases are run by workloadapi/endpoint.test.ts.
  const cases = vectors.spec_vs_go_spiffe
    .filter((c) => c.kind === 'spiffe_id')
    .map((c) => [`${c.input?.startsWith('SPIFFE') ? 'ID-12' : 'ID-11'}: ${show(inputOf(c))} → ${c.steeple}`, c] as const)

  it.each(cases)('%s', (_title, c) => {
    const input = inputOf(c)
    if (c.steeple.startsWith('reject on parse')) {
      expect(caught(() => parseSpiffeId(input)).code).toBe('INVALID_SPIFFE_ID')
      return
    }
    // go-spiffe accepts these, so a parser must too; only the issuer refuses them.
    const id = parseSpiffeId(input)
    const err = caught(() => assertIssuableId(id))
    if (c.reason_code === 'trust_domain_too_long') {
      expect(err.code).toBe('INVALID_TRUST_DOMAIN')
      expect(err.message).toBe('spiffeid: trust domain must not be longer than 255 bytes')
    } else {
      expect(err.code).toBe('INVALID_SPIFFE_ID')
      expect(err.message).toBe('spiffeid: must not be longer than 2048 bytes')
    }
  })

  it('ID-11: IDs of exactly 2048 bytes and trust domains of exactly 255 bytes are issuable', () => {
    const longest = vectors.spiffe_ids.valid.find((c) => Buffer.byteLength(c.id) === MAX_SPIFFE_ID_BYTES)
    expect(longest).toBeDefined()
    expect(() => assertIssuableId(parseSpiffeId(longest!.id))).not.toThrow()
    const td255 = `spiffe://${'a'.repeat(255)}/path`
    expect(() => assertIssuableId(parseSpiffeId(td255))).not.toThrow()
  })

  it('ID-12: paths compare case-sensitively, trust domains are lowercase only', () => {
    expect(parseSpiffeId('spiffe://td/A').equals(parseSpiffeId('spiffe://td/a'))).toBe(false)
    expect(parseSpiffeId('spiffe://td/a').equals(parseSpiffeId('spiffe://td/a'))).toBe(true)
    expect(() => parseSpiffeId('spiffe://TD/a')).toThrow(SpiffeError)
  })

  it('ID-07: an IPv4-looking trust domain is a plain name', () => {
    const id = parseSpiffeId('spiffe://192.168.1.1/path')
    expect(id.trustDomain.equals(parseTrustDomain('192.168.1.1'))).toBe(true)
    expect(id.trustDomain.equals(parseTrustDomain('192.168.1.01'))).toBe(false)
    expect(id.memberOf(parseTrustDomain('192.168.1.1'))).toBe(true)
  })
})

describe('x509_uri_san_interop vectors', () => {
  const cases = vectors.x509_uri_san_interop.cases.map(
    (c) => [`INTEROP-10: ${c.uri_san} (Go crypto/x509 parses: ${c.go_crypto_x509_1_19_parses_cert})`, c] as const,
  )

  it.each(cases)('%s', (_title, c) => {
    const id = parseSpiffeId(c.uri_san)
    expect(c.valid_spiffe_id_per_go_spiffe).toBe(true)
    const hasEmptyLabel = id.trustDomain.name.split('.').some((label) => label === '')
    // Every name Go refuses has an empty label; we refuse all of those (the leading-dot case too,
    // which only old Go versions accept).
    if (!c.go_crypto_x509_1_19_parses_cert) expect(hasEmptyLabel).toBe(true)
    if (hasEmptyLabel) {
      const err = caught(() => assertIssuableTrustDomain(id.trustDomain))
      expect(err.code).toBe('INVALID_TRUST_DOMAIN')
      expect(err.message).toMatch(/^spiffeid: trust domain labels must not be empty/)
      expect(() => assertIssuableId(id)).toThrow(SpiffeError)
    } else {
      expect(() => assertIssuableTrustDomain(id.trustDomain)).not.toThrow()
      expect(() => assertIssuableId(id)).not.toThrow()
    }
  })
})
