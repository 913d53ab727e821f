import { sign } from 'node:crypto'
import * as grpc from '@grpc/grpc-js'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { UnavailableError } from '../../common/errors.js'
import { parseJwtSvidInsecure, parseSpiffeId, parseTrustDomain, signJwtSvid } from '../../spiffe/index.js'
import { structToJson } from '../../workloadapi/decode.js'
import { FakeAuthority } from '../../test/fakes/fake-identity-cache.js'
import { Harness, OpenStream, TRUST_DOMAIN, headerMetadata, rawCall } from './testdata/harness.js'

const harnesses: Harness[] = []
async function harness(): Promise<Harness> {
  const h = await Harness.start()
  harnesses.push(h)
  return h
}
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop()
})

interface JwtSvidResponse {
  svids: { spiffe_id: string; svid: string; hint: string }[]
}

async function fetchJwt(h: Harness, request: { audience?: string[]; spiffe_id?: string }) {
  const result = await rawCall(h.raw(), 'FetchJWTSVID', request, headerMetadata('true'))
  return { ...result, response: result.messages[0] as unknown as JwtSvidResponse | undefined }
}

async function validate(h: Harness, audience: string, svid: string) {
  const result = await rawCall(h.raw(), 'ValidateJWTSVID', { audience, svid }, headerMetadata('true'))
  const message = result.messages[0] as { spiffe_id: string; claims: Parameters<typeof structToJson>[0] } | undefined
  return { code: result.code, details: result.details, spiffeId: message?.spiffe_id, claims: message && structToJson(message.claims) }
}

/** A compact ES256 token with exactly these claims, signed by `authority`'s JWT key. */
function handSigned(authority: FakeAuthority, claims: Record<string, unknown>): string {
  const enc = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const input = `${enc({ alg: 'ES256', kid: authority.jwtKey.kid, typ: 'JWT' })}.${enc(claims)}`
  const signature = sign('sha256', Buffer.from(input), { key: authority.jwtKey.privateKey, dsaEncoding: 'ieee-p1363' })
  return `${input}.${signature.toString('base64url')}`
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

describe('FetchJWTSVID', () => {
  it('WJ-02, WJ-03, WJ-04: one token per identity of the caller, aud as requested, sub = spiffe_id', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/db', selectors: ['test:caller'], hint: 'db' })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/other', selectors: ['test:other'] })
    const { code, response } = await fetchJwt(h, { audience: ['svc-a', 'svc-b'] })
    expect(code).toBe(0)
    expect(response!.svids.map((s) => [s.spiffe_id, s.hint])).toEqual([
      ['spiffe://example.org/web', ''],
      ['spiffe://example.org/db', 'db'],
    ])
    for (const svid of response!.svids) {
      const token = parseJwtSvidInsecure(svid.svid)
      expect(token.id.toString()).toBe(svid.spiffe_id)
      expect(token.audience).toEqual(['svc-a', 'svc-b'])
    }
  })

  it('WJ-03: with spiffe_id, only that identity', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/db', selectors: ['test:caller'] })
    const { response } = await fetchJwt(h, { audience: ['a'], spiffe_id: 'spiffe://example.org/db' })
    expect(response!.svids.map((s) => s.spiffe_id)).toEqual(['spiffe://example.org/db'])
  })

  it('two entries with the same SPIFFE ID are one identity: one token', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller', 'test:more'] })
    h.selectors = ['test:caller', 'test:more']
    const { response } = await fetchJwt(h, { audience: ['a'] })
    expect(response!.svids.map((s) => s.spiffe_id)).toEqual(['spiffe://example.org/web'])
    expect(h.cache.jwtRequests).toHaveLength(1)
  })

  it('WAPI-14: hints are unique, the first wins', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/a', selectors: ['test:caller'], hint: 'internal' })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/b', selectors: ['test:caller'], hint: 'internal' })
    const { response } = await fetchJwt(h, { audience: ['a'] })
    expect(response!.svids.map((s) => s.spiffe_id)).toEqual(['spiffe://example.org/a'])
  })

  it.each([
    ['no audience', { audience: [] }, 'audience must be specified'],
    ['an empty audience value', { audience: ['a', ''] }, 'audience must not contain empty values'],
    ['a spiffe_id that is not a SPIFFE ID', { audience: ['a'], spiffe_id: 'https://example.org/web' }, /^invalid requested SPIFFE ID: /],
  ] as const)('WJ-02, WAPI-10, INTEROP-13: %s → INVALID_ARGUMENT before attestation', async (_name, request, details) => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const result = await fetchJwt(h, { ...request, audience: [...request.audience] })
    expect(result.code).toBe(grpc.status.INVALID_ARGUMENT)
    expect(result.details).toMatch(details)
    expect(h.attested).toEqual([])
  })

  it('WJ-05: asking for a SPIFFE ID the caller is not entitled to → PERMISSION_DENIED', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/admin', selectors: ['test:admin'] })
    const result = await fetchJwt(h, { audience: ['a'], spiffe_id: 'spiffe://example.org/admin' })
    expect(result).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: 'no identity issued' })
    expect(h.cache.jwtRequests).toEqual([])
  })

  it('WEP-12, INTEROP-13: the server being unreachable is UNAVAILABLE "no identity available right now"; why is logged at warn, once for a retrying client', async () => {
    const h = await harness()
    const web = h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const since = new Date(Date.now() - 60_000)
    h.cache.setServerUnreachable(since)
    h.cache.failJwtSvids(new UnavailableError('agentclient: connect ECONNREFUSED 127.0.0.1:8081'))
    for (let i = 0; i < 3; i++) {
      const result = await fetchJwt(h, { audience: ['a'] })
      expect(result).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'no identity available right now' })
    }
    const lines = h.logsWith('JWT-SVID not issued')
    expect(lines.map((line) => line['level'])).toEqual(['warn', 'debug', 'debug'])
    expect(lines[0]).toMatchObject({
      reason: 'agentclient: connect ECONNREFUSED 127.0.0.1:8081',
      serverUnreachableSince: since.toISOString(),
      entryIds: [web],
      spiffeIds: ['spiffe://example.org/web'],
      callerPid: process.pid,
    })
  })

  it('logs the issued identities with pid, uid and audience, never the token', async () => {
    const h = await harness()
    const web = h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const { response } = await fetchJwt(h, { audience: ['svc'] })
    expect(h.logsWith('Identity issued')[0]).toMatchObject({
      level: 'info',
      method: 'FetchJWTSVID',
      callerPid: process.pid,
      callerUid: process.getuid!(),
      svidType: 'jwt',
      spiffeIds: ['spiffe://example.org/web'],
      entryIds: [web],
      audience: ['svc'],
    })
    const token = response!.svids[0]!.svid
    const text = h.logs.map((l) => JSON.stringify(l)).join('\n')
    expect(text).not.toContain(token)
    expect(text).not.toContain(token.split('.')[2])
  })
})

