import { describe, expect, it } from 'vitest'
import { ConfigError } from '../common/errors.js'
import { generateJoinToken } from '../plugins/node-attestor/join-token/index.js'
import { JOIN_TOKEN_ENV, resolveJoinTokenSource, takeJoinTokenEnv, type JoinTokenInputs } from './join-token.js'

const { token } = generateJoinToken()

describe('resolveJoinTokenSource', () => {
  it('gives nothing when no way is used', () => {
    expect(resolveJoinTokenSource({})).toBeUndefined()
  })

  it.each<[string, JoinTokenInputs, unknown]>([
    ['--join-token', { flag: token }, { origin: '--join-token', token }],
    ['STEEPLE_JOIN_TOKEN, without a trailing newline', { env: `${token}\n` }, { origin: JOIN_TOKEN_ENV, token }],
    ['--join-token-file', { fileFlag: '/run/t' }, { origin: '--join-token-file', path: '/run/t' }],
    ['agent.join_token_path', { configPath: 'rel/t' }, { origin: 'agent.join_token_path', path: 'rel/t' }],
    ['--join-token-file over agent.join_token_path of the file (a flag replaces its key)', { fileFlag: '/run/t', configPath: '/etc/t' }, { origin: '--join-token-file', path: '/run/t' }],
  ])('takes the token from %s', (_case, inputs, expected) => {
    expect(resolveJoinTokenSource(inputs)).toEqual(expected)
  })

  it.each<[JoinTokenInputs, string]>([
    [{ flag: token, env: token }, '--join-token and STEEPLE_JOIN_TOKEN'],
    [{ flag: token, fileFlag: '/t' }, '--join-token and --join-token-file'],
    [{ flag: token, configPath: '/t' }, '--join-token and agent.join_token_path'],
    [{ env: token, fileFlag: '/t' }, 'STEEPLE_JOIN_TOKEN and --join-token-file'],
    [{ env: token, configPath: '/t' }, 'STEEPLE_JOIN_TOKEN and agent.join_token_path'],
  ])('refuses two ways at once (%j), naming both: %s', (inputs, both) => {
    const err = catchError(() => resolveJoinTokenSource(inputs))
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message).toBe(`${both} both give the join token: give it one way only`)
    expect((err as Error).message).not.toContain(token)
  })

  it.each<[JoinTokenInputs, string]>([
    [{ flag: '' }, '--join-token must not be empty'],
    [{ env: '' }, 'STEEPLE_JOIN_TOKEN must not be empty'],
    [{ fileFlag: '' }, '--join-token-file must not be empty'],
    [{ env: 'a secret with spaces' }, 'STEEPLE_JOIN_TOKEN must be a join token: 1 to 512 printable ASCII characters without spaces'],
    [{ flag: 'x'.repeat(513) }, '--join-token must be a join token: 1 to 512 printable ASCII characters without spaces'],
  ])('refuses an empty or malformed value %#, naming where it came from and not echoing it', (inputs, message) => {
    const err = catchError(() => resolveJoinTokenSource(inputs))
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message).toBe(message)
  })
})

describe('takeJoinTokenEnv', () => {
  it('returns the token and removes it from the environment it was given, leaving the rest', () => {
    const env: Record<string, string | undefined> = { [JOIN_TOKEN_ENV]: token, PATH: '/bin' }
    expect(takeJoinTokenEnv(env)).toBe(token)
    expect(env).toEqual({ PATH: '/bin' })
    expect(takeJoinTokenEnv(env)).toBeUndefined()
  })
})

function catchError(f: () => unknown): unknown {
  try {
    f()
  } catch (err) {
    return err
  }
  return undefined
}
