import { status } from '@grpc/grpc-js'
import * as x509 from '@peculiar/x509'
import { constants, createHash, createPrivateKey, sign, verify, webcrypto, X509Certificate, type KeyObject } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, InvalidArgumentError, SteepleError } from '../../../common/errors.js'
import { silentLogger } from '../../../common/logger.js'
import { certificatesToPem, parseTrustDomain, pemEncode } from '../../../spiffe/index.js'
import { attestWith, newTranscript, runNodeAttestorSuite, type NodeAttestorFixture } from '../../../test/conformance/node-attestor-suite.js'
import { PluginCatalog, type PluginHost } from '../../registry.js'
import { MemoryDataStore } from '../../../test/fakes/memory-data-store.js'
import type { AgentNodeAttestor, AttestResult } from '../types.js'
import {
  X509PopAgentPlugin,
  X509PopAgentSession,
  X509PopServerAttestor,
  loadCaBundle,
  x509popAgentAttestor,
  x509popServerAttestor,
  x509popServerConfigSchema,
} from './index.js'
import { decodeAnswer, decodeChallenge, encodeAnswer, encodeChallenge, encodePayload, signedMessage } from './protocol.js'
import { grpcStatusOf } from '../../../common/grpc-status.js'

x509.cryptoProvider.set(webcrypto)

const td = parseTrustDomain('example.org')
const NOW = new Date('2030-01-01T00:00:00Z')
const ctx = { trustDomain: td, now: NOW }
const HOUR = 3_600_000

// ---------------------------------------------------------------------------------------------
// A small PKI made with @peculiar/x509 (WebCrypto keys, exported to node:crypto KeyObjects)

type Alg = 'ec-p256' | 'ec-p384' | 'ec-p521' | 'rsa-2048' | 'rsa-1024'

const ALGS: Record<Alg, { gen: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams; sign: webcrypto.Algorithm | webcrypto.EcdsaParams }> = {
  'ec-p256': { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams },
  'ec-p384': { gen: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } as webcrypto.EcdsaParams },
  'ec-p521': { gen: { name: 'ECDSA', namedCurve: 'P-521' }, sign: { name: 'ECDSA', hash: 'SHA-512' } as webcrypto.EcdsaParams },
  'rsa-2048': {
    gen: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  },
  'rsa-1024': {
    gen: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  },
}

interface Party {
  readonly der: Uint8Array
  readonly cert: x509.X509Certificate
  readonly keys: webcrypto.CryptoKeyPair
  readonly alg: Alg
  readonly privateKey: KeyObject
  readonly keyPem: string
}

interface IssueOptions {
  readonly subject: string
  /** Self-signed when absent. */
  readonly issuer?: Party
  readonly alg?: Alg
  readonly ca?: boolean
  readonly pathLen?: number
  /** Key usage flags; null for no keyUsage extension. Default: keyCertSign|cRLSign for CAs, digitalSignature otherwise. */
  readonly keyUsage?: number | null
  readonly notBefore?: Date
  readonly notAfter?: Date
  readonly sans?: x509.JsonGeneralName[]
  readonly extra?: x509.Extension[]
  readonly keys?: webcrypto.CryptoKeyPair
  /** Sign with this key instead of the issuer's (a forgery), without an authorityKeyIdentifier. */
  readonly forgeWith?: webcrypto.CryptoKeyPair
}

async function newKeys(alg: Alg): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGS[alg].gen, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
}

