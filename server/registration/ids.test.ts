import { describe, expect, it } from 'vitest'
import { SpiffeError, parseSpiffeId, parseTrustDomain } from '../../spiffe/index.js'
import { agentId, agentIdPrefix, isAgentId, isReservedId, isServerId, serverId } from './ids.js'

const td = parseTrustDomain('example.org')
const other = parseTrustDomain('other.org')

describe('reserved IDs', () => {
  it('builds the server ID and agent IDs', () => {
    expect(serverId(td).toString()).toBe('spiffe://example.org/steeple/server')
    expect(agentId(td, 'join_token', 'abc').toString()).toBe('spiffe://example.org/steeple/agent/join_token/abc')
    expect(agentIdPrefix(td)).toBe('spiffe://example.org/steeple/agent/')
    expect(agentIdPrefix(td, 'x509pop')).toBe('spiffe://example.org/steeple/agent/x509pop/')
    expect(agentId(td, 'x509pop', 'f00').toString().startsWith(agentIdPrefix(td, 'x509pop'))).toBe(true)
  })

  it('refuses agent ID segments that are not path segments', () => {
    expect(() => agentId(td, 'join_token', '')).toThrow(SpiffeError)
    expect(() => agentId(td, 'join_token', 'a/b')).toThrow('spiffeid: path segment characters are limited to letters, numbers, dots, dashes, and underscores')
  })

  it.each([
    ['spiffe://example.org/steeple/server', true, false, true],
    ['spiffe://example.org/steeple/agent/join_token/abc', false, true, true],
    ['spiffe://example.org/steeple/agent', false, false, true],
    ['spiffe://example.org/steeple', false, false, true],
    ['spiffe://example.org/steeple/other', false, false, true],
    ['spiffe://example.org/steeplex', false, false, false],
    ['spiffe://example.org/web', false, false, false],
    ['spiffe://other.org/steeple/server', false, false, false],
    ['spiffe://other.org/steeple/agent/join_token/abc', false, false, false],
  ])('%s: server %s, agent %s, reserved %s (in example.org)', (id, server, agent, reserved) => {
    const parsed = parseSpiffeId(id)
    expect(isServerId(parsed, td)).toBe(server)
    expect(isAgentId(parsed, td)).toBe(agent)
    expect(isReservedId(parsed, td)).toBe(reserved)
  })

  it('is scoped to the trust domain asked about', () => {
    expect(isServerId(serverId(other), other)).toBe(true)
    expect(isServerId(serverId(other), td)).toBe(false)
  })
})
