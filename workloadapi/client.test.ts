import { X509Certificate, createPrivateKey, generateKeyPairSync, webcrypto, type KeyObject } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as x509 from '@peculiar/x509'
import { SignJWT } from 'jose'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadWorkloadApi } from '../proto/index.js'
import { SpiffeError, parseSpiffeId, parseTrustDomain, type BundleSet } from '../spiffe/index.js'
import { SECURITY_HEADER, WorkloadApiClient, WorkloadApiError } from './client.js'
import type { X509Context } from './decode.js'

x509.cryptoProvider.set(webcrypto)

// ---- Canned but real material: a CA and a leaf of example.org, a CA of other.org, a JWT key. ----

interface Material {
  caDer: Buffer
  leafDer: Buffer
  leafKeyPkcs8: Buffer
  otherCaDer: Buffer
  jwtKey: { privateKey: KeyObject; publicKey: KeyObject }
  jwks: Buffer
  otherJwks: Buffer
  token: string
}

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }

async function makeCa(trustDomain: string): Promise<{ cert: x509.X509Certificate; keys: webcrypto.CryptoKeyPair }> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${trustDomain} CA`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
    ],
  })
  return { cert, keys }
}

async function makeMaterial(): Promise<Material> {
  const ca = await makeCa('example.org')
  const other = await makeCa('other.org')
  const leafKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const leaf = await x509.X509CertificateGenerator.create({
    subject: '',
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: EC,
    publicKey: leafKeys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://example.org/workload' }], true),
    ],
  })
  const jwtKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const otherJwtKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwks = {
    keys: [
      { ...jwtKey.publicKey.export({ format: 'jwk' }), kid: 'jwt-key-1', use: 'jwt-svid' },
      // An X.509 authority in the same set is not a JWT authority: the client must skip it.
      { ...otherJwtKey.publicKey.export({ format: 'jwk' }), kid: 'x509-ca', use: 'x509-svid' },
    ],
  }
  const otherJwks = { keys: [{ ...otherJwtKey.publicKey.export({ format: 'jwk' }), kid: 'other-1' }] }
  const token = await new SignJWT({ aud: ['spiffe://example.org/db'] })
    .setProtectedHeader({ alg: 'ES256', kid: 'jwt-key-1', typ: 'JWT' })
    .setSubject('spiffe://example.org/workload')
    .setExpirationTime('5m')
    .sign(jwtKey.privateKey)
  return {
    caDer: Buffer.from(ca.cert.rawData),
    leafDer: Buffer.from(leaf.rawData),
    leafKeyPkcs8: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey)),
    otherCaDer: Buffer.from(other.cert.rawData),
    jwtKey,
    jwks: Buffer.from(JSON.stringify(jwks)),
    otherJwks: Buffer.from(JSON.stringify(otherJwks)),
    token,
  }
}

// ---- A small SpiffeWorkloadAPI server on a temp Unix socket, scripted per stream. ----

/** What one opened stream does: send these messages, then end it (OK or an error) or keep it open. */
interface StreamScript {
  send: object[]
  then: 'end' | 'hold' | { code: grpc.status; details: string }
}

class FakeWorkloadApi {
  readonly server = new grpc.Server()
  /** Metadata values of `workload.spiffe.io` seen on each call, by method. */
  readonly headers: { method: string; values: grpc.MetadataValue[] }[] = []
  readonly opened = new Map<string, number>()
  readonly unaryRequests: { method: string; request: unknown }[] = []
  readonly scripts = new Map<string, StreamScript[]>()
  /** Used when a method's script list is empty. */
  readonly fallback = new Map<string, StreamScript>()
  unary = new Map<string, (request: Record<string, unknown>) => object | { code: grpc.status; details: string }>()
  readonly #held = new Set<grpc.ServerWritableStream<unknown, unknown>>()

  constructor() {
    const stream = (method: string) => (call: grpc.ServerWritableStream<unknown, unknown>) => {
      if (!this.#checkHeader(method, call.metadata, (err) => call.emit('error', err))) return
      this.opened.set(method, (this.opened.get(method) ?? 0) + 1)
      const script = this.scripts.get(method)?.shift() ?? this.fallback.get(method)
      if (script === undefined) {
        call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'no script' })
        return
      }
      for (const message of script.send) call.write(message)
      if (script.then === 'end') call.end()
      else if (script.then === 'hold') {
        this.#held.add(call)
        call.on('cancelled', () => this.#held.delete(call))
      } else call.emit('error', { code: script.then.code, details: script.then.details })
    }
    const unary =
      (method: string) => (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        if (!this.#checkHeader(method, call.metadata, (err) => callback(err))) return
        this.unaryRequests.push({ method, request: call.request })
        const answer = this.unary.get(method)?.(call.request as Record<string, unknown>)
        if (answer === undefined) return callback({ code: grpc.status.UNIMPLEMENTED, details: 'no handler' })
        if ('code' in answer) return callback(answer as grpc.ServiceError)
        callback(null, answer)
      }
    this.server.addService(loadWorkloadApi().service, {
      FetchX509SVID: stream('FetchX509SVID'),
      FetchX509Bundles: stream('FetchX509Bundles'),
      FetchJWTBundles: stream('FetchJWTBundles'),
      FetchJWTSVID: unary('FetchJWTSVID'),
      ValidateJWTSVID: unary('ValidateJWTSVID'),
    })
  }

  #checkHeader(method: string, metadata: grpc.Metadata, reject: (err: Partial<grpc.ServiceError>) => void): boolean {
    const values = metadata.get(SECURITY_HEADER)
    this.headers.push({ method, values })
    if (values.length === 1 && values[0] === 'true') return true
    reject({ code: grpc.status.INVALID_ARGUMENT, details: 'security header missing from request' })
    return false
  }

  script(method: string, ...scripts: StreamScript[]): void {
    this.scripts.set(method, scripts)
  }

  /** Ends every held stream cleanly (as an agent does when it restarts). */
  endHeldStreams(): void {
    for (const call of this.#held) call.end()
    this.#held.clear()
  }

  async listen(socketPath: string): Promise<void> {
    await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    )
  }

  stop(): void {
    this.server.forceShutdown()
  }
}

/** Resolves when `predicate` holds, polling; fails after `timeoutMs`. */
async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now()
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

// ---- Tests ----

let material: Material
let dir: string
let socketPath: string
let api: FakeWorkloadApi
let client: WorkloadApiClient

function x509Response(overrides: { hint?: string; federated?: boolean; svids?: object[] } = {}): object {
  return {
    svids: overrides.svids ?? [
      {
        spiffe_id: 'spiffe://example.org/workload',
        x509_svid: material.leafDer,
        x509_svid_key: material.leafKeyPkcs8,
        bundle: material.caDer,
        hint: overrides.hint ?? 'internal',
      },
    ],
    crl: [],
    federated_bundles: overrides.federated === false ? {} : { 'spiffe://other.org': material.otherCaDer },
  }
}

beforeAll(async () => {
  material = await makeMaterial()
})

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steeple-wapi-'))
  socketPath = join(dir, 'agent.sock')
  api = new FakeWorkloadApi()
  await api.listen(socketPath)
  client = WorkloadApiClient.connect({ address: `unix://${socketPath}`, env: {}, backoff: { initialMs: 20, maxMs: 100 } })
})