async function issue(opts: IssueOptions): Promise<Party> {
  const alg = opts.alg ?? 'ec-p256'
  const keys = opts.keys ?? (await newKeys(alg))
  const ca = opts.ca ?? false
  const keyUsage = opts.keyUsage === undefined ? (ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature) : opts.keyUsage
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(ca, opts.pathLen, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ...(keyUsage === null ? [] : [new x509.KeyUsagesExtension(keyUsage, true)]),
    ...(opts.sans === undefined ? [] : [new x509.SubjectAlternativeNameExtension(opts.sans)]),
    ...(opts.extra ?? []),
  ]
  const common = {
    notBefore: opts.notBefore ?? new Date(NOW.getTime() - HOUR),
    notAfter: opts.notAfter ?? new Date(NOW.getTime() + 30 * 24 * HOUR),
  }
  const cert =
    opts.issuer === undefined
      ? await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: opts.subject, keys, signingAlgorithm: ALGS[alg].sign, extensions })
      : await x509.X509CertificateGenerator.create({
          ...common,
          subject: opts.subject,
          issuer: opts.issuer.cert.subject,
          publicKey: keys.publicKey,
          signingKey: (opts.forgeWith ?? opts.issuer.keys).privateKey,
          signingAlgorithm: ALGS[opts.issuer.alg].sign,
          extensions:
            opts.forgeWith === undefined ? [...extensions, await x509.AuthorityKeyIdentifierExtension.create(opts.issuer.keys.publicKey)] : extensions,
        })
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
  return {
    der: new Uint8Array(cert.rawData),
    cert,
    keys,
    alg,
    privateKey: createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }),
    keyPem: pemEncode('PRIVATE KEY', pkcs8),
  }
}

const AGENT_SANS: x509.JsonGeneralName[] = [
  { type: 'dns', value: 'node-1.example.org' },
  { type: 'url', value: 'x509pop://example.org/datacenter/us-east-1' },
  { type: 'url', value: 'x509pop://example.org/rack/r12/slot-4' },
  { type: 'url', value: 'x509pop://other.org/datacenter/eu-west-1' },
]

async function makePki() {
  const root = await issue({ subject: 'CN=Steeple Test Root CA', ca: true })
  const intermediate = await issue({ subject: 'CN=Steeple Test Intermediate CA', ca: true, issuer: root })
  const [agent, agentRsa, agentP384, otherRoot] = await Promise.all([
    issue({ subject: 'CN=node-1.example.org, O=Steeple', issuer: intermediate, sans: AGENT_SANS }),
    issue({ subject: 'CN=node-2.example.org', issuer: intermediate, alg: 'rsa-2048' }),
    issue({ subject: 'CN=node-3.example.org', issuer: intermediate, alg: 'ec-p384' }),
    issue({ subject: 'CN=Steeple Test Root CA', ca: true }),
  ])
  const [stranger, expired] = await Promise.all([
    issue({ subject: 'CN=stranger', issuer: otherRoot }),
    issue({ subject: 'CN=expired', issuer: intermediate, notBefore: new Date(NOW.getTime() - 48 * HOUR), notAfter: new Date(NOW.getTime() - HOUR) }),
  ])
  return { root, intermediate, agent, agentRsa, agentP384, otherRoot, stranger, expired }
}

type Pki = Awaited<ReturnType<typeof makePki>>
let pkiPromise: ReturnType<typeof makePki> | undefined
const pki = (): ReturnType<typeof makePki> => (pkiPromise ??= makePki())

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

async function writeFiles(files: Record<string, string>): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'steeple-x509pop-'))
  dirs.push(dir)
  const paths: Record<string, string> = {}
  for (const [name, content] of Object.entries(files)) {
    paths[name] = join(dir, name)
    await writeFile(paths[name]!, content, { mode: 0o600 })
  }
  return paths
}

/** Files for `agent`: certificate (with its chain above it), key. */
async function agentPlugin(agent: Party, chain: readonly Party[]): Promise<X509PopAgentPlugin> {
  const paths = await writeFiles({ 'agent.crt.pem': certificatesToPem([agent.der, ...chain.map((p) => p.der)]), 'agent.key.pem': agent.keyPem })
  return new X509PopAgentPlugin({ certificate_path: paths['agent.crt.pem']!, private_key_path: paths['agent.key.pem']!, intermediates_path: undefined })
}

async function serverTrusting(roots: readonly Party[], template?: string): Promise<X509PopServerAttestor> {
  const paths = await writeFiles({ 'ca.pem': certificatesToPem(roots.map((r) => r.der)) })
  return new X509PopServerAttestor(await loadCaBundle(paths['ca.pem']!), template)
}

/** A session presenting `chain` (agent certificate first) and signing with `key`. */
function session(chain: readonly Party[], key: KeyObject = chain[0]!.privateKey): AgentNodeAttestor {
  return new X509PopAgentSession({ chainDer: chain.map((p) => p.der), privateKey: key })
}

const sha1 = (der: Uint8Array): string => createHash('sha1').update(der).digest('hex')

