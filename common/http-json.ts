import type { IncomingMessage, request as httpRequest } from 'node:http'
import type { RequestOptions } from 'node:https'

/**
 * A reply body went past the size the caller allows; the request was abandoned. Callers wrap it
 * (as the cause of their "unreachable" error), so it carries no code of its own.
 */
export class ReplyTooLargeError extends Error {
  readonly maxBytes: number

  constructor(maxBytes: number) {
    super(`reply larger than ${maxBytes} bytes`)
    this.name = 'ReplyTooLargeError'
    this.maxBytes = maxBytes
  }
}

/** One HTTP request of {@link requestText}. */
export interface TextRequest {
  /**
   * `request` of node:http or node:https. The caller picks it, so a client that must speak
   * HTTPS fails on an `http:` URL (node:https refuses it) instead of being led to plain HTTP.
   */
  readonly send: typeof httpRequest
  /** Where to send it; absent for a Unix socket, when `options` carry `socketPath` and `path`. */
  readonly url?: URL
  /** Method, headers, TLS settings, abort signal; `timeout` is set from `timeoutMs`. */
  readonly options: RequestOptions
  /** Socket inactivity, connecting included, after which the request fails with code `ETIMEDOUT`. */
  readonly timeoutMs: number
  /** Longest reply body read; a longer one fails the request with {@link ReplyTooLargeError}. */
  readonly maxReplyBytes: number
  /** Request body, if any. */
  readonly body?: string
}

/** A reply: its status code (0 if none) and its body as UTF-8 text. */
export interface TextReply {
  readonly statusCode: number
  readonly body: string
}

/**
 * Sends one request and reads the whole reply, up to `maxReplyBytes`.
 * @throws ReplyTooLargeError for a longer body; an error with code `ETIMEDOUT` after `timeoutMs`
 *   without activity; Node's error when the peer cannot be reached or the signal aborts.
 */
export function requestText(r: TextRequest): Promise<TextReply> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > r.maxReplyBytes) req.destroy(new ReplyTooLargeError(r.maxReplyBytes))
        else chunks.push(chunk)
      })
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    }
    const options = { ...r.options, timeout: r.timeoutMs }
    const req = r.url === undefined ? r.send(options, onResponse) : r.send(r.url, options, onResponse)
    req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })))
    req.on('error', reject)
    req.end(r.body)
  })
}

/**
 * The value of a JSON text.
 * @returns undefined when `text` is not JSON (no JSON text parses to undefined).
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/**
 * {@link requestText}, with the body parsed as JSON.
 * @returns the status code and the value; `json` is undefined when the body is not JSON, so the
 *   caller can still report the status of an error page.
 * @throws what {@link requestText} throws.
 */
export async function requestJson(r: TextRequest): Promise<{ statusCode: number; json: unknown }> {
  const reply = await requestText(r)
  return { statusCode: reply.statusCode, json: parseJson(reply.body) }
}
