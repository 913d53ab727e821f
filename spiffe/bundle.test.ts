import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Bundle, BundleSet, bundleFor } from './bundle.js'
import type { JwtAuthority } from './bundle.js'
import { SpiffeError } from './errors.js'
import { parseTrustDomain } from './id.js'

const td = parseTrustDomain('example.org')
const other = parseTrustDomain('other.test')

function jwtKey(kid: string): JwtAuthority {
  return { kid, publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey }
}

function invalid(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(SpiffeError)
    expect((err as SpiffeError).code).toBe('INVALID_BUNDLE')
    return (err as SpiffeError).message
  }
  throw new Error('expected a SpiffeError, nothing was thrown')
}

// Stand-ins for DER certificates: the model stores bytes and does not parse them.
const derA = new Uint8Array([0x30, 0x01, 0xaa])
const derB = new Uint8Array([0x30, 0x01, 0xbb])

describe('Bundle', () => {
  it('BUN-11: a bundle is always held with its trust domain', () => {
    const bundle = new Bundle(td, { x509Authorities: [derA] })
    expect(bundle.trustDomain.equals(td)).toBe(true)
  })

  it('keeps authorities in publication order and finds JWT keys by kid', () => {
    const k1 = jwtKey('k1')
    const k2 = jwtKey('k2')
    const bundle = new Bundle(td, { x509Authorities: [derA, derB], jwtAuthorities: [k2, k1] })
    expect(bundle.x509Authorities).toEqual([derA, derB])
    expect([...bundle.jwtAuthorities.keys()]).toEqual(['k2', 'k1'])
    expect(bundle.findJwtAuthority('k1')).toBe(k1)
    expect(bundle.findJwtAuthority('nope')).toBeUndefined()
  })

  it('does not change when the caller later changes the array it passed in', () => {
    const list = [derA]
    const bundle = new Bundle(td, { x509Authorities: list })
    list.push(derB)
    expect(bundle.x509Authorities).toHaveLength(1)
    expect(Object.isFrozen(bundle.x509Authorities)).toBe(true)
  })

  it('BUN-03: a bundle without keys of either kind is empty', () => {
    expect(new Bundle(td).isEmpty).toBe(true)
    expect(new Bundle(td, { sequenceNumber: 5n, refreshHintSeconds: 60 }).isEmpty).toBe(true)
    expect(new Bundle(td, { x509Authorities: [derA] }).isEmpty).toBe(false)
    expect(new Bundle(td, { jwtAuthorities: [jwtKey('k')] }).isEmpty).toBe(false)
  })

  it('concatenates the X.509 authorities as the Workload API sends them', () => {
    expect(new Bundle(td, { x509Authorities: [derA, derB] }).x509AuthoritiesDer()).toEqual(Buffer.from([0x30, 0x01, 0xaa, 0x30, 0x01, 0xbb]))
    expect(new Bundle(td).x509AuthoritiesDer()).toHaveLength(0)
  })

  it('JWT-14: every JWT authority has a non-empty kid, unique in the bundle', () => {
    expect(invalid(() => new Bundle(td, { jwtAuthorities: [jwtKey('')] }))).toBe('bundle: JWT authority key ID must not be empty')
    expect(invalid(() => new Bundle(td, { jwtAuthorities: [jwtKey('a'), jwtKey('a')] }))).toBe('bundle: duplicate JWT authority key ID "a"')
  })

  it('BUN-09: sequence numbers are bigints and never negative', () => {
    expect(new Bundle(td, { sequenceNumber: 2n ** 63n }).sequenceNumber).toBe(2n ** 63n)
    expect(new Bundle(td, { sequenceNumber: 0n }).sequenceNumber).toBe(0n)
    expect(invalid(() => new Bundle(td, { sequenceNumber: -1n }))).toBe('bundle: sequence number must not be negative')
  })

  it.each([1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('BUN-10: refresh hint %s is refused', (seconds) => {
    expect(invalid(() => new Bundle(td, { refreshHintSeconds: seconds }))).toBe('bundle: refresh hint must be a whole number of seconds')
  })

  it('BUN-10: a refresh hint of whole seconds is kept, 0 included', () => {
    expect(new Bundle(td, { refreshHintSeconds: 0 }).refreshHintSeconds).toBe(0)
    expect(new Bundle(td, { refreshHintSeconds: 300 }).refreshHintSeconds).toBe(300)
  })

  it('BUN-12: with() makes a new bundle with some fields replaced and leaves the original alone', () => {
    const k1 = jwtKey('k1')
    const original = new Bundle(td, { x509Authorities: [derA], jwtAuthorities: [k1], sequenceNumber: 1n, refreshHintSeconds: 60 })
    const rotated = original.with({ x509Authorities: [derA, derB], sequenceNumber: 2n })
    expect(rotated.x509Authorities).toEqual([derA, derB])
    expect(rotated.findJwtAuthority('k1')).toBe(k1)
    expect(rotated.sequenceNumber).toBe(2n)
    expect(rotated.refreshHintSeconds).toBe(60)
    expect(rotated.trustDomain.equals(td)).toBe(true)
    expect(original.x509Authorities).toEqual([derA])
    expect(original.sequenceNumber).toBe(1n)

    const revoked = original.with({ jwtAuthorities: [] })
    expect(revoked.jwtAuthorities.size).toBe(0)
    expect(revoked.x509Authorities).toEqual([derA])
  })

  it('with() clears the sequence number or refresh hint when given undefined explicitly', () => {
    const original = new Bundle(td, { sequenceNumber: 1n, refreshHintSeconds: 60 })
    expect(original.with({ refreshHintSeconds: undefined }).refreshHintSeconds).toBeUndefined()
    expect(original.with({ refreshHintSeconds: undefined }).sequenceNumber).toBe(1n)
    expect(original.with({ sequenceNumber: undefined }).sequenceNumber).toBeUndefined()
    expect(original.with({}).sequenceNumber).toBe(1n)
  })

  it('with() applies the same rules as the constructor', () => {
    expect(invalid(() => new Bundle(td).with({ sequenceNumber: -5n }))).toBe('bundle: sequence number must not be negative')
  })
})

describe('BundleSet and bundleFor', () => {
  it('BUN-11: bundles are kept and looked up by trust domain, never pooled', () => {
    const mine = new Bundle(td, { x509Authorities: [derA] })
    const theirs = new Bundle(other, { x509Authorities: [derB] })
    const set = new BundleSet([mine, theirs])
    expect(set.size).toBe(2)
    expect(set.get(parseTrustDomain('example.org'))).toBe(mine)
    expect(set.get(other)).toBe(theirs)
    expect(set.get(parseTrustDomain('third.test'))).toBeUndefined()
    expect(set.has(td)).toBe(true)
    expect([...set].map((b) => b.trustDomain.name)).toEqual(['example.org', 'other.test'])
    expect([...set.values()]).toEqual([mine, theirs])
  })

  it('BUN-12: adding a bundle of a known trust domain replaces it; remove drops it', () => {
    const first = new Bundle(td, { sequenceNumber: 1n })
    const second = first.with({ sequenceNumber: 2n })
    const set = new BundleSet([first])
    set.add(second)
    expect(set.size).toBe(1)
    expect(set.get(td)).toBe(second)
    expect(set.remove(td)).toBe(true)
    expect(set.remove(td)).toBe(false)
    expect(set.get(td)).toBeUndefined()
  })

  it('BUN-11: bundleFor picks by trust domain from a bundle or a set', () => {
    const mine = new Bundle(td)
    expect(bundleFor(mine, td)).toBe(mine)
    // A single bundle answers for its own trust domain only.
    expect(bundleFor(mine, other)).toBeUndefined()
    const set = new BundleSet([mine])
    expect(bundleFor(set, td)).toBe(mine)
    expect(bundleFor(set, other)).toBeUndefined()
  })
})
