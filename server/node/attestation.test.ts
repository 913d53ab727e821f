import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../common/errors.js'
import { silentLogger } from '../../common/logger.js'
import { generateJoinToken } from '../../plugins/node-attestor/join-token/index.js'
import type { Challenger, ServerNodeAttestor } from '../../plugins/node-attestor/types.js'
import { parseSpiffeId } from '../../spiffe/id.js'
import { generateKeyPair } from '../../spiffe/index.js'
import { loadServerConfig } from '../config.js'
import { buildServerCore, type ServerCore } from '../core.js'
import { NodeAttestationService, agentIdSelector } from './attestation.js'
import { NodeUpdater } from './updater.js'

/**
 * Node attestation rules on a real server core (SQLite in memory, memory key manager, the
 * join_token attestor); no process or network. The agent side is the join token's payload.
 */
let dir: string
let core: ServerCore
let service: NodeAttestationService

const noChallenge: Challenger = async () => {
  throw new Error('join_token asks no challenge')
}
const key = () => generateKeyPair('ec-p256').publicKey

async function token(aliasId?: string): Promise<Uint8Array> {
  const t = generateJoinToken()
  await core.store.joinTokens.create({ tokenHash: t.tokenHash, expiresAt: new Date(Date.now() + 600_000), aliasId: aliasId === undefined ? undefined : parseSpiffeId(aliasId) })
  return new TextEncoder().encode(t.token)
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steeple-node-'))
  const configPath = join(dir, 'server.yaml')
  await writeFile(configPath, `server:\n  data_dir: ${JSON.stringify(join(dir, 'data'))}\nplugins:\n  KeyManager:\n    memory: {}\n  DataStore:\n    sqlite: { path: ":memory:" }\n`)
  core = await buildServerCore(loadServerConfig({ config: configPath }), { log: silentLogger() })
  service = new NodeAttestationService(core, new NodeUpdater(core, silentLogger()), silentLogger())
})

afterAll(async () => {
  await core?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('NodeAttestationService', () => {
  it('names the attestor field: empty, or not configured on this server', () => {
    expect(() => service.attestorFor('')).toThrow(new InvalidArgumentError('attestation: params.data.type must name a node attestor'))
    expect(() => service.attestorFor('tpm')).toThrow(/node attestor "tpm" is not configured on this server \(configured: join_token\)/)
  })

  it('attests with a join token: the node is stored with its implicit selector, known to the cache at once, its SVID signed, and audited', async () => {
    const { agentId, svid, canReattest } = await service.attest('join_token', await token(), noChallenge, key())
    expect(canReattest).toBe(false)
    expect(svid.svid.id.toString()).toBe(agentId.toString())
    const node = await core.store.nodes.get(agentId)
    expect(node).toMatchObject({ attestationType: 'join_token', certSerial: svid.serial, banned: false })
    expect(node!.selectors.map(String)).toContain(agentIdSelector(agentId).toString())
    expect(core.cache.node(agentId)).toBeDefined()
    const [event] = await core.store.audit.list({ action: 'agent.attest', subject: agentId.toString() })
    expect(event).toMatchObject({ actor: agentId.toString(), details: expect.objectContaining({ attestor: 'join_token', serial: svid.serial, reattested: false }) })
  })

  it('a token with an alias registers a node entry selecting exactly this agent', async () => {
    const alias = 'spiffe://example.org/cluster/node-a'
    const { agentId } = await service.attest('join_token', await token(alias), noChallenge, key())
    const entries = (await core.store.entries.list({ spiffeId: parseSpiffeId(alias) })).items
    expect(entries.map((e) => e.selectors.map(String))).toEqual([[agentIdSelector(agentId).toString()]])
  })

  it('prefixes the attestor\'s errors with its name; a used token is refused', async () => {
    const payload = await token()
    await service.attest('join_token', payload, noChallenge, key())
    const again = service.attest('join_token', payload, noChallenge, key())
    await expect(again).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await expect(again).rejects.toThrow(/^nodeattestor\(join_token\): /)
  })

  it('an error of the challenge itself passes unprefixed (the agent went away)', async () => {
    const gone = new Error('the agent cancelled the call')
    const challenging: ServerNodeAttestor = { attest: async (_p, challenge) => challenge(new Uint8Array([1])).then(() => { throw new Error('unreachable') }) }
    const withChallenge = new NodeAttestationService(
      { ...core, nodeAttestors: new Map([['challenging', challenging]]) },
      new NodeUpdater(core, silentLogger()),
      silentLogger(),
    )
    await expect(withChallenge.attest('challenging', new Uint8Array(), async () => Promise.reject(gone), key())).rejects.toBe(gone)
  })

  it('renews only an attested agent (evicted: attest again)', async () => {
    const { agentId } = await service.attest('join_token', await token(), noChallenge, key())
    const renewed = await service.renew(agentId, key())
    expect((await core.store.nodes.get(agentId))!.newCertSerial).toBe(renewed.serial)
    await core.store.nodes.delete(agentId)
    await expect(service.renew(agentId, key())).rejects.toThrow(/is not attested \(it was evicted\): attest again/)
  })
})