describe('FetchJWTBundles', () => {
  it('WJ-06, WJ-07, WJ-08, INTEROP-02: JWK Sets of JWT-SVID keys, each with a kid, keyed by trust domain SPIFFE ID', async () => {
    const h = await harness()
    const partner = new FakeAuthority(parseTrustDomain('partner.test'))
    h.cache.setFederatedBundle(partner.bundle)
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'], federatesWith: [partner.trustDomain] })
    const [message] = (await rawCall(h.raw(), 'FetchJWTBundles', {}, headerMetadata('true'))).messages as unknown as { bundles: Record<string, Buffer> }[]
    expect(Object.keys(message!.bundles)).toEqual(['spiffe://example.org', 'spiffe://partner.test'])
    for (const [key, authority] of [
      ['spiffe://example.org', h.cache.authority],
      ['spiffe://partner.test', partner],
    ] as const) {
      const jwks = JSON.parse(Buffer.from(message!.bundles[key]!).toString('utf8')) as { keys: Record<string, unknown>[] }
      expect(jwks.keys.map((k) => k['kid'])).toEqual([authority.jwtKey.kid])
      for (const key of jwks.keys) {
        expect(key['use'] === undefined || key['use'] === 'jwt-svid').toBe(true)
        expect(key['x5c']).toBeUndefined()
      }
    }
  })

  it('jose verifies a JWT-SVID with the JWK Set as served', async () => {
    const h = await harness()
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'] })
    const [message] = (await rawCall(h.raw(), 'FetchJWTBundles', {}, headerMetadata('true'))).messages as unknown as { bundles: Record<string, Buffer> }[]
    const jwks = JSON.parse(Buffer.from(message!.bundles[TRUST_DOMAIN.idString()]!).toString('utf8')) as Parameters<typeof createLocalJWKSet>[0]
    const { response } = await fetchJwt(h, { audience: ['svc'] })
    const verified = await jwtVerify(response!.svids[0]!.svid, createLocalJWKSet(jwks), { audience: 'svc' })
    expect(verified.payload.sub).toBe('spiffe://example.org/web')
  })

  it('WJ-09: a new JWT key of a federated trust domain brings a full new message', async () => {
    const h = await harness()
    const partner = new FakeAuthority(parseTrustDomain('partner.test'))
    h.cache.addEntry({ spiffeId: 'spiffe://example.org/web', selectors: ['test:caller'], federatesWith: [partner.trustDomain] })
    const stream = new OpenStream<{ bundles: Record<string, Buffer> }>(h.raw(), 'FetchJWTBundles')
    expect(Object.keys((await stream.next()).bundles)).toEqual(['spiffe://example.org'])
    h.cache.setFederatedBundle(partner.bundle)
    expect(Object.keys((await stream.next()).bundles)).toEqual(['spiffe://example.org', 'spiffe://partner.test'])
    stream.cancel()
  })
})

