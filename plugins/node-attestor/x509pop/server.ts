import { randomBytes } from 'node:crypto'
import { readFile as fsReadFile } from 'node:fs/promises'
import { ConfigError, InvalidArgumentError, PermissionDeniedError } from '../../../common/errors.js'
import type { Logger } from '../../../common/logger.js'
import * as s from '../../../common/schema.js'
import {
  SpiffeError,
  pemDecodeAll,
  selectorFromParts,
  sortSelectors,
  spiffeIdFromPath,
  validatePath,
  type CertificateFields,
  type Selector,
  type SpiffeId,
  type TrustDomain,
} from '../../../spiffe/index.js'
import { AGENT_ID_PATH_PREFIX, type AttestContext, type AttestResult, type Challenger, type ServerNodeAttestor } from '../types.js'
import { readCertificate, subjectCommonName, verifyChain } from './chain.js'
import {
  NONCE_BYTES,
  SUPPORTED_KEYS,
  X509POP_PLUGIN_NAME,
  certificateFingerprint,
  decodeAnswer,
  decodePayload,
  encodeChallenge,
  signatureSchemeFor,
  signedMessage,
  verifyChallengeSignature,
} from './protocol.js'

const CONFIG_PATH = `plugins.NodeAttestor.${X509POP_PLUGIN_NAME}`

/** Default `agent_path_template`: `spiffe://<td>/steeple/agent/x509pop/<fingerprint>`. */
export const DEFAULT_AGENT_PATH_TEMPLATE = '/x509pop/{{fingerprint}}'

const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g
const PLACEHOLDERS = ['fingerprint', 'subject_cn'] as const
type Placeholder = (typeof PLACEHOLDERS)[number]

/** The broken rule of an `agent_path_template`, or undefined when it is usable. */
function templateProblem(template: string): string | undefined {
  // Without it the template would run on from the prefix: /steeple/agentx509pop/….
  if (!template.startsWith('/')) return 'must start with "/"'
  let found = 0
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(match[1]!)) {
      return `uses the unknown placeholder {{${match[1]}}} (known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')})`
    }
    found++
  }
  if (found === 0) return `must contain {{fingerprint}} or {{subject_cn}}, or every agent would get the same ID`
  const sample = template.replace(PLACEHOLDER, 'x')
  if (sample.includes('{') || sample.includes('}')) return 'must use placeholders of the form {{name}} only'
  try {
    validatePath(AGENT_ID_PATH_PREFIX + sample)
  } catch (err) {
    return `must give a valid SPIFFE ID path after ${AGENT_ID_PATH_PREFIX}: ${(err as Error).message.replace(/^spiffeid: /, '')}`
  }
  return undefined
}

/** Server-side config of `x509pop`. */
export const x509popServerConfigSchema = s.object({
  /** PEM file of the CA certificates agent certificates must chain to. */
  ca_bundle_path: s.string({ nonEmpty: true }),
  /** Agent ID path below `/steeple/agent`; placeholders `{{fingerprint}}`, `{{subject_cn}}`. */
  agent_path_template: s.string({ default: DEFAULT_AGENT_PATH_TEMPLATE, check: templateProblem }),
})

export type X509PopServerConfig = s.Infer<typeof x509popServerConfigSchema>

/**
 * The CA certificates of a PEM bundle file, each of which must be a CA certificate.
 * @throws ConfigError naming `ca_bundle_path` when the file cannot be read or holds no usable CA.
 */
