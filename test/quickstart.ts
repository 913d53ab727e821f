// `npm run quickstart` [-- --once]: brings up steeple-server and steeple-agent on SQLite under
// ./.steeple, registers an entry for the invoking user's uid, fetches an X509-SVID and a JWT-SVID
// through the Workload API with the project's client, verifies both, and keeps the two processes
// running until Ctrl-C (with --once it stops them and exits 0 after the checks). Re-running on the
// same ./.steeple reuses the agent's stored identity and the existing entry.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, existsSync, type WriteStream } from 'node:fs'
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { status } from '@grpc/grpc-js'
import {
  certificatesToPem,
  decodeCertificate,
  parseAndValidateJwtSvid,
  pemEncode,
  verifyX509Svid,
} from '../spiffe/index.js'
import { WorkloadApiClient, WorkloadApiError, type X509Context } from '../workloadapi/index.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SERVER_BIN = join(ROOT, 'bin', 'steeple-server.js')
const AGENT_BIN = join(ROOT, 'bin', 'steeple-agent.js')
const CWD = process.cwd()
/** The defaults of both processes, relative to the working directory. */
const STEEPLE_DIR = resolve(CWD, '.steeple')
const AGENT_DATA_DIR = join(STEEPLE_DIR, 'agent')
const SOCKET_PATH = join(AGENT_DATA_DIR, 'api.sock')
const ADMIN_SOCKET = join(STEEPLE_DIR, 'server', 'admin.sock')
const WORK_DIR = join(STEEPLE_DIR, 'quickstart')
const STATE_FILE = join(WORK_DIR, 'state.json')
const TRUST_BUNDLE = join(WORK_DIR, 'trust-bundle.pem')
const JOIN_TOKEN_FILE = join(WORK_DIR, 'join-token')
const AUDIENCE = 'quickstart'
const START_TIMEOUT_MS = 30_000
const FETCH_TIMEOUT_MS = 30_000

const runOnce = process.argv.includes('--once')
const uid = process.getuid!()
const workloadId = `spiffe://example.org/quickstart/uid-${uid}`

const show = (path: string): string => {
  const rel = relative(CWD, path)
  return rel.startsWith('..') ? path : `./${rel}`
}
const say = (line = ''): void => void process.stdout.write(line + '\n')
const step = (line: string): void => say(`• ${line}`)

class QuickstartError extends Error {}

/** A child process whose stderr (JSON log lines) goes to a file and is watched for a message. */
class Service {
  readonly child: ChildProcess
  readonly logPath: string
  readonly #log: WriteStream
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #tail: string[] = []
  #listeners: ((record: Record<string, unknown>) => void)[] = []

  constructor(
    readonly name: string,
    bin: string,
    args: readonly string[],
  ) {
    this.logPath = join(WORK_DIR, `${name}.log`)
    this.#log = createWriteStream(this.logPath, { flags: 'a' })
    this.child = spawn(process.execPath, [bin, ...args], { cwd: CWD, stdio: ['ignore', 'ignore', 'pipe'] })
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }))
    let pending = ''
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.#log.write(chunk)
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) {
        this.#tail = [...this.#tail.slice(-19), line]
        let record: unknown
        try {
          record = JSON.parse(line)
        } catch {
          continue
        }
        if (record !== null && typeof record === 'object') for (const listener of this.#listeners) listener(record as Record<string, unknown>)
      }
    })
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** The last lines it logged, for error reports. */
  tail(): string {
    return this.#tail.map((line) => `    ${line}`).join('\n')
  }

  /** Resolves with the first log record with this message; rejects if the process exits first. */
  waitForLog(msg: string, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new QuickstartError(`${this.name} did not log "${msg}" within ${timeoutMs / 1000} s`)), timeoutMs)
      this.#listeners.push((record) => {
        if (record['msg'] !== msg) return
        clearTimeout(timer)
        resolvePromise(record)
      })
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer)
        reject(new QuickstartError(`${this.name} exited during start-up (code ${code}, signal ${signal})`))
      })
    })
  }

  async stop(): Promise<void> {
    if (this.running) this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000)
    await this.exited
    clearTimeout(timer)
    this.#log.end()
  }
}

