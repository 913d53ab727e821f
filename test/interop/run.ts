// `npm run test:interop`: the standard SPIFFE clients, unchanged, against a real steeple-server and
// steeple-agent. Builds the small client programs in test/interop/<lang>/ (toolchain downloads
// cached under .cache/tools), starts server + agent, runs every scenario for every client, prints a
// line per client and scenario, and ends with `N passed, N failed` (exit 1 on any failure).
// `--results FILE` also writes the outcomes as JSON.
import { spawn, spawnSync } from 'node:child_process'
import { access, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { deploy, waitFor, type Deployment } from '../integration/agent-helpers.js'
import { ROOT, jsonOf, runCommand, type CommandResult } from '../integration/server-cli-helpers.js'
import { TOOLS_CACHE_DIR, ensureSpire, goEnv } from '../tools/spire.js'

const HERE = resolve(ROOT, 'test', 'interop')
const BUILD = join(TOOLS_CACHE_DIR, 'interop')
const VENV = join(TOOLS_CACHE_DIR, 'py-interop')
const M2 = join(TOOLS_CACHE_DIR, 'm2')
const MY_UID = process.getuid!()
const NOBODY = 65534
const AUDIENCE = 'interop'
const WORKLOAD_ID = `spiffe://example.org/interop/workload`
const NOBODY_ID = `spiffe://example.org/interop/nobody`

type Outcome = { client: string; scenario: string; ok: boolean; detail: string }
const outcomes: Outcome[] = []
/** Scenarios this machine cannot run at all (said plainly, counted neither way). */
const skipped: string[] = []

class SkipError extends Error {}

function record(client: string, scenario: string, ok: boolean, detail: string): void {
  outcomes.push({ client, scenario, ok, detail })
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${client.padEnd(11)} ${scenario.padEnd(8)} ${detail}`)
}

/** A client program: how to run one scenario as a command line. */
interface Client {
  readonly name: string
  /** Why it cannot run (toolchain missing or build failed); undefined when ready. */
  readonly unavailable?: string
  command(scenario: string, args?: readonly string[]): [string, string[]]
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

function must(result: CommandResult, what: string): CommandResult {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim().split('\n').slice(-5).join(' | ')}`)
  return result
}

async function prepareGo(): Promise<Client> {
  const bin = join(BUILD, 'go-client')
  try {
    must(
      await runCommand('go', ['build', '-o', bin, '.'], { cwd: join(HERE, 'go'), env: { ...goEnv(), GOFLAGS: '-mod=readonly' }, timeoutMs: 600_000 }),
      'go build of test/interop/go',
    )
  } catch (err) {
    return { name: 'go-spiffe', unavailable: toolchainProblem(err, 'Go'), command: () => ['', []] }
  }
  return { name: 'go-spiffe', command: (scenario, args = []) => [bin, [scenario, ...args]] }
}