describe('ValidateJWTSVID', () => {
  it('WJ-11, WJ-14, INTEROP-14: a valid token gives its spiffe_id and its claims, aud as a list; the caller needs no identity', async () => {
    const h = await harness()
    const token = signJwtSvid({
      spiffeId: parseSpiffeId('spiffe://example.org/web'),
      audience: ['me'],
      ttlSeconds: 300,
      key: h.cache.authority.jwtKey,
    }).token
    const result = await validate(h, 'me', token)
    expect(result.code).toBe(0)
    expect(result.spiffeId).toBe('spiffe://example.org/web')
    expect(result.claims).toMatchObject({ sub: 'spiffe://example.org/web', aud: ['me'], exp: expect.any(Number), iat: expect.any(Number) })
  })

  it('INTEROP-14: a single-string aud comes back as a list; own-trust-domain tokens keep their other claims', async () => {
    const h = await harness()
    const token = handSigned(h.cache.authority, { sub: 'spiffe://example.org/web', aud: 'me', exp: nowSeconds() + 300, iss: 'steeple', custom: { a: [1, true, null] } })
    const result = await validate(h, 'me', token)
    expect(result.claims).toEqual({ sub: 'spiffe://example.org/web', aud: ['me'], exp: nowSeconds() + 300, iss: 'steeple', custom: { a: [1, true, null] } })
  })

  it('WJ-13, WJ-14, INTEROP-14: a token of a federated trust domain is checked with that domain\'s bundle; only sub, aud and exp come back', async () => {
    const h = await harness()
    const partner = new FakeAuthority(parseTrustDomain('partner.test'))
    h.cache.setFederatedBundle(partner.bundle)
    const exp = nowSeconds() + 300
    const token = handSigned(partner, { sub: 'spiffe://partner.test/api', aud: ['me'], exp, iat: nowSeconds(), secret_group: 'x' })
    const result = await validate(h, 'me', token)
    expect(result).toMatchObject({ code: 0, spiffeId: 'spiffe://partner.test/api' })
    expect(result.claims).toEqual({ sub: 'spiffe://partner.test/api', aud: ['me'], exp })
  })

  it.each([
    ['no audience', '', 'x.y.z', 'audience must be specified'],
    ['no svid', 'me', '', 'svid must be specified'],
  ])('WJ-11, WAPI-10: %s → INVALID_ARGUMENT before attestation', async (_name, audience, svid, details) => {
    const h = await harness()
    expect(await validate(h, audience, svid)).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details })
    expect(h.attested).toEqual([])
  })

  it('WJ-12, WJ-13, INTEROP-14: every failed check is INVALID_ARGUMENT naming the rule', async () => {
    const h = await harness()
    const partner = new FakeAuthority(parseTrustDomain('partner.test'))
    const own = h.cache.authority
    const good = { sub: 'spiffe://example.org/web', aud: ['me'], exp: nowSeconds() + 300 }
    const valid = handSigned(own, good)
    const [head] = valid.split('.')
    const cases: [string, string, RegExp][] = [
      ['malformed', 'not-a-token', /^jwtsvid: /],
      ['expired', handSigned(own, { ...good, exp: nowSeconds() - 600 }), /token has expired/],
      ['for another audience', handSigned(own, { ...good, aud: ['someone-else'] }), /expected audience/],
      ['tampered', `${head}.${Buffer.from(JSON.stringify({ ...good, sub: 'spiffe://example.org/admin' })).toString('base64url')}.${valid.split('.')[2]}`, /signature/],
      ['signed with a key the bundle lacks', handSigned(partner, good), /signature|JWT authority/],
      ['of a trust domain without a bundle', handSigned(partner, { ...good, sub: 'spiffe://partner.test/api' }), /no bundle found for trust domain "partner.test"/],
      ['of trust domain B signed with A\'s key (no pooling)', handSigned(own, { ...good, sub: 'spiffe://partner.test/api' }), /no bundle found/],
      ['with no sub', handSigned(own, { aud: ['me'], exp: good.exp }), /subject/],
    ]
    for (const [name, token, message] of cases) {
      const result = await validate(h, 'me', token)
      expect(result.code, name).toBe(grpc.status.INVALID_ARGUMENT)
      expect(result.details, name).toMatch(message)
    }
  })

  it('WJ-12: time checks use the agent clock', async () => {
    const h = await harness()
    const token = handSigned(h.cache.authority, { sub: 'spiffe://example.org/web', aud: ['me'], exp: nowSeconds() + 300 })
    expect((await validate(h, 'me', token)).code).toBe(0)
    h.now = new Date(Date.now() + 3600_000)
    expect(await validate(h, 'me', token)).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'jwtsvid: token has expired' })
  })
})
