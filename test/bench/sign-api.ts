import 'reflect-metadata'
import * as grpc from '@grpc/grpc-js'
import * as x509 from '@peculiar/x509'
import { webcrypto } from 'node:crypto'
import { loadAdminApi } from '../../proto/index.js'
import { SpireDeployment } from './spire.js'
import { benchDir, DEFAULT_CONFIG, steepleNodeArgs, type BenchOptions } from './setup.js'
import { SteepleDeployment } from './steeple.js'

x509.cryptoProvider.set(webcrypto)

/**
 * X.509-SVIDs per second through each server's admin mint RPC on its Unix admin socket: SPIRE's
 * `spire.api.server.svid.v1.SVID/MintX509SVID` and Steeple's `steeple.admin.v1.AdminAPI/
 * MintX509SVID`. Both take a PKCS#10 CSR, check it, sign an EC P-256 leaf with the P-256 CA and
 * answer with the chain; Steeple also writes an audit record per SVID. One grpc-js client process
 * (this one) keeps `inFlight` calls open against each server in turn, alternating rounds so that
 * noise on the shared machine hits both alike. The client's own CPU use is in both figures.
 *
 * This path has no agent: one CSR in, one SVID out, a local caller. It weighs per-call costs
 * (gRPC, the audit write) more than the agent path (sign-agent.ts) does.
 */
export async function runSignApi(options: BenchOptions): Promise<{ steeple: number; spire: number; inFlight: number }> {
  const inFlight = 16
  const warmUpMs = options.quick ? 500 : 2_000
  const roundMs = options.quick ? 1_500 : 5_000
  const rounds = options.quick ? 2 : 4
  const config = DEFAULT_CONFIG
  const spiffeId = `spiffe://${config.trustDomain}/bench/mint`
  const csr = await csrWithUri(spiffeId)

  const { dir, remove } = await benchDir()
  let steeple: SteepleDeployment | undefined
  let spire: SpireDeployment | undefined
  try {
    ;[steeple, spire] = await Promise.all([SteepleDeployment.startServer(dir, config, { nodeArgs: steepleNodeArgs(options, 'steeple-server') }), SpireDeployment.startServer(dir, config)])
    const AdminApi = loadAdminApi()
    const steepleClient = new AdminApi(`unix:${steeple.socketPath}`, grpc.credentials.createInsecure())
    const spireClient = spire.client('svid')
    const mintSteeple = (): Promise<void> => call(steepleClient, 'MintX509SVID', { spiffe_id: spiffeId, csr, ttl: 0, dns_names: [] })
    const mintSpire = (): Promise<void> => call(spireClient, 'MintX509SVID', { csr, ttl: 0 })
    // Check both answer with a certificate before measuring.
    await mintSteeple()
    await mintSpire()
    await closedLoop(mintSteeple, inFlight, warmUpMs)
    await closedLoop(mintSpire, inFlight, warmUpMs)
    let steepleOps = 0
    let steepleMs = 0
    let spireOps = 0
    let spireMs = 0
    for (let i = 0; i < rounds; i++) {
      const a = await closedLoop(mintSteeple, inFlight, roundMs)
      steepleOps += a.ops
      steepleMs += a.ms
      const b = await closedLoop(mintSpire, inFlight, roundMs)
      spireOps += b.ops
      spireMs += b.ms
    }
    steepleClient.close()
    return { steeple: (steepleOps / steepleMs) * 1000, spire: (spireOps / spireMs) * 1000, inFlight }
  } finally {
    await Promise.allSettled([steeple?.stop(), spire?.stop()])
    await remove()
  }
}

/** A DER CSR for a fresh P-256 key whose one URI SAN is `spiffeId` (SPIRE names the SVID from it). */
async function csrWithUri(spiffeId: string): Promise<Buffer> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }])],
  })
  return Buffer.from(request.rawData)
}

/** One unary call that must answer with at least one certificate. */
function call(client: grpc.Client, method: string, request: unknown): Promise<void> {
  const fn = (client as unknown as Record<string, (...args: unknown[]) => unknown>)[method]!
  return new Promise((resolve, reject) => {
    fn.call(client, request, { deadline: Date.now() + 30_000 }, (err: Error | null, response: { svid_chain?: Buffer[]; svid?: { cert_chain: Buffer[] } }) => {
      if (err !== null) return reject(err)
      const chain = response.svid_chain ?? response.svid?.cert_chain ?? []
      if (chain.length === 0) return reject(new Error(`${method} answered without a certificate`))
      resolve()
    })
  })
}

/** Keeps `inFlight` calls going until `budgetMs` has passed; counts the completed ones. */
export async function closedLoop(fn: () => Promise<void>, inFlight: number, budgetMs: number): Promise<{ ops: number; ms: number }> {
  const start = performance.now()
  const end = start + budgetMs
  let ops = 0
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      await fn()
      ops++
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return { ops, ms: performance.now() - start }
}