async function preparePython(): Promise<Client> {
  const python = join(VENV, 'bin', 'python')
  try {
    // The system interpreter when there is one: a venv of a per-user install (pyenv under /root)
    // cannot be run by the second uid the denied scenario uses.
    const base = (await exists('/usr/bin/python3')) ? '/usr/bin/python3' : 'python3'
    if (!(await exists(python))) must(await runCommand(base, ['-m', 'venv', VENV], { timeoutMs: 120_000 }), `${base} -m venv`)
    const frozen = await runCommand(python, ['-m', 'pip', 'freeze'])
    const wanted = (await readFile(join(HERE, 'python', 'requirements.txt'), 'utf8')).split('\n').filter((l) => l !== '' && !l.startsWith('#'))
    if (!wanted.every((line) => frozen.stdout.split('\n').includes(line))) {
      must(
        await runCommand(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', join(HERE, 'python', 'requirements.txt')], { timeoutMs: 600_000 }),
        'pip install of py-spiffe',
      )
    }
  } catch (err) {
    return { name: 'py-spiffe', unavailable: toolchainProblem(err, 'Python 3'), command: () => ['', []] }
  }
  return { name: 'py-spiffe', command: (scenario, args = []) => [python, [join(HERE, 'python', 'interop.py'), scenario, ...args]] }
}

async function prepareJava(): Promise<Client> {
  const classes = join(BUILD, 'java-classes')
  const cpFile = join(BUILD, 'java.classpath')
  let classpath: string
  try {
    must(
      await runCommand('mvn', ['-q', '-B', `-Dmaven.repo.local=${M2}`, 'dependency:build-classpath', `-Dmdep.outputFile=${cpFile}`], { cwd: join(HERE, 'java'), timeoutMs: 600_000 }),
      'mvn dependency:build-classpath',
    )
    classpath = (await readFile(cpFile, 'utf8')).trim()
    await rm(classes, { recursive: true, force: true })
    const sources = (await readdir(join(HERE, 'java', 'src', 'main', 'java'))).filter((f) => f.endsWith('.java')).map((f) => join(HERE, 'java', 'src', 'main', 'java', f))
    must(await runCommand('javac', ['-d', classes, '-cp', classpath, ...sources], { timeoutMs: 300_000 }), 'javac')
  } catch (err) {
    return { name: 'java-spiffe', unavailable: toolchainProblem(err, 'Java 17 and Maven'), command: () => ['', []] }
  }
  return { name: 'java-spiffe', command: (scenario, args = []) => ['java', ['-cp', `${classes}:${classpath}`, 'Interop', scenario, ...args]] }
}

function toolchainProblem(err: unknown, toolchain: string): string {
  const message = err instanceof Error ? err.message : String(err)
  return /ENOENT|not found|spawn/.test(message) ? `${toolchain} toolchain is missing on this machine (${message})` : message
}

/** Runs a client scenario to completion and parses its last JSON line. */
async function runScenario(client: Client, d: Deployment, scenario: string, args: readonly string[] = [], uid?: number): Promise<Record<string, unknown>> {
  const [command, argv] = client.command(scenario, args)
  const result = await runCommand(command, argv, {
    env: { SPIFFE_ENDPOINT_SOCKET: d.agent.address, ...(uid !== undefined && { HOME: '/tmp' }) },
    timeoutMs: 120_000,
    ...(uid !== undefined && { uid, gid: uid }),
  })
  const lines = result.stdout.trim().split('\n').filter((l) => l.startsWith('{'))
  const last = lines.at(-1)
  if (last === undefined) throw new Error(`no output (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`)
  const parsed = JSON.parse(last) as Record<string, unknown>
  if (parsed['ok'] !== true || result.code !== 0) throw new Error(String(parsed['error'] ?? `exit ${result.code}`))
  return parsed
}

/** Starts a long-running client scenario and hands its JSON lines to `onLine` as they come. */
function startScenario(client: Client, d: Deployment, scenario: string, args: readonly string[], onLine: (line: Record<string, unknown>) => void, uid?: number) {
  const [command, argv] = client.command(scenario, args)
  const child = spawn(command, argv, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: d.agent.address, ...(uid !== undefined && { HOME: '/tmp' }) },
    ...(uid !== undefined && { uid, gid: uid }),
  })
  let pending = ''
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2000)))
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop()!
    for (const line of lines) if (line.startsWith('{')) onLine(JSON.parse(line) as Record<string, unknown>)
  })
  let spawnError = ''
  child.on('error', (err) => (spawnError = err.message))
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)))
  return { child, exited, stderr: () => `${spawnError} ${stderr}`.trim() }
}

async function scenario(client: Client, name: string, run: () => Promise<string>): Promise<void> {
  if (client.unavailable !== undefined) {
    record(client.name, name, false, client.unavailable)
    return
  }
  try {
    record(client.name, name, true, await run())
  } catch (err) {
    if (err instanceof SkipError) {
      skipped.push(`${client.name} ${name}`)
      console.log(`SKIP  ${client.name.padEnd(11)} ${name.padEnd(8)} ${err.message}`)
      return
    }
    record(client.name, name, false, err instanceof Error ? err.message : String(err))
  }
}