async function refusal(attempt: Promise<AttestResult>): Promise<SteepleError> {
  const err: unknown = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(SteepleError)
  return err as SteepleError
}

// ---------------------------------------------------------------------------------------------

for (const variant of ['agent', 'agentRsa'] as const) {
  runNodeAttestorSuite({
    name: 'x509pop',
    variant: variant === 'agent' ? 'EC P-256 agent key' : 'RSA-2048 agent key',
    oneTime: false,
    challengeResponse: true,
    make: async (): Promise<NodeAttestorFixture> => {
      const p = await pki()
      const plugin = await agentPlugin(p[variant], [p.intermediate])
      const otherKey = (await issue({ subject: 'CN=unrelated' })).privateKey
      return {
        server: await serverTrusting([p.root]),
        begin: () => plugin.begin(),
        ctx,
        refused: [
          { name: 'certificate from another CA', begin: async () => session([p.stranger]), status: status.PERMISSION_DENIED },
          { name: 'expired certificate', begin: async () => session([p.expired, p.intermediate]), status: status.PERMISSION_DENIED },
          { name: 'signature by another key', begin: async () => session([p[variant], p.intermediate], otherKey), status: status.PERMISSION_DENIED },
        ],
      }
    },
  })
}

describe('x509pop server', () => {
  it('gives spiffe://<td>/steeple/agent/x509pop/<SHA-1 of the agent certificate> and the selectors SPIRE names', async () => {
    const p = await pki()
    const server = await serverTrusting([p.root])
    const result = await attestWith(server, session([p.agent, p.intermediate]), ctx)
    expect(result.agentId.toString()).toBe(`spiffe://example.org/steeple/agent/x509pop/${sha1(p.agent.der)}`)
    expect(result.canReattest).toBe(true)
    expect(result.aliasIds).toBeUndefined()
    const serial = p.agent.cert.serialNumber.toLowerCase()
    expect(result.selectors.map(String)).toEqual(
      [
        'x509pop:subject:cn:node-1.example.org',
        `x509pop:ca:fingerprint:${sha1(p.intermediate.der)}`,
        `x509pop:ca:fingerprint:${sha1(p.root.der)}`,
        `x509pop:serialnumber:${serial.length % 2 === 1 ? `0${serial}` : serial}`,
        'x509pop:san:datacenter:us-east-1',
        'x509pop:san:rack:r12/slot-4',
      ].sort(),
    )
  })

  it('emits each CA fingerprint once when the agent also sends the root and repeats certificates', async () => {
    const p = await pki()
    const server = await serverTrusting([p.root])
    const result = await attestWith(server, session([p.agentP384, p.intermediate, p.root, p.intermediate]), ctx)
    expect(result.selectors.map(String).filter((s) => s.startsWith('x509pop:ca:'))).toEqual(
      [`x509pop:ca:fingerprint:${sha1(p.intermediate.der)}`, `x509pop:ca:fingerprint:${sha1(p.root.der)}`].sort(),
    )
  })

  it('attests an agent certificate issued directly by a configured CA', async () => {
    const p = await pki()
    const direct = await issue({ subject: 'CN=direct', issuer: p.root })
    const result = await attestWith(await serverTrusting([p.otherRoot, p.root]), session([direct]), ctx)
    expect(result.selectors.map(String)).toContain(`x509pop:ca:fingerprint:${sha1(p.root.der)}`)
  })

  it('builds the agent ID from agent_path_template with {{subject_cn}}', async () => {
    const p = await pki()
    const server = await serverTrusting([p.root], '/x509pop/cn/{{ subject_cn }}')
    const result = await attestWith(server, session([p.agent, p.intermediate]), ctx)
    expect(result.agentId.toString()).toBe('spiffe://example.org/steeple/agent/x509pop/cn/node-1.example.org')
  })

  it.each([
    ['no subject CN', 'O=Steeple', /^agent certificate has no subject common name, which agent_path_template needs$/],
    ['a CN with a space', 'CN=node one', /^agent certificate cannot form the agent ID: path segment characters are limited/],
    ['a CN with a slash', 'CN=a/b', /^agent certificate subject_cn must not contain "\/"/],
  ])('refuses a certificate with %s under a {{subject_cn}} template as INVALID_ARGUMENT', async (_case, subject, message) => {
    const p = await pki()
    const agent = await issue({ subject, issuer: p.intermediate })
    const err = await refusal(attestWith(await serverTrusting([p.root], '/x509pop/{{subject_cn}}'), session([agent, p.intermediate]), ctx))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect(err.message).toMatch(message)
  })

  it('emits no subject:cn selector for a certificate without a CN', async () => {
    const p = await pki()
    const agent = await issue({ subject: 'O=Steeple', issuer: p.intermediate })
    const result = await attestWith(await serverTrusting([p.root]), session([agent, p.intermediate]), ctx)
    expect(result.selectors.map(String).some((s) => s.startsWith('x509pop:subject:'))).toBe(false)
  })

  const KU = x509.KeyUsageFlags
  const at = (hours: number): Date => new Date(NOW.getTime() + hours * HOUR)
  const unknownCritical = (arc: number): x509.Extension => new x509.Extension(`1.3.6.1.4.1.99999.${arc}`, true, new Uint8Array([0x05, 0x00]))
  type ChainCase = [string, (p: Pki) => Promise<Party[]>, status, RegExp]
  const refusedChains: ChainCase[] = [
    ['a certificate from another CA', async (p) => [p.stranger], status.PERMISSION_DENIED, /^agent certificate does not chain to a trusted CA/],
    ['an expired agent certificate', async (p) => [p.expired, p.intermediate], status.PERMISSION_DENIED, /^agent certificate has expired$/],
    [
      'an agent certificate not yet valid',
      async (p) => [await issue({ subject: 'CN=future', issuer: p.intermediate, notBefore: at(1) }), p.intermediate],
      status.PERMISSION_DENIED,
      /^agent certificate is not yet valid$/,
    ],
    ['a missing intermediate', async (p) => [p.agent], status.PERMISSION_DENIED, /^agent certificate does not chain to a trusted CA: no path/],
    [
      "a certificate naming the intermediate as issuer but signed by another key",
      async (p) => [await issue({ subject: 'CN=forged', issuer: p.intermediate, forgeWith: await newKeys('ec-p256') }), p.intermediate],
      status.PERMISSION_DENIED,
      /^agent certificate does not chain to a trusted CA: no path/,
    ],
    [
      'an expired intermediate',
      async (p) => {
        const old = await issue({ subject: 'CN=Old Intermediate', ca: true, issuer: p.root, notBefore: at(-48), notAfter: at(-1) })
        return [await issue({ subject: 'CN=n', issuer: old }), old]
      },
      status.PERMISSION_DENIED,
      /issuing certificate has expired$/,
    ],
    [
      'an issuer without the CA flag',
      async (p) => {
        const notCa = await issue({ subject: 'CN=Not A CA', issuer: p.root, keyUsage: KU.digitalSignature | KU.keyCertSign })
        return [await issue({ subject: 'CN=n', issuer: notCa }), notCa]
      },
      status.PERMISSION_DENIED,
      /issuing certificate must have the CA flag set$/,
    ],
    [
      'an issuer without keyCertSign',
      async (p) => {
        const weak = await issue({ subject: 'CN=Weak CA', ca: true, issuer: p.root, keyUsage: KU.digitalSignature })
        return [await issue({ subject: 'CN=n', issuer: weak }), weak]
      },
      status.PERMISSION_DENIED,
      /issuing certificate must have the keyCertSign key usage$/,
    ],
    [
      'an intermediate under a root with path length 0',
      async () => {
        const root0 = await issue({ subject: 'CN=Root PathLen 0', ca: true, pathLen: 0 })
        const inter = await issue({ subject: 'CN=Inter', ca: true, issuer: root0 })
        return [await issue({ subject: 'CN=n', issuer: inter }), inter, root0]
      },
      status.PERMISSION_DENIED,
      /path length constraint is exceeded$/,
    ],
    [
      'an agent certificate without digitalSignature',
      async (p) => [await issue({ subject: 'CN=n', issuer: p.intermediate, keyUsage: KU.keyEncipherment }), p.intermediate],
      status.PERMISSION_DENIED,
      /^agent certificate must have the digitalSignature key usage$/,
    ],
    [
      'an agent certificate without key usage',
      async (p) => [await issue({ subject: 'CN=n', issuer: p.intermediate, keyUsage: null }), p.intermediate],
      status.PERMISSION_DENIED,
      /^agent certificate must have the digitalSignature key usage$/,
    ],
    [
      'an agent certificate that is a CA',
      async (p) => [
        await issue({ subject: 'CN=n', ca: true, issuer: p.intermediate, keyUsage: KU.digitalSignature | KU.keyCertSign }),
        p.intermediate,
      ],
      status.PERMISSION_DENIED,
      /^agent certificate must not be a CA certificate$/,
    ],
    [
      'an unknown critical extension on the agent certificate',
      async (p) => [await issue({ subject: 'CN=n', issuer: p.intermediate, extra: [unknownCritical(1)] }), p.intermediate],
      status.PERMISSION_DENIED,
      /^agent certificate has an unhandled critical extension 1\.3\.6\.1\.4\.1\.99999\.1$/,
    ],
    [
      'an unknown critical extension on the intermediate',
      async (p) => {
        const odd = await issue({ subject: 'CN=Odd CA', ca: true, issuer: p.root, extra: [unknownCritical(2)] })
        return [await issue({ subject: 'CN=n', issuer: odd }), odd]
      },
      status.PERMISSION_DENIED,
      /issuing certificate has an unhandled critical extension/,
    ],
    [
      'an EC P-521 agent key',
      async (p) => [await issue({ subject: 'CN=n', issuer: p.intermediate, alg: 'ec-p521' }), p.intermediate],
      status.INVALID_ARGUMENT,
      /^agent certificate key must be EC P-256, EC P-384 or RSA of 2048 to 8192 bits$/,
    ],
    [
      'an RSA-1024 agent key',
      async (p) => [await issue({ subject: 'CN=n', issuer: p.intermediate, alg: 'rsa-1024' }), p.intermediate],
      status.INVALID_ARGUMENT,
      /^agent certificate key must be/,
    ],
  ]

  it.each(refusedChains)('refuses %s', async (_case, build, code, message) => {
    const p = await pki()
    const chain = await build(p)
    let challenged = false
    const err = await refusal(
      (await serverTrusting([p.root])).attest(encodePayload(chain.map((c) => c.der)), async () => {
        challenged = true
        return new Uint8Array()
      }, ctx),
    )
    expect(grpcStatusOf(err)).toBe(code)
    expect(err.message).toMatch(message)
    // The chain is judged before the agent is asked to sign anything.
    expect(challenged).toBe(false)
  })

  it('stops path building after a bounded number of signature checks', async () => {
    const p = await pki()
    const keys = await newKeys('ec-p256')
    const loop: Party[] = []
    for (let i = 0; i < 9; i++) loop.push(await issue({ subject: 'CN=Loop', ca: true, keys }))
    const agent = await issue({ subject: 'CN=n', issuer: loop[0]! })
    const started = Date.now()
    const err = await refusal(attestWith(await serverTrusting([p.root]), session([agent, ...loop]), ctx))
    expect(grpcStatusOf(err)).toBe(status.PERMISSION_DENIED)
    expect(err.message).toBe('agent certificate chain needs too many signature checks to verify')
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it.each([
    ['not JSON', new TextEncoder().encode('certificates'), /^x509pop payload must be a UTF-8 JSON object$/],
    ['an extra member', new TextEncoder().encode('{"certificates":["AA=="],"x":1}'), /must have exactly the members "certificates"$/],
    ['no certificates', new TextEncoder().encode('{"certificates":[]}'), /"certificates" must be a list of 1 to 10 certificates$/],
    ['eleven certificates', new TextEncoder().encode(JSON.stringify({ certificates: Array(11).fill('AA==') })), /1 to 10 certificates$/],
    ['unpadded base64', new TextEncoder().encode('{"certificates":["AA"]}'), /"certificates\[0\]" must be non-empty padded base64$/],
    ['a certificate that is not DER', encodePayload([new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])]), /^agent certificate is not a valid DER X\.509 v3 certificate$/],
    ['a payload over 64 KiB', new Uint8Array(64 * 1024 + 1).fill(0x20), /must be at most 65536 bytes$/],
  ])('refuses a payload with %s as INVALID_ARGUMENT', async (_case, payload, message) => {
    const p = await pki()
    const err = await refusal((await serverTrusting([p.root])).attest(payload, async () => new Uint8Array(), ctx))
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect(err.message).toMatch(message)
  })

  it('refuses a signature made with another key', async () => {
    const p = await pki()
    const err = await refusal(attestWith(await serverTrusting([p.root]), session([p.agent, p.intermediate], p.agentP384.privateKey), ctx))
    expect(grpcStatusOf(err)).toBe(status.PERMISSION_DENIED)
    expect(err.message).toMatch(/^proof of possession failed/)
  })

  it('refuses an RSA answer signed with PKCS#1 v1.5 instead of PSS (one scheme per key type)', async () => {
    const p = await pki()
    const server = await serverTrusting([p.root])
    const err = await refusal(
      server.attest(encodePayload([p.agentRsa.der, p.intermediate.der]), async (challenge) => {
        const nonce = new Uint8Array(32).fill(7)
        const signature = sign('sha256', signedMessage(decodeChallenge(challenge), nonce), p.agentRsa.privateKey)
        return encodeAnswer({ nonce, signature })
      }, ctx),
    )
    expect(grpcStatusOf(err)).toBe(status.PERMISSION_DENIED)
  })

  it('refuses the answer of an earlier session to a new challenge (challenge replay)', async () => {
    const p = await pki()
    const server = await serverTrusting([p.root])
    const earlier = newTranscript()
    await attestWith(server, session([p.agent, p.intermediate]), ctx, earlier)
    const err = await refusal(server.attest(earlier.payload, async () => earlier.answers[0]!, ctx))
    expect(grpcStatusOf(err)).toBe(status.PERMISSION_DENIED)
    expect(err.message).toMatch(/^proof of possession failed/)
  })

  it('sends a fresh 32-byte nonce in every challenge', async () => {
    const p = await pki()
    const server = await serverTrusting([p.root])
    const nonces: string[] = []
    for (let i = 0; i < 3; i++) {
      const t = newTranscript()
      await attestWith(server, session([p.agent, p.intermediate]), ctx, t)
      expect(t.challenges).toHaveLength(1)
      const nonce = decodeChallenge(t.challenges[0]!)
      expect(nonce).toHaveLength(32)
      nonces.push(Buffer.from(nonce).toString('hex'))
    }
    expect(new Set(nonces).size).toBe(3)
  })

  it('refuses an answer whose nonce is not 32 bytes', async () => {
    const p = await pki()
    const err = await refusal(
      (await serverTrusting([p.root])).attest(
        encodePayload([p.agent.der, p.intermediate.der]),
        async () => encodeAnswer({ nonce: new Uint8Array(16), signature: new Uint8Array(64) }),
        ctx,
      ),
    )
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect(err.message).toBe('x509pop challenge answer "nonce" must be 32 bytes')
  })
})

