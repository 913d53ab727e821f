import { spawnSync } from 'node:child_process'
import { KeyObject, webcrypto } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'
import { pemEncode } from '../pem.js'

/**
 * Test helpers for the X.509 modules: certificates built independently of our minting with
 * @peculiar/x509 (including deliberately broken ones our minting refuses to make), and
 * `openssl verify` on temp files.
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

export type WebKeyKind = 'P-256' | 'P-384' | 'RSA'

/** A WebCrypto key pair with its node:crypto KeyObjects. */
export interface TestKeys {
  readonly kind: WebKeyKind
  readonly web: webcrypto.CryptoKeyPair
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  readonly algorithm: { name: string; hash: string; namedCurve?: string; modulusLength?: number; publicExponent?: Uint8Array }
}

export async function testKeys(kind: WebKeyKind = 'P-256'): Promise<TestKeys> {
  const algorithm =
    kind === 'RSA'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }
      : { name: 'ECDSA', namedCurve: kind, hash: kind === 'P-384' ? 'SHA-384' : 'SHA-256' }
  const web = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  return { kind, web, privateKey: KeyObject.from(web.privateKey), publicKey: KeyObject.from(web.publicKey), algorithm }
}

/** What to put in a test certificate; anything left out is left out of the certificate. */
export interface CertRecipe {
  readonly keys: TestKeys
  /** The signer; absent = self-signed. */
  readonly issuer?: { readonly cert: x509.X509Certificate; readonly keys: TestKeys }
  /** RFC 4514 string; '' = empty subject. */
  readonly subject?: string
  readonly notBefore?: Date
  readonly notAfter?: Date
  /** undefined = no basicConstraints extension. */
  readonly ca?: boolean
  readonly pathLen?: number
  /** @peculiar/x509 KeyUsageFlags (same bit values as ours); undefined = no keyUsage extension. */
  readonly keyUsage?: number
  readonly uris?: readonly string[]
  readonly dnsNames?: readonly string[]
  readonly extraExtensions?: readonly x509.Extension[]
}

/** Builds a certificate with @peculiar/x509's generator. */
export async function buildCert(recipe: CertRecipe): Promise<x509.X509Certificate> {
  const extensions: x509.Extension[] = []
  if (recipe.ca !== undefined) extensions.push(new x509.BasicConstraintsExtension(recipe.ca, recipe.pathLen, true))
  if (recipe.keyUsage !== undefined) extensions.push(new x509.KeyUsagesExtension(recipe.keyUsage, true))
  const names = [
    ...(recipe.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(recipe.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
  ]
  const subject = recipe.subject ?? ''
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, subject === ''))
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(recipe.keys.web.publicKey))
  if (recipe.issuer !== undefined) {
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(recipe.issuer.keys.web.publicKey))
  }
  extensions.push(...(recipe.extraExtensions ?? []))
  const signer = recipe.issuer?.keys ?? recipe.keys
  const now = Date.now()
  return x509.X509CertificateGenerator.create({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex').replace(/^./, '4'),
    subject,
    issuer: recipe.issuer?.cert.subject ?? subject,
    notBefore: recipe.notBefore ?? new Date(now - 60_000),
    notAfter: recipe.notAfter ?? new Date(now + 3_600_000),
    signingAlgorithm: signer.algorithm,
    publicKey: recipe.keys.web.publicKey,
    signingKey: signer.web.privateKey,
    extensions,
  })
}

/** DER bytes of a @peculiar/x509 certificate. */
export function der(cert: x509.X509Certificate): Buffer {
  return Buffer.from(cert.rawData)
}

/** Key usage flags as @peculiar/x509 numbers them (bit n = 1 << n, like ours). */
export const KU = x509.KeyUsageFlags

export { x509 }

/** Result of `openssl verify`: exit status and its output. */
export interface OpensslResult {
  readonly ok: boolean
  readonly output: string
}

/**
 * Runs `openssl verify -x509_strict -CAfile roots [-untrusted intermediates] leaf` on temp files.
 * `-x509_strict` adds RFC 5280 profile checks (AKI/SKI presence, critical SAN with an empty
 * subject, DER rules).
 */
export function opensslVerify(
  rootsDer: readonly Uint8Array[],
  intermediatesDer: readonly Uint8Array[],
  leafDer: Uint8Array,
  extraArgs: readonly string[] = [],
): OpensslResult {
  const dir = mkdtempSync(join(tmpdir(), 'steeple-x509-'))
  try {
    const pemFile = (name: string, certs: readonly Uint8Array[]): string => {
      const path = join(dir, name)
      writeFileSync(path, certs.map((c) => pemEncode('CERTIFICATE', c)).join(''))
      return path
    }
    const args = ['verify', '-x509_strict', ...extraArgs, '-CAfile', pemFile('roots.pem', rootsDer)]
    if (intermediatesDer.length > 0) args.push('-untrusted', pemFile('intermediates.pem', intermediatesDer))
    args.push(pemFile('leaf.pem', [leafDer]))
    const run = spawnSync('openssl', args, { encoding: 'utf8' })
    if (run.error !== undefined) throw run.error
    return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The go_spiffe_error of a vector without Go's `x509: ` package prefix, as our messages word it. */
export function goErrorAsOurs(goError: string): string {
  return goError.replace(/\bx509: /g, '')
}

export { thrown } from './thrown.js'
