import { sign } from 'node:crypto'
import {
  DerReader,
  createSelfSignedCa,
  generateKeyPair,
  mintX509Svid,
  parseSpiffeId,
  parseTrustDomain,
  readTlv,
} from '../../spiffe/index.js'
import type { BenchOptions, BenchResult } from './main.js'
import { runSignAgent } from './sign-agent.js'
import { runSignApi } from './sign-api.js'

/**
 * X509-SVID minting throughput against the bare signature it contains, on one core, EC P-256:
 * `mintX509Svid` (CA key and one leaf public key, a fresh random serial each time) versus
 * `crypto.sign('sha256', tbs, key)` over a buffer as long as the real TBSCertificate. The two run
 * in alternating rounds after a warm-up, so clock and thermal drift hit both alike.
 * `sign.ratio_raw` = certs/s ÷ sig/s; the goal is ≥ 0.5.
 *
 * Then against SPIRE through each server's agent API, BatchNewX509SVID as an attested agent
 * ({@link runSignAgent}): `sign.steeple_agent_api_per_s`, `sign.spire_per_s`, `sign.ratio_spire` =
 * Steeple ÷ SPIRE (goal ≥ 1); and through each server's admin mint RPC ({@link runSignApi}):
 * `sign.steeple_mint_per_s`, `sign.spire_mint_per_s`, `sign.ratio_spire_mint`.
 *
 * Measured on the 2-core dev VM (Node 20.20, OpenSSL 3.0): 10,100–12,600 certs/s against
 * 19,000–21,700 sig/s, ratio 0.53–0.58. The same leaf built with @peculiar/asn1-x509's object
 * model and signed with node:crypto reached ~930 certs/s; @peculiar/x509's
 * X509CertificateGenerator ~260 certs/s. What remains besides the signature is mostly exporting
 * the leaf key as JWK (~9 µs; OpenSSL's SPKI encoder would take ~200 µs) and its SHA-1 key ID.
 */
export async function runSign(options: BenchOptions): Promise<BenchResult> {
  const trustDomain = parseTrustDomain('bench.example')
  const caKey = generateKeyPair('ec-p256')
  const ca = createSelfSignedCa({ trustDomain, privateKey: caKey.privateKey, ttlSeconds: 7 * 24 * 3600 })
  const leafKey = generateKeyPair('ec-p256').publicKey
  const spiffeId = parseSpiffeId('spiffe://bench.example/ns/default/sa/web')

  const mint = (): unknown => mintX509Svid({ ca, spiffeId, publicKey: leafKey, ttlSeconds: 3600 })
  const sample = mintX509Svid({ ca, spiffeId, publicKey: leafKey, ttlSeconds: 3600 }).certificateDer
  const tbs = DerReader.of(sample, readTlv(sample, 0)).next()
  const tbsBuffer = Buffer.alloc(tbs.end - tbs.start, 0x5a)
  const raw = (): unknown => sign('sha256', tbsBuffer, caKey.privateKey)

  const warmUpMs = options.quick ? 200 : 1000
  const roundMs = options.quick ? 250 : 1000
  const rounds = options.quick ? 2 : 5
  timed(mint, warmUpMs)
  timed(raw, warmUpMs)
  let mintOps = 0
  let mintMs = 0
  let rawOps = 0
  let rawMs = 0
  for (let i = 0; i < rounds; i++) {
    const m = timed(mint, roundMs)
    mintOps += m.ops
    mintMs += m.ms
    const r = timed(raw, roundMs)
    rawOps += r.ops
    rawMs += r.ms
    // Let pending I/O and timers run between rounds, as a server would.
    await new Promise((resolve) => setImmediate(resolve))
  }
  const steeple = (mintOps / mintMs) * 1000
  const rawRate = (rawOps / rawMs) * 1000
  const ratio = steeple / rawRate
  console.log(
    `sign: steeple ${Math.round(steeple)} certs/s, raw ${Math.round(rawRate)} sig/s, ratio ${ratio.toFixed(2)} ` +
      `(EC P-256, TBS ${tbsBuffer.length} bytes, ${rounds} × ${roundMs} ms rounds)`,
  )
  const agent = await runSignAgent(options)
  console.log(
    `sign: agent API BatchNewX509SVID, ${agent.inFlight} calls of ${agent.batchSize} in flight over mTLS: steeple ${Math.round(agent.steeple)} SVIDs/s, ` +
      `spire ${Math.round(agent.spire)} SVIDs/s, ratio ${(agent.steeple / agent.spire).toFixed(2)}`,
  )
  const adminMint = await runSignApi(options)
  console.log(
    `sign: admin mint RPC, ${adminMint.inFlight} in flight over the Unix admin socket: steeple ${Math.round(adminMint.steeple)} SVIDs/s, ` +
      `spire ${Math.round(adminMint.spire)} SVIDs/s, ratio ${(adminMint.steeple / adminMint.spire).toFixed(2)}`,
  )
  return {
    'sign.steeple_per_s': steeple,
    'sign.raw_per_s': rawRate,
    'sign.ratio_raw': ratio,
    'sign.steeple_agent_api_per_s': agent.steeple,
    'sign.spire_per_s': agent.spire,
    'sign.ratio_spire': agent.steeple / agent.spire,
    'sign.steeple_mint_per_s': adminMint.steeple,
    'sign.spire_mint_per_s': adminMint.spire,
    'sign.ratio_spire_mint': adminMint.steeple / adminMint.spire,
  }
}

/** Calls `fn` in batches until `budgetMs` has passed; returns the calls made and the time taken. */
function timed(fn: () => unknown, budgetMs: number): { ops: number; ms: number } {
  const batch = 32
  let ops = 0
  const start = performance.now()
  let elapsed = 0
  do {
    for (let i = 0; i < batch; i++) fn()
    ops += batch
    elapsed = performance.now() - start
  } while (elapsed < budgetMs)
  return { ops, ms: elapsed }
}
