/**
 * A strict JSON reader for documents where a lenient parse is a trust problem: numbers keep their
 * source text (JSON.parse loses precision past 2^53, and a bundle's sequence number is a uint64),
 * and a repeated member name is an error (JSON.parse keeps the last one, as Go does, so two readers
 * could see different keys in one bundle; bundle maps must reject duplicates, SPIFFE_Trust_Domain_and_Bundle.md §6.3).
 */

/** A JSON number as its source text. */
export class JsonNumber {
  constructor(readonly text: string) {}
}
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject
export type JsonObject = Map<string, JsonValue>

export class JsonSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly offset: number,
    /** Member names leading to the object that holds a duplicate. */
    readonly path: readonly string[] = [],
    readonly duplicateName?: string,
  ) {
    super(message)
    this.name = 'JsonSyntaxError'
  }
}

const MAX_JSON_DEPTH = 32
const WHITESPACE = /[ \t\n\r]*/y
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y
const PLAIN_CHARS = /[^"\\\u0000-\u001f]*/y
const HEX4 = /^[0-9a-fA-F]{4}$/
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t',
}

class JsonReader {
  readonly #text: string
  readonly #path: string[] = []
  #pos = 0

  constructor(text: string) {
    this.#text = text
  }

  document(): JsonValue {
    this.#skipWhitespace()
    const value = this.#value(0)
    this.#skipWhitespace()
    if (this.#pos !== this.#text.length) throw this.#fail('unexpected data after the top-level value')
    return value
  }

  #value(depth: number): JsonValue {
    switch (this.#text[this.#pos]) {
      case '{': return this.#object(depth + 1)
      case '[': return this.#array(depth + 1)
      case '"': return this.#string()
      case 't': return this.#literal('true', true)
      case 'f': return this.#literal('false', false)
      case 'n': return this.#literal('null', null)
      default: return this.#number()
    }
  }

  #object(depth: number): JsonObject {
    if (depth > MAX_JSON_DEPTH) throw this.#fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`)
    this.#pos++
    const members: JsonObject = new Map()
    this.#skipWhitespace()
    if (this.#text[this.#pos] === '}') {
      this.#pos++
      return members
    }
    for (;;) {
      if (this.#text[this.#pos] !== '"') throw this.#fail('expected a member name')
      const start = this.#pos
      const name = this.#string()
      if (members.has(name)) {
        throw new JsonSyntaxError(`duplicate member name ${JSON.stringify(name)}`, start, [...this.#path], name)
      }
      this.#skipWhitespace()
      this.#expect(':')
      this.#skipWhitespace()
      this.#path.push(name)
      members.set(name, this.#value(depth))
      this.#path.pop()
      if (this.#endOfList('}')) return members
    }
  }

  #array(depth: number): JsonValue[] {
    if (depth > MAX_JSON_DEPTH) throw this.#fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`)
    this.#pos++
    const items: JsonValue[] = []
    this.#skipWhitespace()
    if (this.#text[this.#pos] === ']') {
      this.#pos++
      return items
    }
    for (;;) {
      items.push(this.#value(depth))
      if (this.#endOfList(']')) return items
    }
  }

  /** After a list item: true at the closing bracket, false after a comma. */
  #endOfList(close: string): boolean {
    this.#skipWhitespace()
    const c = this.#text[this.#pos]
    this.#pos++
    if (c === close) return true
    if (c !== ',') throw this.#fail(`expected ',' or '${close}'`, this.#pos - 1)
    this.#skipWhitespace()
    return false
  }

  #string(): string {
    this.#pos++
    let out = ''
    for (;;) {
      PLAIN_CHARS.lastIndex = this.#pos
      PLAIN_CHARS.exec(this.#text)
      out += this.#text.slice(this.#pos, PLAIN_CHARS.lastIndex)
      this.#pos = PLAIN_CHARS.lastIndex
      const c = this.#text[this.#pos]
      if (c === '"') {
        this.#pos++
        return out
      }
      if (c !== '\\') throw this.#fail(c === undefined ? 'unterminated string' : 'control character in string')
      const escape = this.#text[this.#pos + 1] ?? ''
      if (escape === 'u') {
        const hex = this.#text.slice(this.#pos + 2, this.#pos + 6)
        if (!HEX4.test(hex)) throw this.#fail('invalid \\u escape')
        out += String.fromCharCode(Number.parseInt(hex, 16))
        this.#pos += 6
      } else if (Object.hasOwn(SIMPLE_ESCAPES, escape)) {
        out += SIMPLE_ESCAPES[escape]
        this.#pos += 2
      } else {
        throw this.#fail('invalid escape in string')
      }
    }
  }

  #number(): JsonNumber {
    NUMBER.lastIndex = this.#pos
    const match = NUMBER.exec(this.#text)
    if (match === null || match[0] === '' || match[0] === '-') throw this.#fail('unexpected character')
    this.#pos = NUMBER.lastIndex
    return new JsonNumber(match[0])
  }

  #literal<T>(word: string, value: T): T {
    if (!this.#text.startsWith(word, this.#pos)) throw this.#fail('unexpected character')
    this.#pos += word.length
    return value
  }

  #expect(c: string): void {
    if (this.#text[this.#pos] !== c) throw this.#fail(`expected '${c}'`)
    this.#pos++
  }

  #skipWhitespace(): void {
    WHITESPACE.lastIndex = this.#pos
    WHITESPACE.exec(this.#text)
    this.#pos = WHITESPACE.lastIndex
  }

  #fail(message: string, offset = this.#pos): JsonSyntaxError {
    return new JsonSyntaxError(message, offset)
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

export function readJson(input: string | Uint8Array): JsonValue {
  let text: string
  if (typeof input === 'string') {
    text = input
  } else {
    try {
      text = UTF8.decode(input)
    } catch {
      throw new JsonSyntaxError('document is not valid UTF-8', 0)
    }
  }
  return new JsonReader(text).document()
}