/** Scenario 1: X.509-SVIDs and bundles, checked by the client's own validation. */
async function x509(client: Client, d: Deployment): Promise<void> {
  await scenario(client, 'x509', async () => {
    const out = await runScenario(client, d, 'x509')
    if (out['id'] !== WORKLOAD_ID) throw new Error(`default SVID is ${String(out['id'])}, expected ${WORKLOAD_ID}`)
    if (client.name !== 'py-spiffe' && out['hint'] !== 'workload') throw new Error(`hint is ${JSON.stringify(out['hint'])}, expected "workload"`)
    if (out['chain'] !== 1) throw new Error(`chain has ${String(out['chain'])} certificates, expected 1 (no intermediates configured)`)
    return `default ${String(out['id'])}, ${(out['ids'] as unknown[]).length} SVIDs, chain verified by the client`
  })
}

/** Scenario 2: a JWT-SVID validated with the client's JWT bundles and by ValidateJWTSVID. */
async function jwt(client: Client, d: Deployment): Promise<void> {
  await scenario(client, 'jwt', async () => {
    const out = await runScenario(client, d, 'jwt', client.name === 'go-spiffe' ? ['-audience', AUDIENCE] : [AUDIENCE])
    if (out['local'] !== WORKLOAD_ID || out['agent'] !== WORKLOAD_ID) throw new Error(`validated as ${String(out['local'])} / ${String(out['agent'])}`)
    if (typeof out['token'] === 'string') await verifyWithJose(out['token'], d)
    return `validated by the client's JWT bundle and by the agent${typeof out['token'] === 'string' ? '; jose accepts it against the JWKS' : ''}`
  })
}

/** Scenario 3: the client's watcher or source sees a rotation of a 10 s SVID. */
async function watch(client: Client, d: Deployment): Promise<void> {
  await scenario(client, 'watch', async () => {
    const out = await runScenario(client, d, 'watch', client.name === 'go-spiffe' ? ['-rotations', '2', '-timeout', '60s'] : ['2'])
    return `${String(out['distinct_svids'])} distinct SVIDs seen, each verified`
  })
}

/** Scenario 5a: an unregistered uid is refused, keeps retrying, and gets its SVID once registered. */
async function denied(client: Client, d: Deployment): Promise<void> {
  await scenario(client, 'denied', async () => {
    if (MY_UID !== 0) throw new Error('needs root, to call the agent as a second uid (65534)')
    if (spawnSync('/usr/bin/test', ['-r', join(HERE, 'run.ts')], { uid: NOBODY, gid: NOBODY }).status !== 0) {
      throw new SkipError(`uid ${NOBODY} cannot read this checkout (a clone inside a 0700 directory), so it cannot run the client`)
    }
    let final: Record<string, unknown> | undefined
    const run = startScenario(client, d, 'denied', client.name === 'go-spiffe' ? ['-timeout', '60s'] : [], (line) => {
      if ('ok' in line) final = line
    }, NOBODY)
    // py-spiffe and java-spiffe retry PERMISSION_DENIED inside the library without telling the
    // caller, so the agent's log is where the refusals and the retries show.
    const refusals = () =>
      d.agent.records.filter((r) => r['msg'] === 'Request refused' && r['callerPid'] === run.child.pid && r['code'] === 'PERMISSION_DENIED').length
    let entryId: string | undefined
    try {
      await waitFor('the agent refusing the unregistered client twice (a retry)', () => (refusals() >= 2 ? true : undefined), 30_000)
      entryId = await d.createEntry(NOBODY_ID, [`unix:uid:${NOBODY}`])
      const code = await run.exited
      if (final?.['ok'] !== true || code !== 0) throw new Error(String(final?.['error'] ?? `exit ${code}: ${run.stderr()}`))
      if (final['id'] !== NOBODY_ID) throw new Error(`got ${String(final['id'])}`)
      return `refused ${refusals()} time(s) while unregistered, kept retrying, got ${NOBODY_ID} once registered`
    } finally {
      run.child.kill('SIGKILL')
      if (entryId !== undefined) await d.deleteEntry(entryId)
    }
  })
}

