import { AlreadyExistsError } from '../../../common/errors.js'
import { parseSpiffeId } from '../../../spiffe/index.js'
import type { JoinToken, JoinTokenStore } from '../types.js'
import { toMs, type Connection } from './connection.js'

interface TokenRow {
  token_hash: string
  expires_at: number
  alias_id: string | null
  created_at: number
}

function toToken(row: TokenRow): JoinToken {
  return Object.freeze({
    tokenHash: row.token_hash,
    expiresAt: new Date(row.expires_at),
    aliasId: row.alias_id === null ? undefined : parseSpiffeId(row.alias_id),
    createdAt: new Date(row.created_at),
  })
}

/** Join-token hashes in `join_tokens`; the secret itself never reaches the store. */
export class SqliteJoinTokenStore implements JoinTokenStore {
  readonly #c: Connection

  constructor(conn: Connection) {
    this.#c = conn
  }

  async create(token: Omit<JoinToken, 'createdAt'>): Promise<JoinToken> {
    return this.#c.write(() => {
      const exists = this.#c.statement('SELECT 1 FROM join_tokens WHERE token_hash = ?').get(token.tokenHash)
      if (exists !== undefined) throw new AlreadyExistsError('join token: a token with this hash already exists')
      const row: TokenRow = {
        token_hash: token.tokenHash,
        expires_at: toMs(token.expiresAt),
        alias_id: token.aliasId?.toString() ?? null,
        created_at: toMs(this.#c.clock()),
      }
      this.#c
        .statement('INSERT INTO join_tokens (token_hash, expires_at, alias_id, created_at) VALUES (@token_hash, @expires_at, @alias_id, @created_at)')
        .run(row)
      return toToken(row)
    })
  }

  async consume(tokenHash: string, now: Date): Promise<JoinToken | undefined> {
    const nowMs = toMs(now)
    return this.#c.write(() => {
      // One DELETE decides: of several callers racing for the token, only one gets the row back.
      const row = this.#c
        .statement<TokenRow>('DELETE FROM join_tokens WHERE token_hash = ? RETURNING token_hash, expires_at, alias_id, created_at')
        .get(tokenHash)
      if (row === undefined || row.expires_at <= nowMs) return undefined
      return toToken(row)
    })
  }

  async pruneExpired(before: Date): Promise<number> {
    const beforeMs = toMs(before)
    return this.#c.write(() => this.#c.statement('DELETE FROM join_tokens WHERE expires_at < ?').run(beforeMs).changes)
  }
}
