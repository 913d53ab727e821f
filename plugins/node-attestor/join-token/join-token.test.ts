import { status } from '@grpc/grpc-js'
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { chmod, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, InvalidArgumentError, PermissionDeniedError, SteepleError } from '../../../common/errors.js'
import { createLogger, silentLogger } from '../../../common/logger.js'
import { parseSpiffeId, parseTrustDomain } from '../../../spiffe/index.js'
import { attestWith, runNodeAttestorSuite, type NodeAttestorFixture } from '../../../test/conformance/node-attestor-suite.js'
import { MemoryDataStore } from '../../../test/fakes/memory-data-store.js'
import type { JoinToken, JoinTokenStore } from '../../data-store/types.js'
import { PluginCatalog, type PluginHost } from '../../registry.js'
import type { AgentNodeAttestor, ServerNodeAttestor } from '../types.js'
import { grpcStatusOf } from '../../../common/grpc-status.js'
import {
  JoinTokenAgentPlugin,
  JoinTokenServerAttestor,
  generateJoinToken,
  hashJoinToken,
  joinTokenAgentAttestor,
  joinTokenAgentConfigSchema,
  joinTokenAgentId,
  joinTokenId,
  joinTokenServerAttestor,
} from './index.js'

const td = parseTrustDomain('example.org')
const NOW = new Date('2030-01-01T00:00:00Z')
const ctx = { trustDomain: td, now: NOW }
const TTL_MS = 600_000

async function newStore(): Promise<JoinTokenStore> {
  return new MemoryDataStore({ clock: () => NOW }).joinTokens
}

async function storeToken(store: JoinTokenStore, opts: { expiresAt?: Date; aliasId?: string } = {}): Promise<string> {
  const { token, tokenHash } = generateJoinToken()
  await store.create({
    tokenHash,
    expiresAt: opts.expiresAt ?? new Date(NOW.getTime() + TTL_MS),
    aliasId: opts.aliasId === undefined ? undefined : parseSpiffeId(opts.aliasId),
  })
  return token
}

function agentWith(token: string): Promise<AgentNodeAttestor> {
  return new JoinTokenAgentPlugin({ token, token_path: undefined }).begin()
}

function rawAgent(payload: Uint8Array): AgentNodeAttestor {
  return {
    payload: async () => payload,
    answer: async () => {
      throw new Error('no challenge expected')
    },
  }
}

function attest(server: ServerNodeAttestor, token: string): Promise<unknown> {
  return server.attest(new TextEncoder().encode(token), async () => new Uint8Array(), ctx)
}

runNodeAttestorSuite({
  name: 'join_token',
  oneTime: true,
  challengeResponse: false,
  make: async (): Promise<NodeAttestorFixture> => {
    const store = await newStore()
    const token = await storeToken(store)
    const expired = await storeToken(store, { expiresAt: new Date(NOW.getTime() - 1) })
    return {
      server: new JoinTokenServerAttestor(store),
      begin: () => agentWith(token),
      ctx,
      refused: [
        { name: 'unknown token', begin: () => agentWith(generateJoinToken().token), status: status.PERMISSION_DENIED },
        { name: 'expired token', begin: () => agentWith(expired), status: status.PERMISSION_DENIED },
        { name: 'token with a space', begin: async () => rawAgent(new TextEncoder().encode('two words')), status: status.INVALID_ARGUMENT },
      ],
    }
  },
})

describe('join_token tokens', () => {
  it('generates 256-bit URL-safe tokens, each different', () => {
    const tokens = new Set(Array.from({ length: 50 }, () => generateJoinToken().token))
    expect(tokens.size).toBe(50)
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(Buffer.from(token, 'base64url')).toHaveLength(32)
    }
  })

  it('stores only the SHA-256 hex of the token; the token ID is its first 32 hex characters', () => {
    const { token, tokenHash, tokenId } = generateJoinToken()
    expect(tokenHash).toBe(createHash('sha256').update(token).digest('hex'))
    expect(hashJoinToken(token)).toBe(tokenHash)
    expect(tokenId).toBe(tokenHash.slice(0, 32))
    expect(joinTokenId(tokenHash)).toBe(tokenId)
    expect(tokenId).not.toContain(token)
  })

  it('refuses a token hash that is not SHA-256 hex when deriving an ID (a caller bug)', () => {
    expect(() => joinTokenId('ABC')).toThrow(TypeError)
  })
})