/** Scenario 5b: the agent restarts while the client watches; updates come again from the new agent. */
async function restart(client: Client, d: Deployment): Promise<void> {
  await scenario(client, 'restart', async () => {
    const updates: number[] = []
    const errors: string[] = []
    const run = startScenario(client, d, 'restart', client.name === 'go-spiffe' ? ['-timeout', '90s'] : ['90'], (line) => {
      if (line['event'] === 'update') updates.push(Date.now())
      if (line['event'] === 'error') errors.push(String(line['error']))
    })
    try {
      await waitFor('a first update', () => (updates.length > 0 ? true : undefined), 30_000)
      await d.restartAgent()
      const restartedAt = Date.now()
      await waitFor('an update from the restarted agent', () => (updates.some((t) => t > restartedAt) ? true : undefined), 45_000)
      return `recovered after the agent restart (${errors.length} error(s) reported on the way)`
    } finally {
      run.child.kill('SIGKILL')
    }
  })
}

/** Scenario 4 (go-spiffe): mTLS between two X509Sources across rotations. */
async function mtls(client: Client, d: Deployment): Promise<void> {
  await scenario(client, 'mtls', async () => {
    const out = await runScenario(client, d, 'mtls', ['-duration', '15s', '-timeout', '60s'])
    return `${String(out['exchanges'])} exchanges, ${String(out['server_svids'])} server and ${String(out['client_svids'])} client SVIDs (rotated while talking)`
  })
}

/** jose validates a JWT-SVID against the agent's JWKS (as served by FetchJWTBundles). */
async function verifyWithJose(token: string, d: Deployment): Promise<void> {
  const shown = jsonOf<{ bundles: { trust_domain: string; jwt_authorities: { keys: object[] } }[] }>(
    await runCommand(process.execPath, [join(ROOT, 'bin', 'steeple-agent.js'), 'api', 'fetch', 'bundles', '--socket-path', d.agent.socketPath, '--output', 'json']),
  )
  const jwks = shown.bundles.find((b) => b.trust_domain === 'example.org')!.jwt_authorities
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]), { audience: AUDIENCE })
  if (payload.sub !== WORKLOAD_ID) throw new Error(`jose: sub is ${String(payload.sub)}`)
}

/** SPIRE's agent CLI as a client; openssl verifies every SVID and bundle it writes. */
async function spireCli(d: Deployment): Promise<void> {
  let bin: string
  try {
    bin = (await ensureSpire(['spire-agent']))['spire-agent']!
  } catch (err) {
    for (const s of ['x509', 'jwt', 'validate', 'watch']) record('spire-agent', s, false, toolchainProblem(err, 'Go'))
    return
  }
  const cli: Client = { name: 'spire-agent', command: () => [bin, []] }
  const socket = ['-socketPath', d.agent.socketPath]
  await scenario(cli, 'x509', async () => {
    const dir = join(d.root, 'spire-x509')
    await mkdir(dir, { recursive: true })
    const out = must(await runCommand(bin, ['api', 'fetch', 'x509', ...socket, '-write', dir, '-timeout', '10s']), 'spire-agent api fetch x509')
    if (!out.stdout.includes(`SPIFFE ID:\t\t${WORKLOAD_ID}`)) throw new Error(`output does not name ${WORKLOAD_ID}: ${out.stdout.slice(0, 300)}`)
    const svids = (await readdir(dir)).filter((f) => /^svid\.\d+\.pem$/.test(f))
    for (const svid of svids) {
      const n = svid.split('.')[1]
      const verified = await runCommand('openssl', ['verify', '-CAfile', join(dir, `bundle.${n}.pem`), join(dir, svid)])
      if (verified.code !== 0) throw new Error(`openssl verify ${svid}: ${verified.stdout}${verified.stderr}`)
    }
    return `${svids.length} SVIDs written; openssl verify accepts each against its bundle`
  })
  let token = ''
  await scenario(cli, 'jwt', async () => {
    const out = must(await runCommand(bin, ['api', 'fetch', 'jwt', ...socket, '-audience', AUDIENCE, '-timeout', '10s']), 'spire-agent api fetch jwt')
    token = out.stdout.match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/)?.[0] ?? ''
    if (token === '') throw new Error(`no token in output: ${out.stdout.slice(0, 200)}`)
    await verifyWithJose(token, d)
    return 'token fetched; jose accepts it against the JWKS'
  })
  await scenario(cli, 'validate', async () => {
    if (token === '') throw new Error('no token from the jwt scenario')
    const ok = must(await runCommand(bin, ['api', 'validate', 'jwt', ...socket, '-audience', AUDIENCE, '-svid', token]), 'spire-agent api validate jwt')
    if (!ok.stdout.includes('SVID is valid')) throw new Error(ok.stdout)
    const wrong = await runCommand(bin, ['api', 'validate', 'jwt', ...socket, '-audience', 'someone-else', '-svid', token])
    if (wrong.code === 0) throw new Error('a wrong audience was accepted')
    return 'valid for its audience, refused for another'
  })
  await scenario(cli, 'watch', async () => {
    let received = 0
    const run = spawn(bin, ['api', 'watch', ...socket], { stdio: ['ignore', 'pipe', 'pipe'] })
    run.stdout.setEncoding('utf8').on('data', (c: string) => (received += (c.match(/Received \d+ svids? after/g) ?? []).length))
    try {
      await waitFor('two updates in spire-agent api watch', () => (received >= 2 ? true : undefined), 40_000)
      return `${received} updates printed (rotation of the 10 s SVID)`
    } finally {
      run.kill('SIGKILL')
    }
  })
}

