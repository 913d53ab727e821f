import { createHash, randomBytes } from 'node:crypto'
import { InvalidArgumentError, PermissionDeniedError } from '../../../common/errors.js'
import { spiffeIdFromSegments, type SpiffeId, type TrustDomain } from '../../../spiffe/index.js'
import type { JoinTokenStore } from '../../data-store/types.js'
import type { AttestContext, AttestResult, Challenger, ServerNodeAttestor } from '../types.js'

/** The plugin name, the agent ID segment after `/steeple/agent/`, and the selector type. */
export const JOIN_TOKEN_PLUGIN_NAME = 'join_token'

/** Random bytes in a generated token: 256 bits, 43 base64url characters. */
const TOKEN_BYTES = 32
/** Longest token the server accepts (generated ones are 43 characters). */
export const MAX_JOIN_TOKEN_LENGTH = 512
/** Hex characters of the token hash that form the token ID (128 bits). */
const TOKEN_ID_HEX_LENGTH = 32
// Printable ASCII without space: what a token copied through a shell or a config file keeps intact.
const TOKEN_CHARS = /^[\x21-\x7e]+$/

/** A new join token and the non-secret values derived from it. */
export interface GeneratedJoinToken {
  /** The secret: give it to the agent once, never store or log it. */
  readonly token: string
  /** SHA-256 of the token (lowercase hex): the only form the data store keeps. */
  readonly tokenHash: string
  /** Non-secret ID (see {@link joinTokenId}): shown to operators, part of the agent ID. */
  readonly tokenId: string
}

/** A fresh join token: 256 random bits, base64url without padding (URL- and shell-safe). */
export function generateJoinToken(): GeneratedJoinToken {
  const token = randomBytes(TOKEN_BYTES).toString('base64url')
  const tokenHash = hashJoinToken(token)
  return { token, tokenHash, tokenId: joinTokenId(tokenHash) }
}

/** SHA-256 of the token's UTF-8 bytes, lowercase hex: the key the data store knows a token by. */
export function hashJoinToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/**
 * The token ID: the first 32 hex characters (128 bits) of the token hash. It names the token
 * and its agent in agent IDs, logs and CLI output without revealing the token. SPIRE puts
 * the token itself in the agent ID; we do not, because agent IDs are logged and published in
 * SVIDs, and a token is a secret until it is used.
 * @throws TypeError when `tokenHash` is not a SHA-256 hex digest.
 */
export function joinTokenId(tokenHash: string): string {
  if (!/^[0-9a-f]{64}$/.test(tokenHash)) throw new TypeError('join token hash must be 64 lowercase hex characters')
  return tokenHash.slice(0, TOKEN_ID_HEX_LENGTH)
}

/** `spiffe://<td>/steeple/agent/join_token/<token-id>`: the ID an agent attesting with the token gets. */
export function joinTokenAgentId(trustDomain: TrustDomain, tokenId: string): SpiffeId {
  return spiffeIdFromSegments(trustDomain, 'steeple', 'agent', JOIN_TOKEN_PLUGIN_NAME, tokenId)
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Server half of `join_token`: the payload is the token (UTF-8). The token is consumed from the
 * store atomically, so two agents racing with one token cannot both succeed. Emits no selectors
 * (as SPIRE): the token ID is already the last segment of the agent ID, and a one-time value
 * cannot group nodes; node entries attach to a token's agent through its alias ID instead.
 */
export class JoinTokenServerAttestor implements ServerNodeAttestor {
  readonly #tokens: JoinTokenStore

  constructor(tokens: JoinTokenStore) {
    this.#tokens = tokens
  }

  /**
   * @throws InvalidArgumentError when the payload is not a token (empty, too long, not printable ASCII);
   *   PermissionDeniedError when the token is unknown, already used or expired.
   */
  async attest(payload: Uint8Array, _challenge: Challenger, ctx: AttestContext): Promise<AttestResult> {
    const token = decodeToken(payload)
    const tokenHash = hashJoinToken(token)
    const stored = await this.#tokens.consume(tokenHash, ctx.now)
    // The store keeps expired tokens from being returned; checking again here keeps one faulty
    // store from turning an expired token into an identity.
    if (stored === undefined || stored.expiresAt.getTime() <= ctx.now.getTime()) {
      throw new PermissionDeniedError('join token is unknown, already used or expired')
    }
    return {
      agentId: joinTokenAgentId(ctx.trustDomain, joinTokenId(tokenHash)),
      selectors: [],
      canReattest: false,
      ...(stored.aliasId !== undefined ? { aliasIds: [stored.aliasId] } : {}),
    }
  }
}

function decodeToken(payload: Uint8Array): string {
  const rule = `join token must be 1 to ${MAX_JOIN_TOKEN_LENGTH} printable ASCII characters without spaces`
  if (payload.length === 0 || payload.length > MAX_JOIN_TOKEN_LENGTH) throw new InvalidArgumentError(rule)
  let token: string
  try {
    token = UTF8.decode(payload)
  } catch {
    throw new InvalidArgumentError(rule)
  }
  if (!TOKEN_CHARS.test(token)) throw new InvalidArgumentError(rule)
  return token
}
