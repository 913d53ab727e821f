import type { AddressInfo } from 'node:net'
import type { Server } from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import { Bundle, BundleSet } from './bundle.js'
import { parseSpiffeId, parseTrustDomain, type TrustDomain } from './id.js'
import { authorizeId, authorizeMemberOf, connectMtls, createMtlsServer, type X509Material } from './tls.js'
import { createSelfSignedCa, type X509Ca } from './x509-ca.js'
import { generateKeyPair } from './x509-keys.js'
import { mintX509Svid } from './x509-mint.js'

const TD = parseTrustDomain('example.org')
const SERVER_ID = parseSpiffeId('spiffe://example.org/server')
const CLIENT_ID = parseSpiffeId('spiffe://example.org/client')

interface TestCa {
  readonly td: TrustDomain
  readonly ca: X509Ca
}

function newCa(td = TD): TestCa {
  return { td, ca: createSelfSignedCa({ trustDomain: td, privateKey: generateKeyPair('ec-p256').privateKey, ttlSeconds: 3600 }) }
}

/** Material with an SVID for `id` from `ca`, trusting `trusted` CAs (own trust domain). */
function material(issuer: TestCa, id: string, trusted: readonly TestCa[] = [issuer]): X509Material & { serial: bigint } {
  const keys = generateKeyPair('ec-p256')
  const minted = mintX509Svid({ ca: issuer.ca, spiffeId: parseSpiffeId(id), publicKey: keys.publicKey, ttlSeconds: 600 })
  const byTd = new Map<string, TestCa[]>()
  for (const c of trusted) byTd.set(c.td.name, [...(byTd.get(c.td.name) ?? []), c])
  const bundles = new BundleSet([...byTd.values()].map((cas) => new Bundle(cas[0]!.td, { x509Authorities: cas.map((c) => c.ca.certificateDer) })))
  return {
    svid: { certificatesDer: minted.chainDer, privateKeyDer: keys.privateKey.export({ format: 'der', type: 'pkcs8' }) },
    bundles,
    serial: minted.serial,
  }
}

/** A source whose material the test replaces, announcing each replacement as X509Source does. */
class MutableSource implements X509Material {
  readonly #listeners = new Set<() => void>()
  constructor(public current: X509Material) {}
  get svid() {
    return this.current.svid
  }
  get bundles() {
    return this.current.bundles
  }
  set(next: X509Material): void {
    this.current = next
    for (const l of this.#listeners) l()
  }
  onUpdate(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

const servers: Server[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.close()
})

async function echoServer(source: MutableSource, authorize = authorizeId(CLIENT_ID)): Promise<{ port: number; refused: Error[] }> {
  const refused: Error[] = []
  const server = createMtlsServer(
    source,
    authorize,
    (socket, peer) => socket.end(`${peer.toString()}\n`),
    (err) => refused.push(err),
  )
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, refused }
}

async function exchange(client: X509Material, port: number, authorize = authorizeId(SERVER_ID)): Promise<{ peer: string; serverSaw: string; serverSerial: string }> {
  const { socket, peer } = await connectMtls(client, authorize, { host: '127.0.0.1', port })
  const serverSerial = socket.getPeerCertificate().serialNumber
  const serverSaw = await new Promise<string>((resolve, reject) => {
    let data = ''
    socket.setEncoding('utf8').on('data', (c: string) => (data += c))
    socket.on('end', () => resolve(data.trim()))
    socket.on('close', () => resolve(data.trim()))
    socket.on('error', reject)
  })
  return { peer: peer.toString(), serverSaw, serverSerial }
}

describe('mTLS with X509-SVIDs', () => {
  it('both sides authenticate by SPIFFE ID; host names play no part', async () => {
    const ca = newCa()
    const { port } = await echoServer(new MutableSource(material(ca, SERVER_ID.toString())))
    const result = await exchange(material(ca, CLIENT_ID.toString()), port)
    expect(result).toMatchObject({ peer: SERVER_ID.toString(), serverSaw: CLIENT_ID.toString() })
  })

  it('the client refuses a server whose ID the authorizer does not accept', async () => {
    const ca = newCa()
    const { port } = await echoServer(new MutableSource(material(ca, 'spiffe://example.org/impostor')))
    await expect(exchange(material(ca, CLIENT_ID.toString()), port)).rejects.toThrow(
      'tlsconfig: unexpected ID "spiffe://example.org/impostor", expected "spiffe://example.org/server"',
    )
  })

  it('the server refuses a client whose ID the authorizer does not accept, before the handler sees it', async () => {
    const ca = newCa()
    const { port, refused } = await echoServer(new MutableSource(material(ca, SERVER_ID.toString())))
    const result = await exchange(material(ca, 'spiffe://example.org/stranger'), port).catch((err: Error) => err)
    // TLS 1.3 finishes the client side first; the server then drops the connection without a word.
    expect(result instanceof Error ? '' : result.serverSaw).toBe('')
    await expect.poll(() => refused.map((e) => e.message)).toContain('tlsconfig: unexpected ID "spiffe://example.org/stranger", expected "spiffe://example.org/client"')
  })

  it('WAPI-12: an SVID from another trust domain is refused even when its CA is trusted for that domain', async () => {
    const ours = newCa()
    const theirs = newCa(parseTrustDomain('other.org'))
    const server = new MutableSource(material(ours, SERVER_ID.toString(), [ours, theirs]))
    const { port } = await echoServer(server, authorizeMemberOf(TD))
    // Valid in other.org (whose bundle the server has), but the authorizer admits example.org only.
    const foreign = material(theirs, 'spiffe://other.org/client', [ours, theirs])
    const result = await exchange(foreign, port).catch((err: Error) => err)
    expect(result instanceof Error ? '' : result.serverSaw).toBe('')
    // A client whose SVID chains to no bundle of its own trust domain is refused by the TLS layer.
    const unknown = material(newCa(), CLIENT_ID.toString(), [ours])
    const refusedUnknown = await exchange(unknown, port).catch((err: Error) => err)
    expect(refusedUnknown instanceof Error ? '' : refusedUnknown.serverSaw).toBe('')
  })

  it('a rotated SVID and bundle apply to new connections without a restart', async () => {
    const oldCa = newCa()
    const source = new MutableSource(material(oldCa, SERVER_ID.toString()))
    const { port } = await echoServer(source)
    const before = await exchange(material(oldCa, CLIENT_ID.toString()), port)
    // A new CA: the server gets an SVID from it and trusts both CAs, as during a CA rotation.
    const newCaCert = newCa()
    const rotated = material(newCaCert, SERVER_ID.toString(), [oldCa, newCaCert])
    source.set(rotated)
    const after = await exchange(material(newCaCert, CLIENT_ID.toString(), [oldCa, newCaCert]), port)
    expect(after.serverSaw).toBe(CLIENT_ID.toString())
    expect(BigInt(`0x${after.serverSerial}`)).toBe(rotated.serial)
    expect(after.serverSerial).not.toBe(before.serverSerial)
  })
})