export async function loadCaBundle(
  path: string,
  readFile: (path: string) => Promise<string> = (p) => fsReadFile(p, 'utf8'),
): Promise<CertificateFields[]> {
  const key = `${CONFIG_PATH}.ca_bundle_path`
  let text: string
  try {
    text = await readFile(path)
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  let ders: Uint8Array[]
  try {
    ders = pemDecodeAll(text, 'CERTIFICATE')
  } catch (err) {
    throw new ConfigError(`${key}: ${path} is not valid PEM: ${(err as Error).message.replace(/^pem: /, '')}`, { cause: err })
  }
  if (ders.length === 0) throw new ConfigError(`${key}: ${path} holds no PEM certificate`)
  return ders.map((der, i) => {
    let cert: CertificateFields
    try {
      cert = readCertificate(der, `certificate ${i}`)
    } catch (err) {
      throw new ConfigError(`${key}: ${path}: ${(err as Error).message}`, { cause: err })
    }
    if (cert.basicConstraints?.ca !== true) {
      throw new ConfigError(`${key}: ${path}: certificate ${i} must be a CA certificate (basic constraints cA=true)`)
    }
    return cert
  })
}

/**
 * Server half of `x509pop`: checks the agent's certificate chain against the configured CAs,
 * then has the agent sign a fresh nonce with the certificate's key. Selectors as SPIRE names them:
 * `subject:cn:<CN>` (when there is a CN), `ca:fingerprint:<SHA-1 hex>` for every certificate above
 * the agent's in each verified chain, `serialnumber:<hex>`, and `san:<key>:<value>` for each URI SAN
 * `x509pop://<trust domain>/<key>/<value>`.
 */
export class X509PopServerAttestor implements ServerNodeAttestor {
  readonly #roots: readonly CertificateFields[]
  readonly #template: string
  readonly #log: Logger | undefined

  /** `roots` from {@link loadCaBundle}; `template` checked by the config schema. */
  constructor(roots: readonly CertificateFields[], template: string = DEFAULT_AGENT_PATH_TEMPLATE, log?: Logger) {
    const problem = templateProblem(template)
    if (problem !== undefined) throw new TypeError(`agent_path_template ${problem}`)
    this.#roots = roots
    this.#template = template
    this.#log = log
  }

  /**
   * @throws InvalidArgumentError for a malformed payload or answer, an unsupported key type, or a
   *   certificate whose facts cannot form the agent ID; PermissionDeniedError when the chain does
   *   not verify at `ctx.now` or the answer is not a signature by the agent certificate's key.
   */
  async attest(payload: Uint8Array, challenge: Challenger, ctx: AttestContext): Promise<AttestResult> {
    const [leafDer, ...intermediateDers] = decodePayload(payload)
    const leaf = readCertificate(leafDer!, 'agent certificate')
    const intermediates = intermediateDers.map((der, i) => readCertificate(der, `intermediate certificate ${i + 1}`))
    const publicKey = leaf.x509.publicKey
    if (signatureSchemeFor(publicKey) === undefined) throw new InvalidArgumentError(`agent certificate key must be ${SUPPORTED_KEYS}`)
    const chains = verifyChain(leaf, intermediates, this.#roots, ctx.now)

    // Everything the result needs is settled before the agent is asked to sign anything.
    const facts = certificateFacts(leaf, ctx.trustDomain)
    const agentId = this.#agentId(ctx.trustDomain, facts)
    const selectors = this.#selectors(leaf, chains, facts)

    const serverNonce = randomBytes(NONCE_BYTES)
    const answer = decodeAnswer(await challenge(encodeChallenge(serverNonce)))
    if (!verifyChallengeSignature(publicKey, signedMessage(serverNonce, answer.nonce), answer.signature)) {
      throw new PermissionDeniedError("proof of possession failed: the signature over the challenge does not verify with the agent certificate's key")
    }
    return { agentId, selectors, canReattest: true }
  }

  #agentId(trustDomain: TrustDomain, facts: CertificateFacts): SpiffeId {
    const path = this.#template.replace(PLACEHOLDER, (_match, name: Placeholder) => {
      const value = name === 'fingerprint' ? facts.fingerprint : facts.commonName
      if (value === undefined || value === '') {
        throw new InvalidArgumentError('agent certificate has no subject common name, which agent_path_template needs')
      }
      if (value.includes('/')) throw new InvalidArgumentError(`agent certificate ${name} must not contain "/" to form the agent ID`)
      return value
    })
    try {
      return spiffeIdFromPath(trustDomain, AGENT_ID_PATH_PREFIX + path)
    } catch (err) {
      if (!(err instanceof SpiffeError)) throw err
      throw new InvalidArgumentError(`agent certificate cannot form the agent ID: ${err.message.replace(/^spiffeid: /, '')}`, { cause: err })
    }
  }

  #selectors(leaf: CertificateFields, chains: readonly CertificateFields[][], facts: CertificateFacts): Selector[] {
    const values: string[] = []
    if (facts.commonName !== undefined && facts.commonName !== '') values.push(`subject:cn:${facts.commonName}`)
    for (const chain of chains) {
      for (const cert of chain.slice(1)) values.push(`ca:fingerprint:${certificateFingerprint(cert.der)}`)
    }
    values.push(`serialnumber:${serialHex(leaf.serial)}`)
    for (const [key, value] of facts.sanSelectors) values.push(`san:${key}:${value}`)
    const selectors: Selector[] = []
    for (const value of values) {
      try {
        selectors.push(selectorFromParts(X509POP_PLUGIN_NAME, value))
      } catch (err) {
        // A fact that cannot be a selector (too long) only means fewer entries match this node.
        this.#log?.warn('Certificate fact skipped as selector', { reason: (err as Error).message })
      }
    }
    return sortSelectors(selectors)
  }
}

interface CertificateFacts {
  readonly fingerprint: string
  readonly commonName: string | undefined
  /** key → value from URI SANs `x509pop://<td>/<key>/<value>` (the last one wins for a repeated key, as in SPIRE). */
  readonly sanSelectors: ReadonlyMap<string, string>
}

function certificateFacts(leaf: CertificateFields, trustDomain: TrustDomain): CertificateFacts {
  const prefix = `x509pop://${trustDomain.name}/`
  const sanSelectors = new Map<string, string>()
  for (const uri of leaf.uris) {
    if (!uri.startsWith(prefix)) continue
    let path = uri.slice(prefix.length).replace(/[?#].*$/s, '')
    try {
      path = decodeURIComponent(path)
    } catch {
      continue
    }
    path = path.replace(/^\/+|\/+$/g, '')
    const slash = path.indexOf('/')
    if (slash <= 0 || slash === path.length - 1) continue
    sanSelectors.set(path.slice(0, slash), path.slice(slash + 1))
  }
  return { fingerprint: certificateFingerprint(leaf.der), commonName: subjectCommonName(leaf), sanSelectors }
}

/** Lowercase hex with an even number of digits (SPIRE's `SerialNumberHex`). */
function serialHex(serial: bigint): string {
  const hex = serial.toString(16)
  return hex.length % 2 === 1 ? `0${hex}` : hex
}