describe('join_token server', () => {
  it('gives spiffe://<td>/steeple/agent/join_token/<token-id>, no selectors, no re-attestation', async () => {
    const store = await newStore()
    const token = await storeToken(store)
    const result = await attestWith(new JoinTokenServerAttestor(store), await agentWith(token), ctx)
    const tokenId = joinTokenId(hashJoinToken(token))
    expect(result.agentId.toString()).toBe(`spiffe://example.org/steeple/agent/join_token/${tokenId}`)
    expect(result.agentId.equals(joinTokenAgentId(td, tokenId))).toBe(true)
    expect(result.agentId.toString()).not.toContain(token)
    expect(result.selectors).toEqual([])
    expect(result.canReattest).toBe(false)
    expect(result.aliasIds).toBeUndefined()
  })

  it('returns the alias ID stored with the token', async () => {
    const store = await newStore()
    const token = await storeToken(store, { aliasId: 'spiffe://example.org/nodes/web' })
    const result = await attestWith(new JoinTokenServerAttestor(store), await agentWith(token), ctx)
    expect(result.aliasIds?.map(String)).toEqual(['spiffe://example.org/nodes/web'])
  })

  it('refuses a token used twice, the second time as unknown, already used or expired', async () => {
    const store = await newStore()
    const server = new JoinTokenServerAttestor(store)
    const token = await storeToken(store)
    await attest(server, token)
    const err = await attest(server, token).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermissionDeniedError)
    expect((err as SteepleError).message).toBe('join token is unknown, already used or expired')
  })

  it('lets exactly one of two concurrent attestations with one token succeed', async () => {
    const store = await newStore()
    const server = new JoinTokenServerAttestor(store)
    const token = await storeToken(store)
    const outcomes = await Promise.allSettled([attest(server, token), attest(server, token)])
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult
    expect(rejected.reason).toBeInstanceOf(PermissionDeniedError)
  })

  it('refuses an expired token (expiry at exactly now counts as expired)', async () => {
    const store = await newStore()
    const server = new JoinTokenServerAttestor(store)
    const atNow = await storeToken(store, { expiresAt: NOW })
    await expect(attest(server, atNow)).rejects.toThrow(PermissionDeniedError)
    const later = await storeToken(store, { expiresAt: new Date(NOW.getTime() + 1000) })
    const afterExpiry = { trustDomain: td, now: new Date(NOW.getTime() + 2000) }
    await expect(server.attest(new TextEncoder().encode(later), async () => new Uint8Array(), afterExpiry)).rejects.toThrow(
      'join token is unknown, already used or expired',
    )
  })

  it('refuses an unknown token', async () => {
    const server = new JoinTokenServerAttestor(await newStore())
    await expect(attest(server, generateJoinToken().token)).rejects.toThrow(PermissionDeniedError)
  })

  it('refuses an expired token even from a store that wrongly returns it', async () => {
    const expired: JoinToken = { tokenHash: hashJoinToken('t0ken'), expiresAt: new Date(NOW.getTime() - 1), aliasId: undefined, createdAt: NOW }
    const faulty: JoinTokenStore = {
      create: async () => expired,
      consume: async () => expired,
      pruneExpired: async () => 0,
    }
    await expect(attest(new JoinTokenServerAttestor(faulty), 't0ken')).rejects.toThrow(PermissionDeniedError)
  })

  it.each([
    ['not UTF-8', Uint8Array.from([0xff, 0xfe, 0x41])],
    ['longer than 512 bytes', new TextEncoder().encode('a'.repeat(513))],
    ['with a trailing newline', new TextEncoder().encode('abcdefghijklmnopqrstuvwxyz\n')],
    ['with a control character', new TextEncoder().encode('abc\u0000defghijklmnopqrstuvwxyz')],
    ['non-ASCII', new TextEncoder().encode('jetón-secreto-de-prueba-123')],
  ])('refuses a payload %s as INVALID_ARGUMENT without echoing it', async (_case, payload) => {
    const server = new JoinTokenServerAttestor(await newStore())
    const err = await server.attest(payload, async () => new Uint8Array(), ctx).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidArgumentError)
    expect((err as Error).message).toBe('join token must be 1 to 512 printable ASCII characters without spaces')
  })

  it('lets a data store failure through unchanged (not as a refusal)', async () => {
    const ds = new MemoryDataStore({ clock: () => NOW })
    const server = new JoinTokenServerAttestor(ds.joinTokens)
    await ds.close()
    const err = await attest(server, generateJoinToken().token).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SteepleError)
    expect(grpcStatusOf((err as SteepleError))).toBe(status.UNAVAILABLE)
  })
})

