import { X509Certificate, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto'
import { readFile as fsReadFile } from 'node:fs/promises'
import { ConfigError, InvalidArgumentError } from '../../../common/errors.js'
import * as s from '../../../common/schema.js'
import { pemDecodeAll } from '../../../spiffe/index.js'
import type { AgentNodeAttestor, AgentNodeAttestorPlugin } from '../types.js'
import {
  MAX_CHAIN_CERTIFICATES,
  NONCE_BYTES,
  SUPPORTED_KEYS,
  X509POP_PLUGIN_NAME,
  decodeChallenge,
  encodeAnswer,
  encodePayload,
  signChallenge,
  signatureSchemeFor,
  signedMessage,
} from './protocol.js'

const CONFIG_PATH = `plugins.NodeAttestor.${X509POP_PLUGIN_NAME}`

/** Agent-side config of `x509pop`. */
export const x509popAgentConfigSchema = s.object({
  /** PEM: the agent certificate first, then any intermediates. */
  certificate_path: s.string({ nonEmpty: true }),
  /** PEM private key of the agent certificate (PKCS#8, PKCS#1 or SEC 1). */
  private_key_path: s.string({ nonEmpty: true }),
  /** PEM intermediates appended after those of certificate_path. */
  intermediates_path: s.optional(s.string({ nonEmpty: true })),
})

export type X509PopAgentConfig = s.Infer<typeof x509popAgentConfigSchema>

/** How the agent half reads files; tests may pass their own. */
export interface X509PopAgentHooks {
  readonly readFile: (path: string) => Promise<string>
}

const defaultHooks: X509PopAgentHooks = { readFile: (path) => fsReadFile(path, 'utf8') }

/** The agent's evidence: its certificate chain (agent certificate first) and private key. */
export interface X509PopCredentials {
  readonly chainDer: readonly Uint8Array[]
  readonly privateKey: KeyObject
}

/**
 * Agent half of `x509pop`: sends the certificate chain, then signs the server's nonce with the
 * certificate's key. Files are read again for every attestation, so renewed certificates are used.
 */
export class X509PopAgentPlugin implements AgentNodeAttestorPlugin {
  readonly #config: X509PopAgentConfig
  readonly #hooks: X509PopAgentHooks

  constructor(config: X509PopAgentConfig, hooks: X509PopAgentHooks = defaultHooks) {
    this.#config = config
    this.#hooks = hooks
  }

  /** @throws ConfigError naming the key whose file cannot be read or does not fit the others. */
  async begin(): Promise<AgentNodeAttestor> {
    return new X509PopAgentSession(await this.loadCredentials())
  }

  /** Reads and cross-checks the configured files (also used at start-up to fail early). */
  async loadCredentials(): Promise<X509PopCredentials> {
    const { certificate_path, private_key_path, intermediates_path } = this.#config
    const chainDer = await this.#readCertificates('certificate_path', certificate_path)
    if (intermediates_path !== undefined) chainDer.push(...(await this.#readCertificates('intermediates_path', intermediates_path)))
    if (chainDer.length > MAX_CHAIN_CERTIFICATES) {
      throw new ConfigError(`${CONFIG_PATH}: at most ${MAX_CHAIN_CERTIFICATES} certificates may be sent, found ${chainDer.length}`)
    }
    let leaf: X509Certificate
    try {
      leaf = new X509Certificate(chainDer[0]!)
    } catch (cause) {
      throw new ConfigError(`${CONFIG_PATH}.certificate_path: ${certificate_path}: the first certificate cannot be parsed`, { cause })
    }
    let privateKey: KeyObject
    try {
      privateKey = createPrivateKey(await this.#read('private_key_path', private_key_path))
    } catch (cause) {
      if (cause instanceof ConfigError) throw cause
      throw new ConfigError(`${CONFIG_PATH}.private_key_path: ${private_key_path} is not a PEM private key`)
    }
    if (signatureSchemeFor(privateKey) === undefined) {
      throw new ConfigError(`${CONFIG_PATH}.private_key_path: the key must be ${SUPPORTED_KEYS}`)
    }
    if (!leaf.checkPrivateKey(privateKey)) {
      throw new ConfigError(`${CONFIG_PATH}.private_key_path: the key does not belong to the first certificate of certificate_path`)
    }
    return { chainDer, privateKey }
  }

  async #read(key: string, path: string): Promise<string> {
    try {
      return await this.#hooks.readFile(path)
    } catch (err) {
      throw new ConfigError(`${CONFIG_PATH}.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
  }

  async #readCertificates(key: string, path: string): Promise<Uint8Array[]> {
    const text = await this.#read(key, path)
    let ders: Uint8Array[]
    try {
      ders = pemDecodeAll(text, 'CERTIFICATE')
    } catch (err) {
      throw new ConfigError(`${CONFIG_PATH}.${key}: ${path} is not valid PEM: ${(err as Error).message.replace(/^pem: /, '')}`)
    }
    if (ders.length === 0) throw new ConfigError(`${CONFIG_PATH}.${key}: ${path} holds no PEM certificate`)
    return ders
  }
}

/** One attestation: the chain as payload, at most one signed answer. */
export class X509PopAgentSession implements AgentNodeAttestor {
  readonly #credentials: X509PopCredentials
  #answered = false

  constructor(credentials: X509PopCredentials) {
    this.#credentials = credentials
  }

  async payload(): Promise<Uint8Array> {
    return encodePayload(this.#credentials.chainDer)
  }

  /** @throws InvalidArgumentError for a malformed challenge or a second one in the same attestation. */
  async answer(challenge: Uint8Array): Promise<Uint8Array> {
    // One proof per attestation: a server asking again gets no further signatures from this key.
    if (this.#answered) throw new InvalidArgumentError('x509pop answers one challenge per attestation')
    const serverNonce = decodeChallenge(challenge)
    this.#answered = true
    const nonce = randomBytes(NONCE_BYTES)
    const signature = signChallenge(this.#credentials.privateKey, signedMessage(serverNonce, nonce))
    return encodeAnswer({ nonce, signature })
  }
}
