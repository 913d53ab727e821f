import { X509Certificate, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, SteepleError } from '../../common/errors.js'
import { createLogger } from '../../common/logger.js'
import type { AuditEvent } from '../../plugins/data-store/types.js'
import { parseSpiffeId, parseTrustDomain } from '../../spiffe/id.js'
import { signJwtSvid } from '../../spiffe/jwt-svid.js'
import { generateKeyPair, mintX509Svid } from '../../spiffe/index.js'
import { FakeAuthority } from '../../test/fakes/fake-identity-cache.js'
import { MemoryDataStore } from '../../test/fakes/memory-data-store.js'
import { SvidIssuer, serialHex, type SvidSigner } from './issuer.js'

const td = parseTrustDomain('example.org')
const NOW = new Date('2030-01-01T00:00:00Z')
const web = parseSpiffeId('spiffe://example.org/web')
const admin = { actor: 'admin:uid:0', via: 'admin mint' }

/** A real CA (self-signed, P-256) and JWT key behind the issuer, as the CA manager would sign. */
function setup(options: { failAudit?: boolean } = {}) {
  const authority = new FakeAuthority(td, 86_400, NOW)
  const signer: SvidSigner = {
    signX509Svid: (r) => mintX509Svid({ ca: authority.ca, ...r, now: NOW }),
    signJwtSvid: (r) => signJwtSvid({ ...r, key: authority.jwtKey, now: NOW }),
  }
  const store = new MemoryDataStore({ clock: () => NOW })
  const appended: AuditEvent[] = []
  const audit = {
    append: async (events: readonly AuditEvent[]) => {
      if (options.failAudit === true) throw new Error('disk full')
      appended.push(...events)
      await store.audit.append(events)
    },
  }
  const logs: Record<string, unknown>[] = []
  const log = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) })
  const issuer = new SvidIssuer({ signer, audit, defaults: { x509SvidTtlSeconds: 3600, jwtSvidTtlSeconds: 300 }, clock: () => NOW, log })
  return { issuer, appended, logs }
}

const key = () => generateKeyPair('ec-p256').publicKey

describe('SvidIssuer', () => {
  it('X.509: the server default lifetime for 0, the asked one otherwise; the entry\'s DNS names; one audit record per SVID', async () => {
    const { issuer, appended } = setup()
    const [a, b] = await issuer.issueX509(
      [
        { spiffeId: web, publicKey: key(), ttlSeconds: 0, dnsNames: ['web.example.org'], entryId: 'e1' },
        { spiffeId: web, publicKey: key(), ttlSeconds: 60 },
      ],
      { actor: 'spiffe://example.org/steeple/agent/x' },
    )
    if (a instanceof SteepleError || b instanceof SteepleError) throw new Error('refused')
    expect(a!.svid.notAfter.getTime() - NOW.getTime()).toBe(3600_000)
    expect(b!.svid.notAfter.getTime() - NOW.getTime()).toBe(60_000)
    expect(new X509Certificate(Buffer.from(a!.svid.chainDer[0]!)).subjectAltName).toContain('DNS:web.example.org')
    expect(a!.serial).toBe(serialHex(a!.svid.serial))
    expect(appended).toEqual([
      expect.objectContaining({ action: 'svid.x509.sign', actor: 'spiffe://example.org/steeple/agent/x', subject: web.toString(), entryId: 'e1', details: expect.objectContaining({ serial: a!.serial, dnsNames: ['web.example.org'] }) }),
      expect.objectContaining({ action: 'svid.x509.sign', entryId: '', details: expect.objectContaining({ serial: b!.serial, dnsNames: [] }) }),
    ])
    expect(appended[0]!.details).not.toHaveProperty('via')
  })

  it('X.509: a refused request gets its own error, naming the field, and no audit record; the others are signed', async () => {
    const { issuer, appended } = setup()
    const rsa512 = generateKeyPairSync('rsa', { modulusLength: 512 }).publicKey
    const results = await issuer.issueX509(
      [
        { spiffeId: web, publicKey: key(), ttlSeconds: -1 },
        { spiffeId: web, publicKey: key(), ttlSeconds: 0, dnsNames: ['bad_name'] },
        { spiffeId: web, publicKey: rsa512, ttlSeconds: 0 },
        { spiffeId: web, publicKey: key(), ttlSeconds: 0 },
      ],
      admin,
    )
    expect(results.slice(0, 3).map((r) => (r instanceof InvalidArgumentError ? r.message.split(':')[0] : 'signed'))).toEqual(['ttl', 'dns_names[0]', 'csr'])
    expect(results[3]).not.toBeInstanceOf(SteepleError)
    expect(appended).toHaveLength(1)
    expect(appended[0]!.details).toMatchObject({ via: 'admin mint' })
  })

  it('JWT: the default lifetime, the audience rules, one audit record', async () => {
    const { issuer, appended } = setup()
    const jwt = await issuer.issueJwt({ spiffeId: web, audience: ['db'], ttlSeconds: 0, entryId: 'e1' }, admin)
    expect(jwt.expiresAt.getTime() - NOW.getTime()).toBe(300_000)
    expect(appended).toEqual([expect.objectContaining({ action: 'svid.jwt.sign', entryId: 'e1', details: expect.objectContaining({ audience: ['db'], via: 'admin mint' }) })])
    await expect(issuer.issueJwt({ spiffeId: web, audience: [], ttlSeconds: 0 }, admin)).rejects.toThrow(/^audience: /)
    await expect(issuer.issueJwt({ spiffeId: web, audience: Array.from({ length: 33 }, (_, i) => `a${i}`), ttlSeconds: 0 }, admin)).rejects.toThrow(/^audience: at most/)
    expect(appended).toHaveLength(1)
  })

  it('an audit append that fails is logged as an error and does not take back what was signed', async () => {
    const { issuer, logs } = setup({ failAudit: true })
    const issued = await issuer.issueOneX509({ spiffeId: web, publicKey: key(), ttlSeconds: 0 }, admin)
    expect(issued.svid.chainDer.length).toBeGreaterThan(0)
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', msg: 'Audit events not recorded', actions: ['svid.x509.sign'] }))
  })

  it('agent SVIDs get the default X.509 lifetime and are not audited here (attestation records them)', async () => {
    const { issuer, appended } = setup()
    const svid = issuer.signAgentSvid(parseSpiffeId('spiffe://example.org/steeple/agent/join_token/t'), key())
    expect(svid.svid.notAfter.getTime() - NOW.getTime()).toBe(3600_000)
    expect(appended).toEqual([])
  })
})