describe('join_token agent', () => {
  const dirs: string[] = []
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })
  async function tokenFile(content: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'steeple-jt-'))
    dirs.push(dir)
    const path = join(dir, 'token')
    await writeFile(path, content, { mode: 0o600 })
    return path
  }
  async function fifo(): Promise<string> {
    const path = join(dirname(await tokenFile('')), 'fifo')
    const made = spawnSync('mkfifo', [path])
    if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`)
    return path
  }

  it('sends the token from token_path without surrounding whitespace', async () => {
    const { token } = generateJoinToken()
    const plugin = new JoinTokenAgentPlugin({ token: undefined, token_path: await tokenFile(`  ${token}\n`) })
    expect(new TextDecoder().decode(await (await plugin.begin()).payload())).toBe(token)
  })

  it('reads token_path once: a second attestation sends the same token after the file is gone', async () => {
    const { token } = generateJoinToken()
    const path = await tokenFile(`${token}\n`)
    const plugin = new JoinTokenAgentPlugin({ token: undefined, token_path: path })
    await plugin.begin()
    await unlink(path)
    expect(new TextDecoder().decode(await (await plugin.begin()).payload())).toBe(token)
  })

  it('warns, naming the path and mode but not the token, when token_path is open to group or other users', async () => {
    const { token } = generateJoinToken()
    const shared = await tokenFile(`${token}\n`)
    await chmod(shared, 0o640)
    const lines: string[] = []
    const log = createLogger({ level: 'debug', write: (line) => lines.push(line) })
    await new JoinTokenAgentPlugin({ token: undefined, token_path: shared }, log).begin()
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/group or other users.*chmod 600/), path: shared, mode: '0640' }),
    ])
    expect(lines.join('')).not.toContain(token)
    lines.length = 0
    await new JoinTokenAgentPlugin({ token: undefined, token_path: await tokenFile(token) }, log).begin()
    expect(lines).toEqual([])
  })

  it('names token_path and the path when the file is missing', async () => {
    const missing = new JoinTokenAgentPlugin({ token: undefined, token_path: '/nonexistent/steeple/token' })
    await expect(missing.begin()).rejects.toThrow(/^plugins\.NodeAttestor\.join_token\.token_path: cannot read the join token file \/nonexistent\/steeple\/token: ENOENT$/)
  })

  it.each([
    ['empty', async () => tokenFile(''), /is empty, it must hold a join token$/],
    ['only a newline', async () => tokenFile('\n'), /is empty, it must hold a join token$/],
    ['two words', async () => tokenFile('two words\n'), /must be a join token: 1 to 512 printable ASCII characters without spaces$/],
    ['larger than a token can be', async () => tokenFile('a'.repeat(5000)), /must hold only a join token, not 5000 bytes$/],
    ['a directory', async () => dirname(await tokenFile('x')), /must be a regular file$/],
    ['a FIFO (nothing writes to it)', async () => fifo(), /must be a regular file$/],
    ['a character device', async () => '/dev/zero', /must be a regular file$/],
  ])('refuses a token_path that is %s, naming the key and the path', async (_case, make, rule) => {
    const path = await make()
    const err = await new JoinTokenAgentPlugin({ token: undefined, token_path: path }).begin().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message.startsWith(`plugins.NodeAttestor.join_token.token_path: the join token file ${path} `)).toBe(true)
    expect((err as Error).message).toMatch(rule)
  })

  it('refuses a challenge: join_token has none', async () => {
    const session = await agentWith(generateJoinToken().token)
    await expect(session.answer(new Uint8Array(32))).rejects.toThrow(InvalidArgumentError)
  })

  it('loads without a token (a restart with a stored SVID needs none) and names the way to give one when attestation needs it', async () => {
    const config = joinTokenAgentConfigSchema.parse({}, 'plugins.NodeAttestor.join_token')
    await expect(new JoinTokenAgentPlugin(config).begin()).rejects.toThrow(
      /^plugins\.NodeAttestor\.join_token: the agent must attest and has no join token: give --join-token-file FILE or STEEPLE_JOIN_TOKEN/,
    )
  })

  it.each([
    [{ token: 'a', token_path: '/t' }, 'plugins.NodeAttestor.join_token must set only one of token, token_path'],
    [{ tokenpath: '/t' }, 'plugins.NodeAttestor.join_token.tokenpath is not a known key (known: token, token_path)'],
  ])('config %j is refused: %s', (section, message) => {
    expect(() => joinTokenAgentConfigSchema.parse(section, 'plugins.NodeAttestor.join_token')).toThrow(message)
  })

  it('refuses a malformed token in config without echoing it', () => {
    const secret = 'super secret token'
    const err = (() => {
      try {
        joinTokenAgentConfigSchema.parse({ token: secret }, 'plugins.NodeAttestor.join_token')
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message).toMatch(/^plugins\.NodeAttestor\.join_token\.token must be a join token/)
    expect((err as Error).message).not.toContain(secret)
  })
})

describe('join_token plugin definitions', () => {
  const host: PluginHost = { log: silentLogger(), trustDomain: td, dataDir: '/tmp', clock: () => NOW }

  it('load through a catalog: the server half with the join token store, the agent half with its config', async () => {
    const store = await newStore()
    const token = await storeToken(store)
    const serverCatalog = new PluginCatalog([joinTokenServerAttestor], new Map([['ServerNodeAttestor', { min: 1, max: undefined }]]))
    const [server] = await serverCatalog.load('ServerNodeAttestor', { join_token: {} }, () => ({ ...host, joinTokens: store }))
    const agentCatalog = new PluginCatalog([joinTokenAgentAttestor], new Map([['AgentNodeAttestor', { min: 1, max: 1 }]]))
    const [agent] = await agentCatalog.load('AgentNodeAttestor', { join_token: { token } }, () => host)
    const result = await attestWith(server!.instance, await agent!.instance.begin(), ctx)
    expect(result.agentId.path).toBe(`/steeple/agent/join_token/${joinTokenId(hashJoinToken(token))}`)
  })
})
