import { Bundle } from './bundle.js'
import { decodeBase64Strict, parseCaCertificate } from './bundle-codec.js'
import { SpiffeError } from './errors.js'
import type { TrustDomain } from './id.js'

/**
 * PEM (RFC 7468) for certificates and X.509 bundles. Reading is lenient about text around blocks
 * (RFC 7468 §2 allows explanatory text) and strict inside them: exact BEGIN/END lines with the
 * same label, no RFC 1421 headers, canonical padded base64 and nothing else.
 */

const CERTIFICATE_LABEL = 'CERTIFICATE'
/** RFC 7468 §3 `label`: printable ASCII except '-', with single inner spaces or hyphens. */
const LABEL = /^[\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*$/
const BEGIN_LINE = /^-----BEGIN ([^-].*?)-----$/
const BASE64_LINE = /^[A-Za-z0-9+/=]+$/
const LINE_LENGTH = 64

function pemError(rule: string): SpiffeError {
  return new SpiffeError('INVALID_PEM', `pem: ${rule}`)
}

/**
 * One PEM block: `-----BEGIN <label>-----`, the DER in base64 lines of 64 characters, the END
 * line, each line ending in `\n`. Throws TypeError for an RFC 7468 invalid label or empty `der`.
 */
export function pemEncode(label: string, der: Uint8Array): string {
  if (!LABEL.test(label)) throw new TypeError(`pem: invalid label ${JSON.stringify(label)}`)
  if (der.length === 0) throw new TypeError('pem: nothing to encode')
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64')
  const lines: string[] = []
  for (let i = 0; i < base64.length; i += LINE_LENGTH) lines.push(base64.slice(i, i + LINE_LENGTH))
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/**
 * The contents of every PEM block in `text`, in order; with `label`, only the blocks with that
 * label (the others are still checked). `[]` when there is no block. Throws `INVALID_PEM` for a
 * malformed BEGIN line, an END line that does not match, a missing END line, headers, an empty
 * block, or anything but canonical base64 inside a block.
 */
export function pemDecodeAll(text: string, label?: string): Uint8Array[] {
  const blocks: Uint8Array[] = []
  let open: { label: string; body: string[] } | undefined
  for (const rawLine of text.split(/\r\n|\r|\n/)) {
    const line = rawLine.replace(/[ \t]+$/, '')
    if (open === undefined) {
      if (line.startsWith('-----BEGIN')) {
        const match = BEGIN_LINE.exec(line)
        if (match === null || !LABEL.test(match[1]!)) throw pemError('malformed BEGIN line')
        open = { label: match[1]!, body: [] }
      } else if (line.startsWith('-----END')) {
        throw pemError('END line without a BEGIN line')
      }
      continue
    }
    if (line.startsWith('-----END')) {
      if (line !== `-----END ${open.label}-----`) throw pemError(`${open.label} block must end with its own END line`)
      const der = decodeBlock(open.label, open.body.join(''))
      if (label === undefined || open.label === label) blocks.push(der)
      open = undefined
    } else if (line.startsWith('-----BEGIN')) {
      throw pemError(`${open.label} block has no END line`)
    } else if (line.includes(':')) {
      throw pemError(`${open.label} block must not have headers`)
    } else if (line !== '' && !BASE64_LINE.test(line)) {
      throw pemError(`${open.label} block must contain only base64`)
    } else {
      open.body.push(line)
    }
  }
  if (open !== undefined) throw pemError(`${open.label} block has no END line`)
  return blocks
}

function decodeBlock(label: string, base64: string): Uint8Array {
  if (base64 === '') throw pemError(`${label} block is empty`)
  const der = decodeBase64Strict(base64)
  if (der === undefined) throw pemError(`${label} block must contain canonical padded base64`)
  return new Uint8Array(der.buffer, der.byteOffset, der.byteLength)
}

/** Concatenated CERTIFICATE blocks, one per DER certificate, in order (`''` for none). */
export function certificatesToPem(ders: readonly Uint8Array[]): string {
  return ders.map((der) => pemEncode(CERTIFICATE_LABEL, der)).join('')
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Parses a PEM X.509 bundle of `trustDomain` (e.g. a bootstrap or upstream bundle file): every
 * CERTIFICATE block, each of which must be a CA certificate; blocks with other labels are skipped
 * and repeated certificates kept once. Empty or blank text gives an empty bundle, as go-spiffe's
 * `x509bundle.Parse` does. Throws `INVALID_BUNDLE` when the PEM is malformed, there is text but no
 * certificate, or a certificate is unparseable or not a CA.
 */
export function parseX509BundlePem(trustDomain: TrustDomain, pemText: string | Uint8Array): Bundle {
  let text: string
  try {
    text = typeof pemText === 'string' ? pemText : UTF8.decode(pemText)
  } catch (cause) {
    throw new SpiffeError('INVALID_BUNDLE', 'x509bundle: PEM text must be UTF-8', { cause })
  }
  if (text.trim() === '') return new Bundle(trustDomain)
  let ders: Uint8Array[]
  try {
    ders = pemDecodeAll(text, CERTIFICATE_LABEL)
  } catch (err) {
    if (!(err instanceof SpiffeError)) throw err
    throw new SpiffeError('INVALID_BUNDLE', `x509bundle: ${err.message}`, { cause: err })
  }
  if (ders.length === 0) throw new SpiffeError('INVALID_BUNDLE', 'x509bundle: no CERTIFICATE block found')
  const x509Authorities: Uint8Array[] = []
  ders.forEach((der, index) => {
    parseCaCertificate(der, `x509bundle: certificate ${index}`)
    if (!x509Authorities.some((known) => Buffer.from(known).equals(der))) x509Authorities.push(der)
  })
  return new Bundle(trustDomain, { x509Authorities })
}

/** The X.509 authorities of a bundle as concatenated CERTIFICATE blocks (`''` when there are none). */
export function encodeX509BundlePem(bundle: Bundle): string {
  return certificatesToPem(bundle.x509Authorities)
}