afterEach(async () => {
  client.close()
  api.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('WorkloadApiClient: requests', () => {
  it('WEP-04: every call sends exactly one workload.spiffe.io: true', async () => {
    api.fallback.set('FetchX509SVID', { send: [x509Response()], then: 'hold' })
    api.fallback.set('FetchX509Bundles', { send: [{ bundles: { 'spiffe://example.org': material.caDer } }], then: 'hold' })
    api.fallback.set('FetchJWTBundles', { send: [{ bundles: { 'spiffe://example.org': material.jwks } }], then: 'hold' })
    api.unary.set('FetchJWTSVID', () => ({ svids: [{ spiffe_id: 'spiffe://example.org/workload', svid: material.token }] }))
    api.unary.set('ValidateJWTSVID', () => ({ spiffe_id: 'spiffe://example.org/workload', claims: { fields: {} } }))

    await client.fetchX509Context()
    await client.fetchX509Bundles()
    await client.fetchJwtBundles()
    await client.fetchJwtSvid({ audience: ['spiffe://example.org/db'] })
    await client.validateJwtSvid({ audience: 'spiffe://example.org/db', token: material.token })

    expect(api.headers.map((h) => h.method).sort()).toEqual([
      'FetchJWTBundles',
      'FetchJWTSVID',
      'FetchX509Bundles',
      'FetchX509SVID',
      'ValidateJWTSVID',
    ])
    for (const h of api.headers) expect(h.values).toEqual(['true'])
  })

  it('WEP-07: connects through SPIFFE_ENDPOINT_SOCKET when no address is given', async () => {
    api.fallback.set('FetchX509Bundles', { send: [{ bundles: { 'spiffe://example.org': material.caDer } }], then: 'end' })
    const fromEnv = WorkloadApiClient.connect({ env: { SPIFFE_ENDPOINT_SOCKET: `unix://${socketPath}` } })
    try {
      expect(fromEnv.address).toEqual({ kind: 'unix', path: socketPath })
      expect((await fromEnv.fetchX509Bundles()).size).toBe(1)
    } finally {
      fromEnv.close()
    }
  })

  it('WEP-07: connect fails clearly without an address', () => {
    expect(() => WorkloadApiClient.connect({ env: {} })).toThrow(
      'workloadapi: workload endpoint socket address is not configured and SPIFFE_ENDPOINT_SOCKET is not set',
    )
  })
})

describe('WorkloadApiClient: decoding', () => {
  it('fetchX509Context decodes SVIDs and bundles', async () => {
    // Leaf followed by an "intermediate", to check the chain is split.
    const chain = Buffer.concat([material.leafDer, material.otherCaDer])
    api.script('FetchX509SVID', {
      send: [
        x509Response({
          svids: [
            {
              spiffe_id: 'spiffe://example.org/workload',
              x509_svid: chain,
              x509_svid_key: material.leafKeyPkcs8,
              bundle: material.caDer,
              hint: 'internal',
            },
          ],
        }),
      ],
      then: 'hold',
    })
    const context = await client.fetchX509Context()

    expect(context.svids).toHaveLength(1)
    const svid = context.svids[0]!
    expect(svid.id.toString()).toBe('spiffe://example.org/workload')
    expect(svid.hint).toBe('internal')
    expect(svid.certificatesDer.map((d) => Buffer.from(d))).toEqual([material.leafDer, material.otherCaDer])
    const leaf = new X509Certificate(Buffer.from(svid.certificatesDer[0]!))
    expect(leaf.subjectAltName).toBe('URI:spiffe://example.org/workload')
    const key = createPrivateKey({ key: Buffer.from(svid.privateKeyDer), format: 'der', type: 'pkcs8' })
    expect(leaf.checkPrivateKey(key)).toBe(true)

    const own = context.bundles.get(parseTrustDomain('example.org'))!
    expect(own.x509Authorities.map((d) => Buffer.from(d))).toEqual([material.caDer])
    const federated = context.bundles.get(parseTrustDomain('other.org'))!
    expect(federated.x509Authorities.map((d) => Buffer.from(d))).toEqual([material.otherCaDer])
    expect(context.bundles.size).toBe(2)
    expect(context.crls).toEqual([])
  })

  it('WAPI-14: keeps SVID order and the first SVID of a duplicated hint', async () => {
    const svid = (path: string, hint: string): object => ({
      spiffe_id: `spiffe://example.org/${path}`,
      x509_svid: material.leafDer,
      x509_svid_key: material.leafKeyPkcs8,
      bundle: material.caDer,
      hint,
    })
    api.script('FetchX509SVID', {
      send: [x509Response({ svids: [svid('a', 'internal'), svid('b', ''), svid('c', 'internal'), svid('d', '')] })],
      then: 'hold',
    })
    const context = await client.fetchX509Context()
    expect(context.svids.map((s) => s.id.path)).toEqual(['/a', '/b', '/d'])
  })

  it('WAPI-11: a response with a mandatory field left empty is refused', async () => {
    api.script('FetchX509SVID', {
      send: [x509Response({ svids: [{ spiffe_id: 'spiffe://example.org/workload', x509_svid: material.leafDer, x509_svid_key: material.leafKeyPkcs8 }] })],
      then: 'hold',
    })
    const err = await client.fetchX509Context().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SpiffeError)
    expect((err as SpiffeError).code).toBe('INVALID_WORKLOAD_API_RESPONSE')
    expect((err as SpiffeError).message).toBe('workloadapi: X509-SVID response svids[0].bundle is empty')
  })

  it('fetchX509Bundles decodes bundles keyed by trust domain ID', async () => {
    api.script('FetchX509Bundles', {
      send: [{ bundles: { 'spiffe://example.org': material.caDer, 'spiffe://other.org': material.otherCaDer } }],
      then: 'hold',
    })
    const bundles = await client.fetchX509Bundles()
    expect([...bundles].map((b) => b.trustDomain.name).sort()).toEqual(['example.org', 'other.org'])
    expect(Buffer.from(bundles.get(parseTrustDomain('example.org'))!.x509Authorities[0]!)).toEqual(material.caDer)
  })

  it('fetchJwtBundles reads the JWK Sets as JWT authorities only', async () => {
    api.script('FetchJWTBundles', {
      send: [{ bundles: { 'spiffe://example.org': material.jwks, 'spiffe://other.org': material.otherJwks } }],
      then: 'hold',
    })
    const bundles = await client.fetchJwtBundles()
    const own = bundles.get(parseTrustDomain('example.org'))!
    expect([...own.jwtAuthorities.keys()]).toEqual(['jwt-key-1'])
    expect(own.findJwtAuthority('jwt-key-1')!.publicKey.equals(material.jwtKey.publicKey)).toBe(true)
    expect(own.x509Authorities).toEqual([])
    expect([...bundles.get(parseTrustDomain('other.org'))!.jwtAuthorities.keys()]).toEqual(['other-1'])
  })

  it('fetchJwtSvid sends the audience and the requested ID, returns the default SVID', async () => {
    api.unary.set('FetchJWTSVID', () => ({
      svids: [
        { spiffe_id: 'spiffe://example.org/workload', svid: material.token, hint: 'first' },
        { spiffe_id: 'spiffe://example.org/other', svid: material.token, hint: '' },
      ],
    }))
    const svid = await client.fetchJwtSvid({
      audience: ['spiffe://example.org/db', 'extra'],
      spiffeId: parseSpiffeId('spiffe://example.org/workload'),
    })
    expect(svid.id.toString()).toBe('spiffe://example.org/workload')
    expect(svid.token).toBe(material.token)
    expect(svid.hint).toBe('first')
    expect(api.unaryRequests).toEqual([
      {
        method: 'FetchJWTSVID',
        request: { audience: ['spiffe://example.org/db', 'extra'], spiffe_id: 'spiffe://example.org/workload' },
      },
    ])
    const all = await client.fetchJwtSvids({ audience: ['spiffe://example.org/db'] })
    expect(all.map((s) => s.id.path)).toEqual(['/workload', '/other'])
    expect(api.unaryRequests[1]!.request).toEqual({ audience: ['spiffe://example.org/db'], spiffe_id: '' })
  })

  it('an empty audience is refused before anything is sent', async () => {
    for (const audience of [[], ['']]) {
      const err = await client.fetchJwtSvid({ audience }).catch((e: unknown) => e)
      expect((err as SpiffeError).code).toBe('INVALID_WORKLOAD_API_REQUEST')
    }
    await expect(client.validateJwtSvid({ audience: '', token: material.token })).rejects.toThrow(
      'workloadapi: audience must not be empty',
    )
    await expect(client.validateJwtSvid({ audience: 'x', token: '' })).rejects.toThrow('workloadapi: token must not be empty')
    expect(api.unaryRequests).toEqual([])
  })

  it('validateJwtSvid returns the subject and the claims as JSON', async () => {
    api.unary.set('ValidateJWTSVID', (request) => {
      if (request['svid'] !== material.token || request['audience'] !== 'spiffe://example.org/db') {
        return { code: grpc.status.INVALID_ARGUMENT, details: 'token is not valid' }
      }
      return {
        spiffe_id: 'spiffe://example.org/workload',
        claims: {
          fields: {
            sub: { stringValue: 'spiffe://example.org/workload' },
            aud: { listValue: { values: [{ stringValue: 'spiffe://example.org/db' }] } },
            exp: { numberValue: 1_900_000_000 },
            ok: { boolValue: true },
            nothing: { nullValue: 'NULL_VALUE' },
            nested: { structValue: { fields: { a: { numberValue: 1 } } } },
          },
        },
      }
    })
    const result = await client.validateJwtSvid({ audience: 'spiffe://example.org/db', token: material.token })
    expect(result.id.toString()).toBe('spiffe://example.org/workload')
    expect(result.claims).toEqual({
      sub: 'spiffe://example.org/workload',
      aud: ['spiffe://example.org/db'],
      exp: 1_900_000_000,
      ok: true,
      nothing: null,
      nested: { a: 1 },
    })

    const err = await client.validateJwtSvid({ audience: 'spiffe://example.org/other', token: material.token }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WorkloadApiError)
    expect((err as WorkloadApiError).grpcStatus).toBe(grpc.status.INVALID_ARGUMENT)
    expect((err as WorkloadApiError).message).toBe('workloadapi: ValidateJWTSVID failed: INVALID_ARGUMENT: token is not valid')
  })

  it('a fetch refused with PERMISSION_DENIED rejects with that status', async () => {
    api.script('FetchX509SVID', { send: [], then: { code: grpc.status.PERMISSION_DENIED, details: 'no identity issued' } })
    const err = await client.fetchX509Context().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WorkloadApiError)
    expect((err as WorkloadApiError).grpcStatus).toBe(grpc.status.PERMISSION_DENIED)
    expect((err as WorkloadApiError).code).toBe('WORKLOAD_API_REQUEST_FAILED')
  })

  it('a fetch can be aborted', async () => {
    api.script('FetchX509SVID', { send: [], then: 'hold' })
    const controller = new AbortController()
    const pending = client.fetchX509Context({ signal: controller.signal })
    await until(() => api.opened.get('FetchX509SVID') === 1)
    controller.abort(new Error('gave up'))
    await expect(pending).rejects.toThrow('gave up')
  })
})