/** Runs a CLI command to completion; throws with its stderr unless it exits 0. */
async function cli(bin: string, args: readonly string[]): Promise<string> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: CWD, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const [code] = (await once(child, 'close')) as [number | null]
  if (code !== 0) throw new QuickstartError(`${bin === SERVER_BIN ? 'steeple-server' : 'steeple-agent'} ${args.slice(0, 2).join(' ')} failed: ${stderr.trim()}`)
  return stdout
}

const serverCli = async <T>(...args: string[]): Promise<T> => JSON.parse(await cli(SERVER_BIN, [...args, '--socket-path', ADMIN_SOCKET, '--output', 'json'])) as T

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms))
}

/**
 * Calls `attempt` until it succeeds, while it fails with one of `retryOn` (or cannot connect yet),
 * for up to `timeoutMs`.
 */
async function retrying<T>(what: string, attempt: () => Promise<T>, retryOn: readonly status[], timeoutMs: number, alive?: () => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await attempt()
    } catch (err) {
      const retryable = err instanceof WorkloadApiError && (retryOn.includes(err.grpcStatus) || err.grpcStatus === status.UNAVAILABLE)
      if (!retryable || Date.now() > deadline || (alive !== undefined && !alive())) {
        throw new QuickstartError(`${what}: ${(err as Error).message}`)
      }
      await sleep(250)
    }
  }
}

interface State {
  agentId?: string
}

async function readState(): Promise<State> {
  try {
    return JSON.parse(await readFile(STATE_FILE, 'utf8')) as State
  } catch {
    return {}
  }
}

/** Whether the agent has something stored besides its socket (a restart needs no join token then). */
async function agentHasState(): Promise<boolean> {
  if (!existsSync(AGENT_DATA_DIR)) return false
  return (await readdir(AGENT_DATA_DIR)).some((name) => name !== 'api.sock')
}

/** Starts the agent and waits until it serves the Workload API as a ready agent. */
async function startAgent(args: readonly string[], client: WorkloadApiClient): Promise<Service> {
  const agent = new Service('agent', AGENT_BIN, ['run', '--trust-bundle', TRUST_BUNDLE, ...args])
  try {
    // A ready agent answers FetchX509Bundles, with PERMISSION_DENIED while this uid has no entry yet.
    await retrying(
      'the agent did not become ready',
      () => client.fetchX509Bundles({ signal: AbortSignal.timeout(5000) }).catch((err: unknown) => {
        if (err instanceof WorkloadApiError && err.grpcStatus === status.PERMISSION_DENIED) return undefined
        throw err
      }),
      [],
      START_TIMEOUT_MS,
      () => agent.running,
    )
  } catch (err) {
    const exited = !agent.running
    await agent.stop()
    if (!exited) throw err
    const { code, signal } = await agent.exited
    throw new QuickstartError(`steeple-agent exited during start-up (code ${code}, signal ${signal}); last lines of ${show(agent.logPath)}:\n${agent.tail()}`)
  }
  return agent
}

async function bootstrapAgent(client: WorkloadApiClient, state: State): Promise<{ agent: Service; agentId: string }> {
  if (state.agentId !== undefined && (await agentHasState())) {
    step(`Starting steeple-agent with its stored identity (${state.agentId})`)
    try {
      return { agent: await startAgent([], client), agentId: state.agentId }
    } catch (err) {
      say(`  The stored identity did not work (${(err as Error).message}); attesting again with a new join token.`)
    }
  }
  const token = await serverCli<{ token: string; agent_id: string }>('token', 'generate')
  // In a file only this user can read, not on the command line, where every local user sees it.
  await rm(JOIN_TOKEN_FILE, { force: true })
  await writeFile(JOIN_TOKEN_FILE, `${token.token}\n`, { mode: 0o600, flag: 'wx' })
  step(`Starting steeple-agent with the join token in ${show(JOIN_TOKEN_FILE)} (0600), trusting the server through ${show(TRUST_BUNDLE)}`)
  let agent: Service
  try {
    agent = await startAgent(['--join-token-file', JOIN_TOKEN_FILE], client)
  } finally {
    // Used up by the attestation (or of no use after a failed one); the agent keeps its SVID instead.
    await rm(JOIN_TOKEN_FILE, { force: true })
  }
  await writeFile(STATE_FILE, JSON.stringify({ agentId: token.agent_id }, null, 2) + '\n')
  return { agent, agentId: token.agent_id }
}

