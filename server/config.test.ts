import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../common/errors.js'
import { builtInKeyCases, expectUnknownKey } from '../test/config-keys.js'
import { serverCatalog } from './catalog.js'
import { loadServerConfig, SERVER_DEFAULTS } from './config.js'

const dir = mkdtempSync(join(tmpdir(), 'steeple-config-'))
function configFile(text: string): string {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(path, text)
  return path
}

describe('server config', () => {
  it('runs with no config at all on the documented defaults', () => {
    const c = loadServerConfig({}, '/work')
    expect(c.trustDomain.name).toBe('example.org')
    expect(c.dataDir).toBe('/work/.steeple/server')
    expect(c.socketPath).toBe('/work/.steeple/server/admin.sock')
    expect(c.bindAddress).toBe('127.0.0.1')
    expect(c.bindPort).toBe(8081)
    expect(c.caTtlSeconds).toBe(86400)
    expect(c.defaultX509SvidTtlSeconds).toBe(3600)
    expect(c.defaultJwtSvidTtlSeconds).toBe(300)
    expect(c.plugins['DataStore']).toEqual({ sqlite: {} })
    expect(c.plugins['KeyManager']).toEqual({ disk: {} })
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('the commented sample in examples/ states the defaults and loads', () => {
    const c = loadServerConfig({ config: 'examples/server.yaml' }, '/work')
    const d = loadServerConfig({}, '/work')
    expect({ ...c, plugins: undefined }).toEqual({ ...d, plugins: undefined })
    expect(SERVER_DEFAULTS.trust_domain).toBe(c.trustDomain.name)
  })

  it('JWT-12: JWT-SVIDs live 5 minutes by default, X.509-SVIDs 1 hour, the CA 24 hours', () => {
    const c = loadServerConfig({}, '/work')
    expect(c.defaultJwtSvidTtlSeconds).toBeLessThanOrEqual(300)
    expect([c.defaultJwtSvidTtlSeconds, c.defaultX509SvidTtlSeconds, c.caTtlSeconds]).toEqual([300, 3600, 86400])
  })

  it('flags override the file', () => {
    const path = configFile('server:\n  trust_domain: file.example\n  bind_port: 9000\n')
    const c = loadServerConfig({ config: path, trustDomain: 'flag.example', bindPort: '9001', dataDir: '/d', logLevel: 'debug' })
    expect(c.trustDomain.name).toBe('flag.example')
    expect(c.bindPort).toBe(9001)
    expect(c.dataDir).toBe('/d')
    expect(c.socketPath).toBe('/d/admin.sock')
    expect(c.logLevel).toBe('debug')
  })

  it('admin callers: none beyond root and the server by default; uids and gids from admin.allowed_*', () => {
    expect(loadServerConfig({}, '/work').admin).toEqual({ uids: [], gids: [] })
    const c = loadServerConfig({ config: configFile('admin:\n  allowed_uids: [1000, 1001]\n  allowed_gids: [50]\n') })
    expect(c.admin).toEqual({ uids: [1000, 1001], gids: [50] })
  })

  it('reads durations in seconds or with units', () => {
    const c = loadServerConfig({ config: configFile('server:\n  ca_ttl: 1h30m\n  default_x509_svid_ttl: 600\n  default_jwt_svid_ttl: 90s\n') })
    expect(c.caTtlSeconds).toBe(5400)
    expect(c.defaultX509SvidTtlSeconds).toBe(600)
    expect(c.defaultJwtSvidTtlSeconds).toBe(90)
  })

  it.each([
    ['server:\n  trust_domian: x\n', /server\.trust_domian is not a known key/],
    ['servr:\n  a: 1\n', /servr is not a known key/],
    ['server:\n  trust_domain: Example.org\n', /server\.trust_domain must be a valid trust domain name: trust domain characters/],
    ['server:\n  trust_domain: spiffe://example.org\n', /server\.trust_domain must be a bare trust domain name/],
    ['server:\n  trust_domain: a..b\n', /server\.trust_domain must be a valid trust domain name: trust domain labels must not be empty/],
    ['server:\n  bind_port: 70000\n', /server\.bind_port must be at most 65535/],
    ['server:\n  bind_port: "80"\n', /server\.bind_port must be a whole number/],
    ['server:\n  ca_ttl: 1 day\n', /server\.ca_ttl must be a duration/],
    ['server:\n  ca_ttl: 0\n', /server\.ca_ttl must be at least 1s/],
    ['server:\n  log_level: loud\n', /server\.log_level must be one of "debug", "info", "warn", "error"/],
    ['server:\n  ca_key_type: ed25519\n', /server\.ca_key_type must be one of/],
    ['server:\n  ca_ttl: 1h\n  default_x509_svid_ttl: 2h\n', /default_x509_svid_ttl \(7200s\) must not exceed server\.ca_ttl \(3600s\)/],
    ['server:\n  a: 1\n  a: 2\n', /:3:3: Map keys must be unique/],
    ['plugins:\n  Datastore:\n    sqlite: {}\n', /plugins\.Datastore is not a known key/],
    ['- just\n- a list\n', /must be a section/],
    ['admin:\n  allowed_uids: [-1]\n', /admin\.allowed_uids\[0\] must be at least 0/],
    ['admin:\n  allowed_gids: wheel\n', /admin\.allowed_gids must be a list/],
    ['admin:\n  allowed_users: [1]\n', /admin\.allowed_users is not a known key/],
  ])('refuses bad config %#, naming the key and the rule', (text, message) => {
    const path = configFile(text)
    let thrown: unknown
    try {
      loadServerConfig({ config: path })
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(ConfigError)
    expect((thrown as Error).message).toMatch(message)
  })

  // Each plugin section is checked by the plugin's schema when the catalog loads it; the host
  // callback comes after that check, so no plugin is created here.
  it.each(builtInKeyCases('server', 'KeyManager', 'disk'))('refuses the key %s at %j, naming the key path', async (_key, text, path) => {
    await expectUnknownKey(async () => {
      const config = loadServerConfig({ config: configFile(text) })
      await serverCatalog().load('KeyManager', config.plugins['KeyManager']!, () => {
        throw new Error('the plugin section was accepted')
      })
    }, path)
  })

  it('names a missing config file', () => {
    expect(() => loadServerConfig({ config: join(dir, 'absent.yaml') })).toThrow(/cannot read config file .*absent\.yaml: ENOENT/)
  })

  it('refuses a bad port flag, naming the flag', () => {
    expect(() => loadServerConfig({ bindPort: 'http' })).toThrow(/--bind-port must be a port number/)
  })
})
