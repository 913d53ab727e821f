import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../common/errors.js'
import { builtInKeyCases, expectUnknownKey } from '../test/config-keys.js'
import { agentCatalog } from './catalog.js'
import { loadAgentConfig } from './config.js'

const dir = mkdtempSync(join(tmpdir(), 'steeple-agent-config-'))
let n = 0
function configFile(text: string): string {
  const path = join(dir, `c${n++}.yaml`)
  writeFileSync(path, text)
  return path
}

describe('agent config', () => {
  it('runs on the documented defaults', () => {
    const c = loadAgentConfig({}, '/work')
    expect(c.trustDomain.name).toBe('example.org')
    expect(c.serverAddress).toBe('127.0.0.1')
    expect(c.serverPort).toBe(8081)
    expect(c.dataDir).toBe('/work/.steeple/agent')
    expect(c.socketPath).toBe('/work/.steeple/agent/api.sock')
    expect(c.insecureBootstrap).toBe(false)
    expect(c.trustBundlePath).toBeUndefined()
    expect(c.plugins['WorkloadAttestor']).toEqual({ unix: {} })
  })

  it('the commented sample in examples/ states the defaults', () => {
    const sample = loadAgentConfig({ config: 'examples/agent.yaml' }, '/work')
    const defaults = loadAgentConfig({}, '/work')
    expect({ ...sample, plugins: undefined }).toEqual({ ...defaults, plugins: undefined })
  })

  it('--join-token selects the join_token attestor with that token', () => {
    const path = configFile('plugins:\n  NodeAttestor:\n    x509pop:\n      certificate_path: /a\n')
    const c = loadAgentConfig({ config: path, joinToken: 'abc' })
    expect(c.plugins['NodeAttestor']).toEqual({ join_token: { token: 'abc' } })
  })

  it('agent.join_token_path selects the join_token attestor with that file, relative to the working directory', () => {
    const path = configFile('agent:\n  join_token_path: secrets/join-token\n')
    const c = loadAgentConfig({ config: path }, '/cwd')
    expect(c.plugins['NodeAttestor']).toEqual({ join_token: { token_path: '/cwd/secrets/join-token' } })
    expect(c.joinTokenOrigin).toBe('agent.join_token_path')
    const flagged = loadAgentConfig({ config: path, joinTokenFile: '/run/t' }, '/cwd')
    expect(flagged.plugins['NodeAttestor']).toEqual({ join_token: { token_path: '/run/t' } })
    expect(flagged.joinTokenOrigin).toBe('--join-token-file')
  })

  it('STEEPLE_JOIN_TOKEN selects the join_token attestor with that token; --join-token is marked for the warning', () => {
    expect(loadAgentConfig({}, '/cwd', { STEEPLE_JOIN_TOKEN: 'abc' })).toMatchObject({ joinTokenOrigin: 'STEEPLE_JOIN_TOKEN', plugins: { NodeAttestor: { join_token: { token: 'abc' } } } })
    expect(loadAgentConfig({ joinToken: 'abc' }, '/cwd').joinTokenOrigin).toBe('--join-token')
    expect(loadAgentConfig({}, '/cwd').joinTokenOrigin).toBeUndefined()
  })

  it.each([
    ['agent:\n  join_token_path: /t\nplugins:\n  NodeAttestor:\n    x509pop:\n      certificate_path: /a\n', {}, 'agent.join_token_path selects the join_token node attestor, but plugins.NodeAttestor configures x509pop: configure one'],
    ['plugins:\n  NodeAttestor:\n    join_token:\n      token_path: /t\n', { joinTokenFile: '/u' }, '--join-token-file and plugins.NodeAttestor.join_token.token_path both give the join token: give it one way only'],
    ['plugins:\n  NodeAttestor:\n    join_token:\n      token: abc\n', { joinToken: 'abc' }, '--join-token and plugins.NodeAttestor.join_token.token both give the join token: give it one way only'],
    ['agent:\n  join_token_path: /t\n', { joinToken: 'abc' }, '--join-token and agent.join_token_path both give the join token: give it one way only'],
    ['agent:\n  join_token_path: ""\n', {}, 'agent.join_token_path must not be empty'],
  ])('refuses a join token given twice or against the file %#, naming both', (text, flags, message) => {
    expect(() => loadAgentConfig({ config: configFile(text), ...flags })).toThrow(ConfigError)
    expect(() => loadAgentConfig({ config: configFile(text), ...flags })).toThrow(message)
  })

  it('flags override the file and resolve paths', () => {
    const path = configFile('agent:\n  server_port: 9000\n')
    const c = loadAgentConfig({ config: path, serverPort: '9001', dataDir: '/d', socketPath: '/run/w.sock', trustBundle: 'b.pem' }, '/cwd')
    expect(c.serverPort).toBe(9001)
    expect(c.socketPath).toBe('/run/w.sock')
    expect(c.trustBundlePath).toBe('/cwd/b.pem')
  })

  it.each([
    ['agent:\n  server_prot: 1\n', /agent\.server_prot is not a known key/],
    ['agent:\n  trust_domain: EXAMPLE\n', /agent\.trust_domain must be a valid trust domain name/],
    ['agent:\n  server_port: 0\n', /agent\.server_port must be at least 1/],
    ['agent:\n  insecure_bootstrap: "yes"\n', /agent\.insecure_bootstrap must be true or false/],
    ['agent:\n  insecure_bootstrap: true\n  trust_bundle_path: /b.pem\n', /exclude each other/],
    ['plugins:\n  WorkloadAttestors:\n    unix: {}\n', /plugins\.WorkloadAttestors is not a known key/],
  ])('refuses bad config %#, naming the key and the rule', (text, message) => {
    expect(() => loadAgentConfig({ config: configFile(text) })).toThrow(ConfigError)
    expect(() => loadAgentConfig({ config: configFile(text) })).toThrow(message)
  })

  // Each plugin section is checked by the plugin's schema when the catalog loads it; the host
  // callback comes after that check, so no plugin is created here.
  it.each(builtInKeyCases('agent', 'WorkloadAttestor', 'unix'))('refuses the key %s at %j, naming the key path', async (_key, text, path) => {
    await expectUnknownKey(async () => {
      const config = loadAgentConfig({ config: configFile(text) })
      await agentCatalog().load('WorkloadAttestor', config.plugins['WorkloadAttestor']!, () => {
        throw new Error('the plugin section was accepted')
      })
    }, path)
  })

  it('refuses an empty --join-token', () => {
    expect(() => loadAgentConfig({ joinToken: '' })).toThrow(/--join-token must not be empty/)
  })
})