async function ensureEntry(agentId: string): Promise<void> {
  const selector = `unix:uid:${uid}`
  const existing = await serverCli<{ entries: { id: string }[] }>('entry', 'show', '--spiffe-id', workloadId, '--parent-id', agentId, '--selector', selector, '--match', 'exact')
  if (existing.entries.length > 0) {
    step(`Entry for ${selector} already registered (${existing.entries[0]!.id})`)
    return
  }
  await cli(SERVER_BIN, ['entry', 'create', '--spiffe-id', workloadId, '--parent-id', agentId, '--selector', selector, '--socket-path', ADMIN_SOCKET])
  step(`Registered ${workloadId} for ${selector} under the agent`)
}

async function run(cmd: string, args: readonly string[]): Promise<{ code: number | null; output: string } | undefined> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c))
  try {
    const [code] = (await once(child, 'close')) as [number | null]
    return { code, output }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Writes the first SVID and its bundle as PEM and has `openssl verify` check the chain. */
async function opensslVerify(context: X509Context): Promise<string> {
  const svid = context.svids[0]!
  const bundle = context.bundles.get(svid.id.trustDomain)!
  const files = { svid: join(WORK_DIR, 'svid.0.pem'), key: join(WORK_DIR, 'svid.0.key'), bundle: join(WORK_DIR, 'bundle.0.pem'), chain: join(WORK_DIR, 'intermediates.0.pem') }
  await writeFile(files.svid, certificatesToPem(svid.certificatesDer))
  await writeFile(files.key, pemEncode('PRIVATE KEY', svid.privateKeyDer), { mode: 0o600 })
  await writeFile(files.bundle, certificatesToPem(bundle.x509Authorities))
  const intermediates = svid.certificatesDer.slice(1)
  await writeFile(files.chain, certificatesToPem(intermediates))
  const leafOnly = join(WORK_DIR, 'leaf.0.pem')
  await writeFile(leafOnly, certificatesToPem(svid.certificatesDer.slice(0, 1)))
  const args = ['verify', '-CAfile', files.bundle, ...(intermediates.length > 0 ? ['-untrusted', files.chain] : []), leafOnly]
  const result = await run('openssl', args)
  if (result === undefined) return 'openssl is not installed: skipped its check'
  if (result.code !== 0 || !result.output.includes(': OK')) throw new QuickstartError(`openssl verify rejected the X509-SVID:\n${result.output}`)
  return 'openssl verify: OK'
}

async function main(): Promise<number> {
  await mkdir(WORK_DIR, { recursive: true })
  const state = await readState()
  const client = WorkloadApiClient.connect({ address: `unix://${SOCKET_PATH.split('/').map(encodeURIComponent).join('/')}` })
  const services: Service[] = []
  const stopAll = async (): Promise<void> => {
    for (const service of [...services].reverse()) await service.stop()
  }
  try {
    step(`Starting steeple-server (SQLite under ${show(join(STEEPLE_DIR, 'server'))}, log ${show(join(WORK_DIR, 'server.log'))})`)
    const server = new Service('server', SERVER_BIN, ['run'])
    services.push(server)
    const started = await server.waitForLog('Server started', START_TIMEOUT_MS).catch((err: Error) => {
      throw new QuickstartError(`${err.message}\n  last lines of ${show(server.logPath)}:\n${server.tail()}`)
    })

    await writeFile(TRUST_BUNDLE, await cli(SERVER_BIN, ['bundle', 'show', '--socket-path', ADMIN_SOCKET]))
    const { agent, agentId } = await bootstrapAgent(client, state)
    services.push(agent)
    await ensureEntry(agentId)

    // The entry reaches the agent by push and its SVID is minted: until then, no identity.
    const context = await retrying('no X509-SVID for this uid', () => client.fetchX509Context({ signal: AbortSignal.timeout(5000) }), [status.PERMISSION_DENIED], FETCH_TIMEOUT_MS)
    const svid = context.svids.find((s) => s.id.toString() === workloadId) ?? context.svids[0]!
    const verified = verifyX509Svid(svid.certificatesDer, context.bundles)
    const opensslResult = await opensslVerify({ ...context, svids: [svid] })
    const leaf = decodeCertificate(svid.certificatesDer[0]!)

    const jwt = await retrying('no JWT-SVID for this uid', () => client.fetchJwtSvid({ audience: [AUDIENCE], spiffeId: svid.id }), [status.PERMISSION_DENIED], FETCH_TIMEOUT_MS)
    const jwtBundles = await client.fetchJwtBundles()
    const token = parseAndValidateJwtSvid(jwt.token, jwtBundles, AUDIENCE)
    const byAgent = await client.validateJwtSvid({ audience: AUDIENCE, token: jwt.token })
    if (!byAgent.id.equals(token.id)) throw new QuickstartError(`the agent validated the JWT-SVID as ${byAgent.id.toString()}, not ${token.id.toString()}`)

    const address = `unix://${SOCKET_PATH}`
    say()
    say('Steeple is up.')
    say(`  Server    : agent API ${String(started['agentApiAddress'])}, admin socket ${show(ADMIN_SOCKET)}, log ${show(server.logPath)}`)
    say(`  Agent     : ${agentId}, log ${show(agent.logPath)}`)
    say(`  Workload API: ${address}`)
    say()
    say(`Your identity (unix:uid:${uid}):`)
    say(`  SPIFFE ID : ${verified.id.toString()}`)
    say(`  X509-SVID : expires ${leaf.notAfter.toISOString()}; verified against the trust bundle; ${opensslResult}`)
    say(`              ${show(join(WORK_DIR, 'svid.0.pem'))}, ${show(join(WORK_DIR, 'svid.0.key'))}, ${show(join(WORK_DIR, 'bundle.0.pem'))}`)
    say(`  JWT-SVID  : expires ${token.expiresAt.toISOString()}; audience ${AUDIENCE}; verified, and validated by the agent`)
    say()
    say('Watch your SVID as the agent rotates it (in another terminal, in this directory):')
    say(`  export SPIFFE_ENDPOINT_SOCKET=${address}`)
    say(`  node ${show(AGENT_BIN)} api watch`)
    say(`Or fetch it once: node ${show(AGENT_BIN)} api fetch x509 --write ./svids`)

    if (runOnce) {
      client.close()
      await stopAll()
      say()
      say('Stopped the agent and the server (--once).')
      return 0
    }
    say()
    say('Press Ctrl-C to stop the agent and the server.')
    client.close()
    await new Promise<void>((resolveStop) => {
      const onSignal = (): void => resolveStop()
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      for (const service of services) {
        void service.exited.then(({ code, signal }) => {
          if (code !== 0 || signal !== null) say(`\n${service.name} stopped (code ${code}, signal ${signal}); see ${show(service.logPath)}`)
          resolveStop()
        })
      }
    })
    say('\nStopping...')
    await stopAll()
    return 0
  } catch (err) {
    client.close()
    await stopAll()
    const message = err instanceof QuickstartError ? err.message : (err as Error).stack ?? String(err)
    process.stderr.write(`\nQuickstart failed: ${message}\n`)
    return 1
  }
}

process.exitCode = await main()