describe('WorkloadApiClient: watches', () => {
  function collect<T>(): { updates: T[]; errors: Error[]; onUpdate: (v: T) => void; onError: (e: Error) => void } {
    const updates: T[] = []
    const errors: Error[] = []
    return { updates, errors, onUpdate: (v) => updates.push(v), onError: (e) => errors.push(e) }
  }

  it('WAPI-04: reconnects at once when the server ends the stream', async () => {
    api.script(
      'FetchX509SVID',
      { send: [x509Response({ hint: 'first' })], then: 'end' },
      { send: [x509Response({ hint: 'second' })], then: 'hold' },
    )
    const seen = collect<X509Context>()
    const controller = new AbortController()
    const watching = client.watchX509Context(seen.onUpdate, seen.onError, controller.signal)
    await until(() => seen.updates.length === 2)
    expect(seen.updates.map((c) => c.svids[0]!.hint)).toEqual(['first', 'second'])
    expect(api.opened.get('FetchX509SVID')).toBe(2)
    expect(seen.errors).toEqual([])
    controller.abort()
    await expect(watching).resolves.toBeUndefined()
  })

  it('WAPI-04: follows an agent restart that ends held streams', async () => {
    api.fallback.set('FetchX509Bundles', { send: [{ bundles: { 'spiffe://example.org': material.caDer } }], then: 'hold' })
    const seen = collect<BundleSet>()
    const controller = new AbortController()
    const watching = client.watchX509Bundles(seen.onUpdate, seen.onError, controller.signal)
    await until(() => seen.updates.length === 1)
    api.endHeldStreams()
    await until(() => seen.updates.length === 2)
    controller.abort()
    await watching
    expect(api.opened.get('FetchX509Bundles')).toBe(2)
  })

  it('PERMISSION_DENIED is reported and retried', async () => {
    api.script(
      'FetchX509SVID',
      { send: [], then: { code: grpc.status.PERMISSION_DENIED, details: 'no identity issued' } },
      { send: [], then: { code: grpc.status.PERMISSION_DENIED, details: 'no identity issued' } },
      { send: [x509Response()], then: 'hold' },
    )
    const seen = collect<X509Context>()
    const controller = new AbortController()
    const watching = client.watchX509Context(seen.onUpdate, seen.onError, controller.signal)
    await until(() => seen.updates.length === 1)
    expect(seen.errors).toHaveLength(2)
    for (const err of seen.errors) {
      expect(err).toBeInstanceOf(WorkloadApiError)
      expect((err as WorkloadApiError).grpcStatus).toBe(grpc.status.PERMISSION_DENIED)
    }
    expect(api.opened.get('FetchX509SVID')).toBe(3)
    controller.abort()
    await watching
  })

  it('UNAVAILABLE while the agent is not up yet is retried until it answers', async () => {
    api.stop()
    await rm(socketPath, { force: true })
    const seen = collect<BundleSet>()
    const controller = new AbortController()
    const watching = client.watchJwtBundles(seen.onUpdate, seen.onError, controller.signal)
    await until(() => seen.errors.length >= 1)
    expect((seen.errors[0] as WorkloadApiError).grpcStatus).toBe(grpc.status.UNAVAILABLE)

    api = new FakeWorkloadApi()
    api.fallback.set('FetchJWTBundles', { send: [{ bundles: { 'spiffe://example.org': material.jwks } }], then: 'hold' })
    await api.listen(socketPath)
    await until(() => seen.updates.length === 1, 15_000)
    expect(seen.updates[0]!.get(parseTrustDomain('example.org'))!.jwtAuthorities.has('jwt-key-1')).toBe(true)
    controller.abort()
    await watching
  })

  it('INVALID_ARGUMENT ends the watch without retrying', async () => {
    api.script('FetchX509SVID', { send: [], then: { code: grpc.status.INVALID_ARGUMENT, details: 'security header missing from request' } })
    const seen = collect<X509Context>()
    const err = await client.watchX509Context(seen.onUpdate, seen.onError).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WorkloadApiError)
    expect((err as WorkloadApiError).grpcStatus).toBe(grpc.status.INVALID_ARGUMENT)
    expect(api.opened.get('FetchX509SVID')).toBe(1)
    expect(seen.errors).toEqual([])
  })

  it('UNIMPLEMENTED ends the watch without retrying', async () => {
    api.script('FetchJWTBundles', { send: [], then: { code: grpc.status.UNIMPLEMENTED, details: 'not here' } })
    const seen = collect<BundleSet>()
    await expect(client.watchJwtBundles(seen.onUpdate, seen.onError)).rejects.toMatchObject({
      grpcStatus: grpc.status.UNIMPLEMENTED,
    })
    expect(api.opened.get('FetchJWTBundles')).toBe(1)
  })

  it('WAPI-09, WAPI-11: a bad message is reported and skipped; each good one is the full state', async () => {
    api.script('FetchX509SVID', {
      send: [
        x509Response(),
        { svids: [] },
        x509Response({ federated: false }),
      ],
      then: 'hold',
    })
    const seen = collect<X509Context>()
    const controller = new AbortController()
    const watching = client.watchX509Context(seen.onUpdate, seen.onError, controller.signal)
    await until(() => seen.updates.length === 2)
    expect(seen.errors.map((e) => e.message)).toEqual(['workloadapi: X509-SVID response has no SVIDs'])
    expect(seen.updates[0]!.bundles.has(parseTrustDomain('other.org'))).toBe(true)
    // The federation relationship is gone from the second message, so it is gone from our state.
    expect(seen.updates[1]!.bundles.has(parseTrustDomain('other.org'))).toBe(false)
    expect(api.opened.get('FetchX509SVID')).toBe(1)
    controller.abort()
    await watching
  })

  it('an error thrown by onUpdate goes to onError and the watch goes on', async () => {
    api.script('FetchX509Bundles', {
      send: [{ bundles: { 'spiffe://example.org': material.caDer } }, { bundles: { 'spiffe://other.org': material.otherCaDer } }],
      then: 'hold',
    })
    const errors: Error[] = []
    let calls = 0
    const controller = new AbortController()
    const watching = client.watchX509Bundles(
      () => {
        calls++
        if (calls === 1) throw new Error('handler bug')
      },
      (e) => errors.push(e),
      controller.signal,
    )
    await until(() => calls === 2)
    expect(errors.map((e) => e.message)).toEqual(['handler bug'])
    controller.abort()
    await watching
  })

  it('close() ends open watches and refuses new calls', async () => {
    api.fallback.set('FetchX509SVID', { send: [x509Response()], then: 'hold' })
    const seen = collect<X509Context>()
    const watching = client.watchX509Context(seen.onUpdate, seen.onError)
    await until(() => seen.updates.length === 1)
    client.close()
    await expect(watching).resolves.toBeUndefined()
    await expect(client.fetchX509Context()).rejects.toThrow('workloadapi: FetchX509SVID failed: CANCELLED: client is closed')
  })

  it('a watch whose signal is already aborted returns at once', async () => {
    const seen = collect<X509Context>()
    await client.watchX509Context(seen.onUpdate, seen.onError, AbortSignal.abort())
    expect(api.opened.get('FetchX509SVID')).toBeUndefined()
  })
})
