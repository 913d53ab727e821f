import { X509Certificate, createPublicKey, sign, verify } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { FailedPreconditionError } from '../../common/errors.js'
import {
  Bundle,
  certificatesToPem,
  createSelfSignedCa,
  generateKeyPair,
  mintX509Ca,
  mintX509Svid,
  parseSpiffeId,
  parseTrustDomain,
  type X509Ca,
} from '../../spiffe/index.js'
import { OPENSSL_TEXT, damagedSpiffeBundles } from '../../spiffe/testdata/damaged-bundles.js'
import { AGENT_FILES, AgentStorage, type StoredAgentSvid } from './storage.js'

const TD = parseTrustDomain('example.org')
const AGENT_ID = parseSpiffeId('spiffe://example.org/spire/agent/join_token/abc')

let root: X509Ca
let intermediate: X509Ca

/** An agent SVID signed by the intermediate: chain [leaf, intermediate], and its key. */
function agentSvid(): StoredAgentSvid {
  const keys = generateKeyPair('ec-p256')
  const minted = mintX509Svid({
    ca: { certificateDer: intermediate.certificateDer, intermediatesDer: intermediate.intermediatesDer, privateKey: intermediate.privateKey },
    spiffeId: AGENT_ID,
    publicKey: keys.publicKey,
    ttlSeconds: 3600,
  })
  expect(minted.chainDer).toHaveLength(2)
  return { chainDer: minted.chainDer, privateKey: keys.privateKey }
}

async function expectPrecondition(promise: Promise<unknown>, ...fragments: string[]): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(FailedPreconditionError)
  expect((err as FailedPreconditionError).code).toBe('FAILED_PRECONDITION')
  for (const fragment of fragments) expect((err as Error).message).toContain(fragment)
  expect((err as Error).message).not.toMatch(OPENSSL_TEXT)
}

function mode(s: { mode: number }): number {
  return s.mode & 0o777
}

let base: string
let dir: string
let storage: AgentStorage
let savedUmask: number

beforeAll(() => {
  // With no umask the modes seen on disk are exactly the ones the code asks for.
  savedUmask = process.umask(0)
  const rootKey = generateKeyPair('ec-p256').privateKey
  root = createSelfSignedCa({ trustDomain: TD, privateKey: rootKey, ttlSeconds: 86_400 })
  const intermediateKeys = generateKeyPair('ec-p256')
  const minted = mintX509Ca({ parent: root, trustDomain: TD, publicKey: intermediateKeys.publicKey, ttlSeconds: 43_200 })
  intermediate = { ...minted, privateKey: intermediateKeys.privateKey }
})

afterAll(() => {
  process.umask(savedUmask)
})

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'steeple-agent-storage-'))
  dir = join(base, 'data', 'agent')
  storage = new AgentStorage(dir, TD)
})

afterEach(async () => {
  await rm(base, { recursive: true, force: true })
})

