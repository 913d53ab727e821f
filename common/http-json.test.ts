import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseJson, ReplyTooLargeError, requestJson, requestText, type TextRequest } from './http-json.js'

const LIMIT = 64 * 1024

/** A loopback server: each path answers in its own way. */
function handler(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
  switch (req.url) {
    case '/good':
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [1, 2], name: 'ünïcode' }))
      return
    case '/not-json':
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>')
      return
    case '/exactly-limit':
      res.writeHead(200).end(JSON.stringify('a'.repeat(LIMIT - 2)))
      return
    case '/oversized': {
      // Sent in pieces, as a large reply arrives: the reader must stop past the limit, not buffer it all.
      res.writeHead(200, { 'content-type': 'application/json' })
      const piece = Buffer.alloc(16 * 1024, 'a')
      let sent = 0
      const more = (): void => {
        while (sent < 4 * LIMIT) {
          sent += piece.length
          if (!res.write(piece)) {
            res.once('drain', more)
            return
          }
        }
        res.end()
      }
      res.on('error', () => {})
      more()
      return
    }
    case '/echo': {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => res.writeHead(201).end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body: Buffer.concat(chunks).toString() })))
      return
    }
    case '/silent':
      // Never answers: the client's timeout must end the request.
      return
    default:
      res.writeHead(404).end()
  }
}

describe('requestText / requestJson against a loopback HTTP server', () => {
  let tcp: Server
  let unix: Server
  let dir: string
  let base: URL

  beforeAll(async () => {
    tcp = createServer(handler)
    tcp.listen(0, '127.0.0.1')
    await once(tcp, 'listening')
    base = new URL(`http://127.0.0.1:${(tcp.address() as AddressInfo).port}`)
    dir = await mkdtemp(join(tmpdir(), 'steeple-http-json-'))
    unix = createServer(handler)
    unix.listen(join(dir, 'engine.sock'))
    await once(unix, 'listening')
  })

  afterAll(async () => {
    tcp.closeAllConnections()
    unix.closeAllConnections()
    await Promise.all([new Promise((r) => tcp.close(r)), new Promise((r) => unix.close(r))])
    await rm(dir, { recursive: true, force: true })
  })

  const get = (path: string, extra: Partial<TextRequest> = {}): TextRequest => ({
    send: httpRequest,
    url: new URL(path, base),
    options: { method: 'GET' },
    timeoutMs: 10_000,
    maxReplyBytes: LIMIT,
    ...extra,
  })

  it('parses a good JSON body (UTF-8) and gives its status', async () => {
    expect(await requestJson(get('/good'))).toEqual({ statusCode: 200, json: { items: [1, 2], name: 'ünïcode' } })
  })

  it('reads a body of exactly the limit', async () => {
    const reply = await requestText(get('/exactly-limit'))
    expect(reply.body.length).toBe(LIMIT)
  })

  it('refuses a body past the limit with ReplyTooLargeError naming the limit', async () => {
    const err = await requestText(get('/oversized')).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(ReplyTooLargeError)
    expect((err as ReplyTooLargeError).maxBytes).toBe(LIMIT)
    expect((err as Error).message).toBe(`reply larger than ${LIMIT} bytes`)
  })

  it('a body that is not JSON gives no value, but keeps the status for the caller to report', async () => {
    expect(await requestJson(get('/not-json'))).toEqual({ statusCode: 502, json: undefined })
  })

  it('sends the method, headers and body it is given', async () => {
    const reply = await requestJson(get('/echo', { options: { method: 'POST', headers: { authorization: 'Bearer t' } }, body: '{"a":1}' }))
    expect(reply).toEqual({ statusCode: 201, json: { method: 'POST', auth: 'Bearer t', body: '{"a":1}' } })
  })

  it('speaks HTTP over a Unix socket when given socketPath and path instead of a URL', async () => {
    const reply = await requestText({ send: httpRequest, options: { socketPath: join(dir, 'engine.sock'), path: '/good', method: 'GET' }, timeoutMs: 10_000, maxReplyBytes: LIMIT })
    expect(reply.statusCode).toBe(200)
    expect(parseJson(reply.body)).toEqual({ items: [1, 2], name: 'ünïcode' })
  })

  it('fails with code ETIMEDOUT when the server does not answer', async () => {
    await expect(requestText(get('/silent', { timeoutMs: 200 }))).rejects.toMatchObject({ code: 'ETIMEDOUT', message: 'request timed out' })
  })

  it('with node:https as the sender, an http: URL is refused rather than sent in the clear', async () => {
    await expect(requestText(get('/good', { send: httpsRequest }))).rejects.toMatchObject({ code: 'ERR_INVALID_PROTOCOL' })
  })

  it('fails with the abort error once the signal aborts', async () => {
    const controller = new AbortController()
    const pending = requestText(get('/silent', { options: { method: 'GET', signal: controller.signal } }))
    controller.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
  })
})

describe('parseJson', () => {
  it.each([
    ['{"a":[1,null]}', { a: [1, null] }],
    ['null', null],
    ['0', 0],
    ['"x"', 'x'],
  ])('parses %s', (text, value) => {
    expect(parseJson(text)).toEqual(value)
  })

  it.each(['', '{', 'undefined', '<html>', '{"a":1}x'])('gives undefined for %j', (text) => {
    expect(parseJson(text)).toBeUndefined()
  })
})