describe('x509pop agent', () => {
  it('sends certificate_path then intermediates_path, and reads the files again for each attestation', async () => {
    const p = await pki()
    const paths = await writeFiles({
      'agent.crt.pem': certificatesToPem([p.agent.der]),
      'inter.pem': certificatesToPem([p.intermediate.der]),
      'agent.key.pem': p.agent.keyPem,
    })
    const plugin = new X509PopAgentPlugin({ certificate_path: paths['agent.crt.pem']!, private_key_path: paths['agent.key.pem']!, intermediates_path: paths['inter.pem']! })
    const server = await serverTrusting([p.root])
    const first = await attestWith(server, await plugin.begin(), ctx)
    expect(first.agentId.path).toBe(`/steeple/agent/x509pop/${sha1(p.agent.der)}`)
    const renewed = await issue({ subject: 'CN=node-1.example.org', issuer: p.intermediate })
    await writeFile(paths['agent.crt.pem']!, certificatesToPem([renewed.der]))
    await writeFile(paths['agent.key.pem']!, renewed.keyPem)
    const second = await attestWith(server, await plugin.begin(), ctx)
    expect(second.agentId.path).toBe(`/steeple/agent/x509pop/${sha1(renewed.der)}`)
  })

  it('signs with RSASSA-PSS SHA-256 (salt 32) for RSA keys and ECDSA SHA-384 for P-384 keys', async () => {
    const p = await pki()
    const serverNonce = new Uint8Array(32).fill(1)
    const rsa = decodeAnswer(await session([p.agentRsa]).answer(encodeChallenge(serverNonce)))
    const rsaKey = new X509Certificate(p.agentRsa.der).publicKey
    expect(verify('sha256', signedMessage(serverNonce, rsa.nonce), { key: rsaKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, rsa.signature)).toBe(true)
    const ec = decodeAnswer(await session([p.agentP384]).answer(encodeChallenge(serverNonce)))
    expect(verify('sha384', signedMessage(serverNonce, ec.nonce), new X509Certificate(p.agentP384.der).publicKey, ec.signature)).toBe(true)
  })

  it('answers one challenge per attestation', async () => {
    const p = await pki()
    const s = session([p.agent])
    await s.answer(encodeChallenge(new Uint8Array(32)))
    await expect(s.answer(encodeChallenge(new Uint8Array(32)))).rejects.toThrow('x509pop answers one challenge per attestation')
  })

  it('refuses a malformed challenge without signing', async () => {
    const p = await pki()
    const s = session([p.agent])
    await expect(s.answer(new TextEncoder().encode('{"nonce":"AAAA"}'))).rejects.toThrow('x509pop challenge "nonce" must be 32 bytes')
    // The refused challenge did not use up the session's one answer.
    await expect(s.answer(encodeChallenge(new Uint8Array(32)))).resolves.toBeInstanceOf(Uint8Array)
  })

  type FilesCase = [string, (p: Pki) => Promise<{ crt: string; key: string }>, RegExp]
  it.each<FilesCase>([
    [
      'a key that does not belong to the certificate',
      async (p) => ({ crt: certificatesToPem([p.agent.der]), key: p.agentP384.keyPem }),
      /^plugins\.NodeAttestor\.x509pop\.private_key_path: the key does not belong to the first certificate of certificate_path$/,
    ],
    [
      'an EC P-521 key',
      async (p) => {
        const agent = await issue({ subject: 'CN=n', issuer: p.intermediate, alg: 'ec-p521' })
        return { crt: certificatesToPem([agent.der]), key: agent.keyPem }
      },
      /^plugins\.NodeAttestor\.x509pop\.private_key_path: the key must be EC P-256, EC P-384 or RSA/,
    ],
    [
      'no certificate in certificate_path',
      async (p) => ({ crt: p.agent.keyPem, key: p.agent.keyPem }),
      /^plugins\.NodeAttestor\.x509pop\.certificate_path: .* holds no PEM certificate$/,
    ],
    [
      'a key file that is not a key',
      async (p) => ({ crt: certificatesToPem([p.agent.der]), key: 'nothing here' }),
      /^plugins\.NodeAttestor\.x509pop\.private_key_path: .* is not a PEM private key$/,
    ],
  ])('refuses %s at load, naming the key', async (_case, files, message) => {
    const p = await pki()
    const { crt, key } = await files(p)
    const paths = await writeFiles({ 'agent.crt.pem': crt, 'agent.key.pem': key })
    const plugin = new X509PopAgentPlugin({ certificate_path: paths['agent.crt.pem']!, private_key_path: paths['agent.key.pem']!, intermediates_path: undefined })
    const err = await plugin.loadCredentials().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message).toMatch(message)
  })

  it('names the key of a file that cannot be read', async () => {
    const plugin = new X509PopAgentPlugin({ certificate_path: '/nonexistent/agent.pem', private_key_path: '/nonexistent/agent.key', intermediates_path: undefined })
    await expect(plugin.begin()).rejects.toThrow('plugins.NodeAttestor.x509pop.certificate_path: cannot read /nonexistent/agent.pem: ENOENT')
  })
})

