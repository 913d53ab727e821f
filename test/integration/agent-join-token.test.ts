import { readFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgentProcess, NOBODY, agentCli, type AgentStartOptions } from './agent-helpers.js'
import { ServerProcess, jsonOf, runCommand } from './server-cli-helpers.js'

/**
 * How the agent gets its join token, on real processes: the token given with `--join-token` is in
 * `/proc/<pid>/cmdline`, which every local user can read; `--join-token-file` and
 * `STEEPLE_JOIN_TOKEN` keep it out of there.
 */

const IS_ROOT = process.getuid?.() === 0

let root: string
let server: ServerProcess
let bundlePath: string
const agents: AgentProcess[] = []

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'steeple-join-token-it-'))
  server = await ServerProcess.start(['--data-dir', join(root, 'server'), '--bind-port', '0'])
  bundlePath = join(root, 'bundle.pem')
  const bundle = await server.cli('bundle', 'show')
  if (bundle.code !== 0) throw new Error(bundle.stderr)
  await writeFile(bundlePath, bundle.stdout)
}, 60_000)

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()))
  await server?.stop()
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

function newToken(): Promise<{ token: string; agent_id: string }> {
  return server.cli('token', 'generate', '--output', 'json').then((r) => jsonOf<{ token: string; agent_id: string }>(r))
}

let n = 0
async function startAgent(token: string, via: AgentStartOptions['joinTokenVia']): Promise<AgentProcess> {
  const name = `agent-${n++}`
  const agent = await AgentProcess.start({
    dataDir: join(root, name),
    serverAddress: server.agentApiAddress,
    joinToken: token,
    joinTokenVia: via,
    trustBundlePath: bundlePath,
    socketPath: join(root, `${name}.sock`),
  })
  agents.push(agent)
  return agent
}

/** What any process (of any uid, unless /proc is mounted with hidepid) reads in the agent's `/proc/<pid>/cmdline`. */
async function cmdlineOf(agent: AgentProcess): Promise<string> {
  return (await readFile(`/proc/${agent.pid}/cmdline`, 'latin1')).replaceAll('\0', ' ')
}

const argvWarning = (r: Record<string, unknown>): boolean => r['level'] === 'warn' && String(r['msg']).startsWith('Join token given with --join-token')

async function expectServes(agent: AgentProcess): Promise<void> {
  const health = await agentCli(['healthcheck', '--socket-path', agent.socketPath, '--output', 'json'])
  expect([health.code, JSON.parse(health.stdout)]).toEqual([0, { healthy: true }])
}

describe('steeple-agent run: where the join token comes from', () => {
  // With STEEPLE_JOIN_TOKEN, the agent removes the variable from its environment for the processes
  // it may start, but /proc/<pid>/environ is the kernel's copy of the initial environment and still
  // holds it: readable by the agent's uid and root only (the root test below reads it as another uid).
  it.each([
    ['--join-token-file', 'file'],
    ['STEEPLE_JOIN_TOKEN', 'env'],
  ] as const)('%s: the agent attests with the token and serves; /proc/<pid>/cmdline does not hold the token', async (way, via) => {
    const { token, agent_id } = await newToken()
    const agent = await startAgent(token, via)
    expect(agent.agentId).toBe(agent_id)
    await expectServes(agent)
    const cmdline = await cmdlineOf(agent)
    expect(cmdline).not.toContain(token)
    expect(cmdline.includes('--join-token-file')).toBe(way === '--join-token-file')
    expect(agent.records.some(argvWarning)).toBe(false)
    expect(agent.stderr).not.toContain(token)
  })

  it('--join-token still works, is in /proc/<pid>/cmdline, and the agent warns so, naming the safer ways, without logging the token', async () => {
    const { token, agent_id } = await newToken()
    const agent = await startAgent(token, 'argv')
    expect(agent.agentId).toBe(agent_id)
    await expectServes(agent)
    expect(await cmdlineOf(agent)).toContain(token)
    const warning = agent.records.find(argvWarning)
    expect(warning?.['msg']).toBe(
      'Join token given with --join-token: every local user can read it in /proc/<pid>/cmdline; give it with --join-token-file, STEEPLE_JOIN_TOKEN or agent.join_token_path',
    )
    expect(warning?.['pid']).toBe(agent.pid)
    expect(agent.stderr).not.toContain(token)
  })

  it.skipIf(!IS_ROOT)('another uid (65534) reads a --join-token token in /proc/<pid>/cmdline, and neither the cmdline nor the environ of an agent given STEEPLE_JOIN_TOKEN (needs root)', async () => {
    const [argv, env] = await Promise.all([newToken(), newToken()])
    const [argvAgent, envAgent] = await Promise.all([startAgent(argv.token, 'argv'), startAgent(env.token, 'env')])
    const asNobody = (agent: AgentProcess, file: string) => runCommand('/bin/cat', [`/proc/${agent.pid}/${file}`], { uid: NOBODY })
    const stolen = await asNobody(argvAgent, 'cmdline')
    expect([stolen.code, stolen.stdout.includes(argv.token)]).toEqual([0, true])
    const cmdline = await asNobody(envAgent, 'cmdline')
    expect([cmdline.code, cmdline.stdout.includes(env.token)]).toEqual([0, false])
    const environ = await asNobody(envAgent, 'environ')
    expect(environ.code).not.toBe(0)
    expect(environ.stderr).toMatch(/Permission denied/)
    expect(environ.stdout).toBe('')
  })
})