async function main(): Promise<number> {
  const resultsIndex = process.argv.indexOf('--results')
  const resultsFile = resultsIndex > 0 ? process.argv[resultsIndex + 1] : undefined
  await mkdir(BUILD, { recursive: true })
  console.log('== building the interop clients (cached under .cache/tools)')
  const clients = [await prepareGo(), await preparePython(), await prepareJava()]
  for (const c of clients) console.log(`   ${c.name}: ${c.unavailable ?? 'ready'}`)

  console.log('== starting steeple-server and steeple-agent')
  const d = await deploy({ prefix: 'steeple-interop-' })
  try {
    // Oldest first: the workload entry is every client's default identity.
    await d.createEntry(WORKLOAD_ID, [`unix:uid:${MY_UID}`], ['--hint', 'workload', '--x509-svid-ttl', '10'])
    // Entry creation times reach the agent in whole seconds, and ties are ordered by entry ID: the
    // next entries must be created in a later second for the workload entry to stay the default.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await d.createEntry('spiffe://example.org/interop/mtls-server', [`unix:uid:${MY_UID}`], ['--hint', 'mtls-server', '--x509-svid-ttl', '10'])
    await d.createEntry('spiffe://example.org/interop/mtls-client', [`unix:uid:${MY_UID}`], ['--hint', 'mtls-client', '--x509-svid-ttl', '10'])
    await waitFor('the entries on the agent', async () => {
      const r = await runCommand(process.execPath, [join(ROOT, 'bin', 'steeple-agent.js'), 'api', 'fetch', 'x509', '--socket-path', d.agent.socketPath, '--output', 'json'])
      return r.code === 0 && (JSON.parse(r.stdout) as { svids: unknown[] }).svids.length === 3 ? true : undefined
    }, 30_000)

    console.log('== scenarios')
    for (const client of clients) {
      await x509(client, d)
      await jwt(client, d)
      await watch(client, d)
      if (client.name === 'go-spiffe') await mtls(client, d)
      await denied(client, d)
      await restart(client, d)
    }
    await spireCli(d)
  } finally {
    await d.stop()
    await rm(d.root, { recursive: true, force: true })
  }

  const passed = outcomes.filter((o) => o.ok).length
  const failed = outcomes.length - passed
  if (resultsFile !== undefined) await writeFile(resultsFile, JSON.stringify({ passed, failed, outcomes }, null, 2))
  if (skipped.length > 0) console.log(`skipped (cannot run here): ${skipped.join(', ')}`)
  console.log(`${passed} passed, ${failed} failed`)
  return failed === 0 ? 0 : 1
}

// Exit explicitly: runCommand leaves its kill timer (up to 10 min) armed when a toolchain binary
// cannot be spawned, which would hold the process open after the summary.
try {
  process.exit(await main())
} catch (err) {
  console.error(`interop harness failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  process.exit(1)
}
