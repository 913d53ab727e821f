import * as grpc from '@grpc/grpc-js'
import { X509Certificate, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { ServerClient } from '../../agent/client/server-client.js'
import { JoinTokenAgentPlugin } from '../../plugins/node-attestor/join-token/index.js'
import { Bundle, createCsr, parseTrustDomain } from '../../spiffe/index.js'
import { SpireDeployment, spireServices } from './spire.js'
import { benchDir, DEFAULT_CONFIG, steepleNodeArgs, uidSelector, type BenchOptions } from './setup.js'
import { closedLoop } from './sign-api.js'
import { SteepleDeployment } from './steeple.js'

/**
 * X.509-SVIDs per second through each server's agent API, the path agents use:
 * BatchNewX509SVID over mTLS with an agent SVID obtained by join-token attestation (Steeple's
 * `steeple.agent.v1.AgentAPI`, SPIRE's `spire.api.server.svid.v1.SVID`). This process attests to
 * each server as an agent (Steeple through agent/client/server-client.ts, SPIRE with grpc-js on
 * its protos), registers `batchSize` entries under that agent, then keeps `inFlight` batch calls
 * of `batchSize` CSRs open against each server in turn, in alternating rounds. The CSRs (P-256)
 * are made once and reused. SPIRE's per-IP signing rate limit (500/s, on by default) is turned
 * off, as Steeple has none: what is measured is how fast each server signs.
 */
export async function runSignAgent(options: BenchOptions): Promise<{ steeple: number; spire: number; batchSize: number; inFlight: number }> {
  const batchSize = 50
  const inFlight = 4
  const warmUpMs = options.quick ? 500 : 2_000
  const roundMs = options.quick ? 1_500 : 5_000
  const rounds = options.quick ? 2 : 4
  const config = DEFAULT_CONFIG
  const csrs = Array.from({ length: batchSize }, () => createCsr(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey))

  const { dir, remove } = await benchDir()
  let steeple: SteepleDeployment | undefined
  let spire: SpireDeployment | undefined
  const closers: (() => void)[] = []
  try {
    ;[steeple, spire] = await Promise.all([
      SteepleDeployment.startServer(dir, config, { nodeArgs: steepleNodeArgs(options, 'steeple-server') }),
      SpireDeployment.startServer(dir, config, { signingRateLimit: false }),
    ])
    const steepleBatch = await steepleSigner(steeple, batchSize, csrs, closers)
    const spireBatch = await spireSigner(spire, batchSize, csrs, closers)
    await closedLoop(steepleBatch, inFlight, warmUpMs)
    await closedLoop(spireBatch, inFlight, warmUpMs)
    let a = { ops: 0, ms: 0 }
    let b = { ops: 0, ms: 0 }
    for (let i = 0; i < rounds; i++) {
      const x = await closedLoop(steepleBatch, inFlight, roundMs)
      a = { ops: a.ops + x.ops, ms: a.ms + x.ms }
      const y = await closedLoop(spireBatch, inFlight, roundMs)
      b = { ops: b.ops + y.ops, ms: b.ms + y.ms }
    }
    return { steeple: ((a.ops * batchSize) / a.ms) * 1000, spire: ((b.ops * batchSize) / b.ms) * 1000, batchSize, inFlight }
  } finally {
    for (const close of closers) close()
    await Promise.allSettled([steeple?.stop(), spire?.stop()])
    await remove()
  }
}

/** Attests to steeple-server with a join token and returns one BatchNewX509SVID call. */
async function steepleSigner(steeple: SteepleDeployment, batchSize: number, csrs: readonly Buffer[], closers: (() => void)[]): Promise<() => Promise<void>> {
  const { token } = await steeple.joinToken()
  const bundlePb = await steeple.admin.call('GetBundle', {})
  const trustDomain = parseTrustDomain(steeple.config.trustDomain)
  const client = new ServerClient({
    address: `127.0.0.1:${steeple.agentApiPort}`,
    trustDomain,
    bundle: new Bundle(trustDomain, { x509Authorities: bundlePb.x509_authorities.map((d) => new Uint8Array(d)) }),
    callTimeoutMs: 30_000,
  })
  closers.push(() => client.close())
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  const session = await new JoinTokenAgentPlugin({ token, token_path: undefined }).begin()
  const outcome = await client.attest('join_token', session, createCsr(key))
  client.setSvid({ chainDer: outcome.svidChainDer, privateKey: key })
  steeple.agentId = outcome.agentId.toString()
  const ids = await steeple.createEntries(Array.from({ length: batchSize }, (_, i) => ({ spiffeId: `spiffe://${steeple.config.trustDomain}/bench/sign/${i}`, selectors: [uidSelector(), `unix:gid:${i}`] })))
  const params = ids.map((entryId, i) => ({ entryId, csrDer: csrs[i]! }))
  const call = async (): Promise<void> => {
    const results = await client.batchNewX509Svid(params)
    if (results.length !== params.length || results.some((r) => !r.ok)) throw new Error('steeple: BatchNewX509SVID refused an entry')
  }
  await untilAuthorized(call, 'steeple')
  return call
}

/** Attests to spire-server with a join token (grpc-js on SPIRE's protos) and returns one BatchNewX509SVID call. */
async function spireSigner(spire: SpireDeployment, batchSize: number, csrs: readonly Buffer[], closers: (() => void)[]): Promise<() => Promise<void>> {
  const tokenOut = await spire.cli('token', 'generate', '-ttl', '600')
  const token = /Token:\s*(\S+)/.exec(tokenOut)![1]!
  const bundlePem = Buffer.from(await spire.cli('bundle', 'show'))
  const target = `127.0.0.1:${spire.serverPort}`
  // SPIRE's server certificate names it by SPIFFE ID only; the chain is checked against the bundle.
  const verifyOptions = { checkServerIdentity: () => undefined }
  // A host name for TLS SNI: Node warns when it is an IP address.
  const channelOptions = { 'grpc.ssl_target_name_override': 'spire-server' }
  const { agent: AgentCtor, svid: SvidCtor } = spireServices()
  const attestClient = new AgentCtor(target, grpc.credentials.createSsl(bundlePem, null, null, verifyOptions), channelOptions)
  closers.push(() => attestClient.close())
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  const chain = await spireAttest(attestClient, token, createCsr(key))
  spire.agentId = `spiffe://${spire.config.trustDomain}/spire/agent/join_token/${token}`
  const certPem = Buffer.from(chain.map((der) => new X509Certificate(der).toString()).join(''))
  const keyPem = Buffer.from((key as KeyObject).export({ format: 'pem', type: 'pkcs8' }) as string)
  const client = new SvidCtor(target, grpc.credentials.createSsl(bundlePem, keyPem, certPem, verifyOptions), channelOptions)
  closers.push(() => client.close())
  const ids = await spire.createEntries(Array.from({ length: batchSize }, (_, i) => ({ spiffeId: `spiffe://${spire.config.trustDomain}/bench/sign/${i}`, selectors: [uidSelector(), `unix:gid:${i}`] })))
  const request = { params: ids.map((entry_id, i) => ({ entry_id, csr: csrs[i]! })) }
  const call = (): Promise<void> =>
    new Promise((resolve, reject) => {
      ;(client as unknown as Record<string, (r: unknown, o: grpc.CallOptions, cb: (err: Error | null, res: { results: { status: { code: number; message: string } }[] }) => void) => void>)['BatchNewX509SVID']!.call(
        client,
        request,
        { deadline: Date.now() + 30_000 },
        (err, res) => {
          if (err !== null) return reject(err)
          const refused = res.results.filter((r) => r.status.code !== 0)
          if (res.results.length !== ids.length || refused.length > 0) return reject(new Error(`spire: BatchNewX509SVID refused ${refused.length} entries: ${refused[0]?.status.message}`))
          resolve()
        },
      )
    })
  await untilAuthorized(call, 'spire')
  return call
}

/** SPIRE AttestAgent with join_token: one request, one result. Returns the agent SVID chain (DER). */
function spireAttest(client: grpc.Client, token: string, csr: Buffer): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const call = (client as unknown as Record<string, (o: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, { result?: { svid: { cert_chain: Buffer[] } } }>>)['AttestAgent']!.call(client, {
      deadline: Date.now() + 30_000,
    })
    call.on('data', (message) => {
      if (message.result?.svid !== undefined) {
        resolve(message.result.svid.cert_chain)
        call.end()
      }
    })
    call.on('error', reject)
    call.write({ params: { data: { type: 'join_token', payload: Buffer.from(token) }, params: { csr } } })
  })
}

/** Retries `call` until it succeeds: SPIRE's server learns of new entries on its next cache reload. */
async function untilAuthorized(call: () => Promise<void>, name: string): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      await call()
      return
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${name}: the entries were not signable within 30 s: ${(err as Error).message}`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}