describe('steeple-agent run refuses a join token given two ways, or a bad token file, naming them', () => {
  const token = 'not-a-real-token-but-well-formed'
  let files: string
  beforeAll(async () => {
    files = join(root, 'files')
    await mkdir(join(files, 'a-directory'), { recursive: true })
    await writeFile(join(files, 'empty'), '', { mode: 0o600 })
    await writeFile(join(files, 'good'), `${token}\n`, { mode: 0o600 })
  })

  it.each<[string, (files: string) => { args: string[]; env?: Record<string, string> }, (files: string) => string]>([
    ['--join-token with --join-token-file', (f) => ({ args: ['--join-token', token, '--join-token-file', join(f, 'good')] }), () => '--join-token and --join-token-file both give the join token: give it one way only'],
    ['STEEPLE_JOIN_TOKEN with --join-token', () => ({ args: ['--join-token', token], env: { STEEPLE_JOIN_TOKEN: token } }), () => '--join-token and STEEPLE_JOIN_TOKEN both give the join token: give it one way only'],
    ['STEEPLE_JOIN_TOKEN with --join-token-file', (f) => ({ args: ['--join-token-file', join(f, 'good')], env: { STEEPLE_JOIN_TOKEN: token } }), () => 'STEEPLE_JOIN_TOKEN and --join-token-file both give the join token: give it one way only'],
    ['a missing token file', (f) => ({ args: ['--join-token-file', join(f, 'missing')] }), (f) => `cannot read the join token file ${join(f, 'missing')}: ENOENT`],
    ['an empty token file', (f) => ({ args: ['--join-token-file', join(f, 'empty')] }), (f) => `the join token file ${join(f, 'empty')} is empty, it must hold a join token`],
    ['a directory as token file', (f) => ({ args: ['--join-token-file', join(f, 'a-directory')] }), (f) => `the join token file ${join(f, 'a-directory')} must be a regular file`],
  ])('%s: exits non-zero with the reason', async (name, given, message) => {
    const { args, env } = given(files)
    const port = server.agentApiAddress.slice(server.agentApiAddress.lastIndexOf(':') + 1)
    const dataDir = join(root, `refused-${name.replace(/\W+/g, '-')}`)
    const result = await agentCli(['run', ...args, '--trust-bundle', bundlePath, '--server-port', port, '--data-dir', dataDir, '--socket-path', `${dataDir}.sock`], {
      ...(env !== undefined && { env }),
      timeoutMs: 20_000,
    })
    expect(result.code, result.stderr).not.toBe(0)
    expect(result.signal).toBeNull()
    expect(result.stderr).toContain(message(files))
    expect(result.stderr).not.toContain(token)
  })
})