describe('AgentStorage SVID', () => {
  it('round-trips the chain (leaf first) and the private key', async () => {
    const svid = agentSvid()
    await storage.saveSvid(svid)
    const loaded = await storage.loadSvid()
    expect(loaded).toBeDefined()
    expect(loaded!.chainDer.map((der) => Buffer.from(der).toString('hex'))).toEqual(svid.chainDer.map((der) => Buffer.from(der).toString('hex')))
    expect(new X509Certificate(loaded!.chainDer[0]!).subjectAltName).toBe(`URI:${AGENT_ID.toString()}`)
    expect(loaded!.privateKey.type).toBe('private')
    expect(createPublicKey(loaded!.privateKey).equals(createPublicKey(svid.privateKey))).toBe(true)
    // The loaded key signs what the stored leaf's public key verifies.
    const data = Buffer.from('agent storage')
    const signature = sign('sha256', data, loaded!.privateKey)
    expect(verify('sha256', data, new X509Certificate(loaded!.chainDer[0]!).publicKey, signature)).toBe(true)
    expect(storage.dataDir).toBe(dir)
  })

  it('creates the data directory 0755 and writes the key and chain 0600, PEM, with no temp files left', async () => {
    await storage.saveSvid(agentSvid())
    expect(mode(await stat(dir))).toBe(0o755)
    expect(mode(await stat(join(dir, AGENT_FILES.key)))).toBe(0o600)
    expect(mode(await stat(join(dir, AGENT_FILES.svid)))).toBe(0o600)
    expect((await readdir(dir)).sort()).toEqual([AGENT_FILES.key, AGENT_FILES.svid].sort())
    expect(await readFile(join(dir, AGENT_FILES.key), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(await readFile(join(dir, AGENT_FILES.svid), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----\n/)
  })

  it('replaces a stored SVID with a renewed one', async () => {
    await storage.saveSvid(agentSvid())
    const renewed = agentSvid()
    await storage.saveSvid(renewed)
    const loaded = await storage.loadSvid()
    expect(Buffer.from(loaded!.chainDer[0]!).equals(Buffer.from(renewed.chainDer[0]!))).toBe(true)
    expect(createPublicKey(loaded!.privateKey).equals(createPublicKey(renewed.privateKey))).toBe(true)
    expect((await readdir(dir)).sort()).toEqual([AGENT_FILES.key, AGENT_FILES.svid].sort())
  })

  it('loads undefined when nothing is stored, also when the directory does not exist', async () => {
    expect(await storage.loadSvid()).toBeUndefined()
    await storage.saveBundle(new Bundle(TD, { x509Authorities: [root.certificateDer] }))
    expect(await storage.loadSvid()).toBeUndefined()
  })

  it.each([
    { present: 'svid' as const, missing: 'key' as const },
    { present: 'key' as const, missing: 'svid' as const },
  ])('refuses a stored $present without its $missing, naming the missing file', async ({ present, missing }) => {
    await storage.saveSvid(agentSvid())
    await rm(join(dir, AGENT_FILES[missing]))
    await expectPrecondition(storage.loadSvid(), `${join(dir, AGENT_FILES[missing])} is missing`, join(dir, AGENT_FILES[present]))
  })

  it.each([
    {
      name: 'malformed base64 in the chain',
      file: 'svid' as const,
      text: '-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n',
    },
    { name: 'a chain without an END line', file: 'svid' as const, text: '-----BEGIN CERTIFICATE-----\nAAAA\n' },
    { name: 'a chain with no PEM block', file: 'svid' as const, text: 'hello\n' },
    { name: 'an empty chain file', file: 'svid' as const, text: '' },
    {
      name: 'a chain whose block is not a certificate',
      file: 'svid' as const,
      text: '-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n',
    },
    {
      name: 'a malformed key',
      file: 'key' as const,
      text: '-----BEGIN PRIVATE KEY-----\nAAECAwQF\n-----END PRIVATE KEY-----\n',
    },
    { name: 'an empty key file', file: 'key' as const, text: '' },
  ])('refuses $name, naming the file', async ({ file, text }) => {
    await storage.saveSvid(agentSvid())
    await writeFile(join(dir, AGENT_FILES[file]), text)
    await expectPrecondition(storage.loadSvid(), join(dir, AGENT_FILES[file]))
  })

  it('refuses a key that is not the leaf certificate key (a crash between the two writes), naming both files', async () => {
    const stored = agentSvid()
    await storage.saveSvid(stored)
    // What saveSvid leaves when it stops after the key: the new key beside the old chain.
    const other = generateKeyPair('ec-p256').privateKey
    await writeFile(join(dir, AGENT_FILES.key), other.export({ type: 'pkcs8', format: 'pem' }))
    await expectPrecondition(storage.loadSvid(), join(dir, AGENT_FILES.key), join(dir, AGENT_FILES.svid))
  })

  it('refuses a chain that starts with another certificate than the leaf of the key', async () => {
    const stored = agentSvid()
    await storage.saveSvid(stored)
    await writeFile(join(dir, AGENT_FILES.svid), certificatesToPem([intermediate.certificateDer, stored.chainDer[0]!]))
    await expectPrecondition(storage.loadSvid(), join(dir, AGENT_FILES.key))
  })

  it('deleteSvid removes the chain and the key, keeps the bundle, and is fine when nothing is there', async () => {
    await storage.saveBundle(new Bundle(TD, { x509Authorities: [root.certificateDer] }))
    await storage.saveSvid(agentSvid())
    await storage.deleteSvid()
    expect(await readdir(dir)).toEqual([AGENT_FILES.bundle])
    expect(await storage.loadSvid()).toBeUndefined()
    await storage.deleteSvid()
    await new AgentStorage(join(base, 'never-created'), TD).deleteSvid()
  })

  it('deleteSvid removes a lone key or chain too', async () => {
    await storage.saveSvid(agentSvid())
    await rm(join(dir, AGENT_FILES.svid))
    await storage.deleteSvid()
    expect(await readdir(dir)).toEqual([])
  })
})

describe('AgentStorage bundle', () => {
  it('round-trips X.509 and JWT authorities, sequence number and refresh hint', async () => {
    const jwtKey1 = generateKeyPair('ec-p256').publicKey
    const jwtKey2 = generateKeyPair('ec-p384').publicKey
    const bundle = new Bundle(TD, {
      x509Authorities: [root.certificateDer, createSelfSignedCa({ trustDomain: TD, privateKey: generateKeyPair('ec-p256').privateKey, ttlSeconds: 3600 }).certificateDer],
      jwtAuthorities: [
        { kid: 'jwt-1', publicKey: jwtKey1 },
        { kid: 'jwt-2', publicKey: jwtKey2 },
      ],
      sequenceNumber: 42n,
      refreshHintSeconds: 300,
    })
    await storage.saveBundle(bundle)
    const loaded = await storage.loadBundle()
    expect(loaded).toBeDefined()
    expect(loaded!.trustDomain.equals(TD)).toBe(true)
    expect(loaded!.x509Authorities.map((der) => Buffer.from(der).toString('hex'))).toEqual(
      bundle.x509Authorities.map((der) => Buffer.from(der).toString('hex')),
    )
    expect([...loaded!.jwtAuthorities.keys()].sort()).toEqual(['jwt-1', 'jwt-2'])
    expect(loaded!.findJwtAuthority('jwt-1')!.publicKey.equals(jwtKey1)).toBe(true)
    expect(loaded!.findJwtAuthority('jwt-2')!.publicKey.equals(jwtKey2)).toBe(true)
    expect(loaded!.sequenceNumber).toBe(42n)
    expect(loaded!.refreshHintSeconds).toBe(300)
  })

  it('creates the directory 0755 and writes the bundle 0600, replacing the previous one', async () => {
    await storage.saveBundle(new Bundle(TD, { x509Authorities: [root.certificateDer], sequenceNumber: 1n }))
    await storage.saveBundle(new Bundle(TD, { x509Authorities: [root.certificateDer], sequenceNumber: 2n }))
    expect(mode(await stat(dir))).toBe(0o755)
    expect(mode(await stat(join(dir, AGENT_FILES.bundle)))).toBe(0o600)
    expect(await readdir(dir)).toEqual([AGENT_FILES.bundle])
    expect((await storage.loadBundle())!.sequenceNumber).toBe(2n)
  })

  it('loads undefined when no bundle is stored', async () => {
    expect(await storage.loadBundle()).toBeUndefined()
    await storage.saveSvid(agentSvid())
    expect(await storage.loadBundle()).toBeUndefined()
  })

  it.each([
    { name: 'not JSON', text: '{"keys": [' },
    { name: 'no keys member', text: '{}' },
    { name: 'a PEM file', text: certificatesToPem([new Uint8Array([1, 2, 3])]) },
  ])('refuses a stored bundle that is $name, naming the file', async ({ text }) => {
    await storage.saveBundle(new Bundle(TD, { x509Authorities: [root.certificateDer] }))
    await writeFile(join(dir, AGENT_FILES.bundle), text)
    await expectPrecondition(storage.loadBundle(), join(dir, AGENT_FILES.bundle), 'example.org')
  })

  it.each(damagedSpiffeBundles().map((c) => [c.name, c] as const))('refuses a stored bundle with %s, naming the file, the member and the rule, never OpenSSL\'s text', async (_name, c) => {
    await storage.saveBundle(new Bundle(TD, { x509Authorities: [root.certificateDer] }))
    await writeFile(join(dir, AGENT_FILES.bundle), c.json)
    const err = await storage.loadBundle().then(() => undefined, (e: unknown) => e as Error)
    expect(err).toBeInstanceOf(FailedPreconditionError)
    expect(err!.message).toBe(`agent: ${join(dir, AGENT_FILES.bundle)} is not a SPIFFE bundle of example.org: spiffebundle: ${c.member}: ${c.rule}`)
    expect(err!.message).not.toMatch(OPENSSL_TEXT)
  })
})