describe('x509pop config and plugin definitions', () => {
  const host: PluginHost = { log: silentLogger(), trustDomain: td, dataDir: '/tmp', clock: () => NOW }
  const where = 'plugins.NodeAttestor.x509pop'

  it('defaults agent_path_template to /x509pop/{{fingerprint}} and requires ca_bundle_path', () => {
    expect(x509popServerConfigSchema.parse({ ca_bundle_path: '/ca.pem' }, where)).toEqual({ ca_bundle_path: '/ca.pem', agent_path_template: '/x509pop/{{fingerprint}}' })
    expect(() => x509popServerConfigSchema.parse({}, where)).toThrow('plugins.NodeAttestor.x509pop.ca_bundle_path must be set')
  })

  it.each([
    ['/x509pop/{{serial}}', 'uses the unknown placeholder {{serial}}'],
    ['/x509pop/fixed', 'must contain {{fingerprint}} or {{subject_cn}}'],
    ['x509pop/{{fingerprint}}', 'must start with "/"'],
    ['/x509pop/../{{fingerprint}}', 'must give a valid SPIFFE ID path after /steeple/agent: path cannot contain dot segments'],
    ['/x509pop/{{fingerprint}}/', 'path cannot have a trailing slash'],
    ['/x509pop/{fingerprint}/{{fingerprint}}', 'must use placeholders of the form {{name}} only'],
  ])('refuses agent_path_template %j', (template, rule) => {
    let message = ''
    try {
      x509popServerConfigSchema.parse({ ca_bundle_path: '/ca.pem', agent_path_template: template }, where)
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      message = (err as Error).message
    }
    expect(message.startsWith(`${where}.agent_path_template `)).toBe(true)
    expect(message).toContain(rule)
  })

  const caFile = async (content: string): Promise<string> => (await writeFiles({ 'ca.pem': content }))['ca.pem']!
  it.each<[string, () => Promise<string>, RegExp]>([
    ['a missing file', async () => '/nonexistent/ca.pem', /^plugins\.NodeAttestor\.x509pop\.ca_bundle_path: cannot read \/nonexistent\/ca\.pem: ENOENT$/],
    ['no certificate', () => caFile('nothing\n'), /holds no PEM certificate$/],
    ['a certificate that is not a CA', async () => caFile(certificatesToPem([(await pki()).agent.der])), /certificate 0 must be a CA certificate/],
    ['broken PEM', () => caFile('-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n'), /is not valid PEM/],
  ])('refuses a CA bundle with %s, naming ca_bundle_path', async (_case, path, message) => {
    const err = await loadCaBundle(await path()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message).toMatch(message)
  })

  it('load through catalogs and attest end to end', async () => {
    const p = await pki()
    const paths = await writeFiles({
      'ca.pem': certificatesToPem([p.root.der]),
      'agent.crt.pem': certificatesToPem([p.agent.der, p.intermediate.der]),
      'agent.key.pem': p.agent.keyPem,
    })
    const serverCatalog = new PluginCatalog([x509popServerAttestor], new Map([['ServerNodeAttestor', { min: 1, max: undefined }]]))
    const [server] = await serverCatalog.load('ServerNodeAttestor', { x509pop: { ca_bundle_path: paths['ca.pem'] } }, () => ({ ...host, joinTokens: new MemoryDataStore().joinTokens }))
    const agentCatalog = new PluginCatalog([x509popAgentAttestor], new Map([['AgentNodeAttestor', { min: 1, max: 1 }]]))
    const [agent] = await agentCatalog.load(
      'AgentNodeAttestor',
      { x509pop: { certificate_path: paths['agent.crt.pem'], private_key_path: paths['agent.key.pem'] } },
      () => host,
    )
    const result = await attestWith(server!.instance, await agent!.instance.begin(), ctx)
    expect(result.agentId.path).toBe(`/steeple/agent/x509pop/${sha1(p.agent.der)}`)
  })

  it('the agent definition fails at load when its files do not fit together', async () => {
    const p = await pki()
    const paths = await writeFiles({ 'agent.crt.pem': certificatesToPem([p.agent.der]), 'agent.key.pem': p.agentRsa.keyPem })
    const catalog = new PluginCatalog([x509popAgentAttestor], new Map([['AgentNodeAttestor', { min: 1, max: 1 }]]))
    await expect(
      catalog.load('AgentNodeAttestor', { x509pop: { certificate_path: paths['agent.crt.pem'], private_key_path: paths['agent.key.pem'] } }, () => host),
    ).rejects.toThrow(/does not belong to the first certificate/)
  })
})
