import { status } from '@grpc/grpc-js'
import * as x509 from '@peculiar/x509'
import { createPrivateKey, webcrypto, type KeyObject } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { AuthorizedSync, AuthorizedUpdate, ServerClient } from '../../agent/client/server-client.js'
import { SteepleError } from '../../common/errors.js'
import type { RegistrationEntry } from '../../plugins/data-store/types.js'
import { grpcStatusOf } from '../../common/grpc-status.js'

x509.cryptoProvider.set(webcrypto)

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const

/** A CA for x509pop node certificates (not a SPIFFE CA), valid for a day. */
export class NodeCa {
  private constructor(
    readonly cert: x509.X509Certificate,
    private readonly keys: webcrypto.CryptoKeyPair,
  ) {}

  static async create(): Promise<NodeCa> {
    const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=Node CA',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      keys,
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    })
    return new NodeCa(cert, keys)
  }

  /** A node certificate `CN=<commonName>` and its key, as the x509pop agent half takes them. */
  async issue(commonName: string): Promise<{ chainDer: Uint8Array[]; privateKey: KeyObject }> {
    const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
    const cert = await x509.X509CertificateGenerator.create({
      // Positive, so the leading hex digit stays below 8.
      serialNumber: '1' + Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex'),
      subject: `CN=${commonName}`,
      issuer: this.cert.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingKey: this.keys.privateKey,
      publicKey: keys.publicKey,
      signingAlgorithm: SIGN,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
    })
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
    return { chainDer: [new Uint8Array(cert.rawData)], privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }) }
  }
}

/** A server config file in `dir` (memory keys, SQLite), with x509pop when a node CA file is given. */
export async function writeServerConfig(dir: string, trustDomain: string, nodeCaPath?: string): Promise<string> {
  const path = join(dir, 'server.yaml')
  const lines = [
    'server:',
    `  trust_domain: ${trustDomain}`,
    `  data_dir: ${JSON.stringify(join(dir, 'data'))}`,
    '  bind_address: 127.0.0.1',
    '  bind_port: 0',
    'plugins:',
    '  DataStore:',
    `    sqlite: { path: ${JSON.stringify(join(dir, 'datastore.sqlite3'))} }`,
    '  KeyManager:',
    '    memory: {}',
    '  NodeAttestor:',
    '    join_token: {}',
  ]
  if (nodeCaPath !== undefined) lines.push(`    x509pop: { ca_bundle_path: ${JSON.stringify(nodeCaPath)} }`)
  await writeFile(path, lines.join('\n') + '\n')
  return path
}

/** Asserts that `promise` rejects with a SteepleError of this gRPC status (and message). */
export async function expectStatus(promise: Promise<unknown>, code: status, message?: RegExp): Promise<SteepleError> {
  const err = await promise.then(
    () => {
      throw new Error(`expected status ${status[code]}, got success`)
    },
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(SteepleError)
  const e = err as SteepleError
  expect(status[grpcStatusOf(e)]).toBe(status[code])
  if (message !== undefined) expect(e.message).toMatch(message)
  return e
}

/** `promise`, or a rejection when it takes longer than `ms`. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Entry IDs, sorted. */
export function ids(entries: readonly RegistrationEntry[]): string[] {
  return entries.map((e) => e.id).sort()
}

/** Collects SyncAuthorized updates and waits for ones matching a predicate. */
export class SyncRecorder {
  readonly updates: AuthorizedUpdate[] = []
  readonly sync: AuthorizedSync
  #waiters: (() => void)[] = []

  constructor(client: ServerClient) {
    this.sync = client.syncAuthorized((u) => {
      this.updates.push(u)
      for (const w of this.#waiters.splice(0)) w()
    })
    // Tests that expect the stream to fail await `sync.done` themselves.
    this.sync.done.catch(() => undefined)
  }

  /** The first update (in order of arrival) matching `pred`, waiting up to `timeoutMs`. */
  async waitFor(pred: (u: AuthorizedUpdate) => boolean, timeoutMs = 5_000): Promise<AuthorizedUpdate> {
    const deadline = Date.now() + timeoutMs
    for (let seen = 0; ; ) {
      for (; seen < this.updates.length; seen++) if (pred(this.updates[seen]!)) return this.updates[seen]!
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no matching sync update within ${timeoutMs} ms (got ${this.updates.length})`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }
}
