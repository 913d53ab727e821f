import { join, resolve } from 'node:path'
import { Command } from 'commander'
import {
  certificatesToPem,
  decodeCertificate,
  encodeJwtBundleJwks,
  parseJwtSvidInsecure,
  parseSpiffeId,
  pemEncode,
  type Bundle,
  type BundleSet,
  type SpiffeId,
} from '../../spiffe/index.js'
import type { WorkloadJwtSvid, X509Context } from '../../workloadapi/index.js'
import {
  CliError,
  action,
  block,
  collect,
  emit,
  formatTime,
  makeDirectory,
  plural,
  withClient,
  withCommonOptions,
  writeFileAtomic,
  type CommonOptions,
} from './output.js'

/** An X509-SVID as the commands show it (never with its key). */
export interface X509SvidJson {
  spiffe_id: string
  hint: string
  not_before: string
  not_after: string
  /** Leaf first, then intermediates, PEM. */
  x509_svid: string
  /** CAs of the SVID's own trust domain, PEM. */
  bundle: string
}

/** The X.509 context (SVIDs and bundles) as JSON. */
export function x509ContextJson(context: X509Context): { svids: X509SvidJson[]; federated_bundles: Record<string, string> } {
  const svids = context.svids.map((svid) => {
    const leaf = decodeCertificate(svid.certificatesDer[0]!)
    const own = context.bundles.get(svid.id.trustDomain)
    return {
      spiffe_id: svid.id.toString(),
      hint: svid.hint,
      not_before: formatTime(leaf.notBefore),
      not_after: formatTime(leaf.notAfter),
      x509_svid: certificatesToPem(svid.certificatesDer),
      bundle: own === undefined ? '' : certificatesToPem(own.x509Authorities),
    }
  })
  const ownDomains = new Set(context.svids.map((svid) => svid.id.trustDomain.name))
  const federated: Record<string, string> = {}
  for (const bundle of federatedOf(context.bundles, ownDomains)) federated[bundle.trustDomain.idString()] = certificatesToPem(bundle.x509Authorities)
  return { svids, federated_bundles: federated }
}

function federatedOf(bundles: BundleSet, own: ReadonlySet<string>): Bundle[] {
  return [...bundles].filter((b) => !own.has(b.trustDomain.name)).sort((a, b) => (a.trustDomain.name < b.trustDomain.name ? -1 : 1))
}

/** The pretty form of an X.509 context: one block per SVID, then the federated trust domains. */
export function x509ContextText(context: X509Context): string {
  const json = x509ContextJson(context)
  const blocks = context.svids.map((svid, i) => {
    const own = context.bundles.get(svid.id.trustDomain)
    const cas = (own?.x509Authorities ?? []).map((der) => decodeCertificate(der))
    return block([
      ['SPIFFE ID', json.svids[i]!.spiffe_id],
      ['Hint', svid.hint === '' ? undefined : svid.hint],
      ['Valid from', json.svids[i]!.not_before],
      ['Valid until', json.svids[i]!.not_after],
      ['Intermediates', String(svid.certificatesDer.length - 1)],
      ...cas.map((ca, n): [string, string] => [`CA #${n + 1} valid until`, formatTime(ca.notAfter)]),
    ])
  })
  const federated = Object.entries(json.federated_bundles).map(([td, pem]) => `${td} (${plural(pem.split('BEGIN CERTIFICATE').length - 1, 'CA')})`)
  const tail = federated.length === 0 ? '' : `\nFederated with: ${federated.join(', ')}\n`
  return blocks.join('\n') + tail
}

/** The files `--write` makes for SVID `i`: chain, key (0600), own bundle, federated bundles. */
async function writeX509Context(dir: string, context: X509Context): Promise<string[]> {
  await makeDirectory('--write', dir)
  const written: string[] = []
  const put = async (name: string, data: string, mode: number): Promise<void> => {
    const path = join(dir, name)
    await writeFileAtomic(path, data, mode)
    written.push(path)
  }
  const ownDomains = new Set(context.svids.map((svid) => svid.id.trustDomain.name))
  for (const [i, svid] of context.svids.entries()) {
    await put(`svid.${i}.pem`, certificatesToPem(svid.certificatesDer), 0o644)
    await put(`svid.${i}.key`, pemEncode('PRIVATE KEY', svid.privateKeyDer), 0o600)
    await put(`bundle.${i}.pem`, certificatesToPem(context.bundles.get(svid.id.trustDomain)?.x509Authorities ?? []), 0o644)
    for (const [j, bundle] of federatedOf(context.bundles, ownDomains).entries()) {
      await put(`federated_bundle.${i}.${j}.pem`, certificatesToPem(bundle.x509Authorities), 0o644)
    }
  }
  return written
}

/** A JWT-SVID as the commands show it. */
export function jwtSvidJson(svid: WorkloadJwtSvid): { spiffe_id: string; hint: string; audience: readonly string[]; expires_at: string; svid: string } {
  const parsed = parseJwtSvidInsecure(svid.token)
  return {
    spiffe_id: svid.id.toString(),
    hint: svid.hint,
    audience: parsed.audience,
    expires_at: formatTime(parsed.expiresAt),
    svid: svid.token,
  }
}

/** Bundles of both kinds by trust domain, as JSON: PEM CAs and the JWK Set of JWT keys. */
function bundlesJson(x509: BundleSet, jwt: BundleSet): { trust_domain: string; x509_authorities: string; jwt_authorities: unknown }[] {
  const names = [...new Set([...[...x509].map((b) => b.trustDomain.name), ...[...jwt].map((b) => b.trustDomain.name)])].sort()
  return names.map((name) => {
    const x = [...x509].find((b) => b.trustDomain.name === name)
    const j = [...jwt].find((b) => b.trustDomain.name === name)
    return {
      trust_domain: name,
      x509_authorities: x === undefined ? '' : certificatesToPem(x.x509Authorities),
      jwt_authorities: JSON.parse(j === undefined ? '{"keys":[]}' : encodeJwtBundleJwks(j)) as unknown,
    }
  })
}

function spiffeIdFlag(value: string | undefined): SpiffeId | undefined {
  if (value === undefined) return undefined
  try {
    return parseSpiffeId(value)
  } catch (err) {
    throw new CliError(`--spiffe-id: ${(err as Error).message}`, { cause: err })
  }
}

/** `api fetch x509|jwt|bundles`: one answer from the Workload API, printed or written to files. */
export function fetchCommand(): Command {
  const fetch = new Command('fetch').description('fetch SVIDs or bundles from the Workload API once')

  withCommonOptions(fetch.command('x509').description('fetch the X509-SVIDs of this process (and their bundles)'))
    .option('--write <dir>', 'write svid.N.pem, svid.N.key (0600), bundle.N.pem (and federated_bundle.N.M.pem) into <dir>')
    .action(
      action(async (opts: CommonOptions & { write?: string }) => {
        const started = Date.now()
        const context = await withClient(opts, (client, signal) => client.fetchX509Context({ signal }))
        const elapsedMs = Date.now() - started
        const written = opts.write === undefined ? [] : await writeX509Context(resolve(opts.write), context)
        emit(opts.output, { ...x509ContextJson(context), ...(opts.write !== undefined && { written }) }, () => {
          const head = `Received ${plural(context.svids.length, 'SVID')} after ${elapsedMs} ms\n\n`
          const files = written.length === 0 ? '' : '\n' + written.map((path) => `Wrote ${path}`).join('\n') + '\n'
          return head + x509ContextText(context) + files
        })
      }),
    )

  withCommonOptions(fetch.command('jwt').description('fetch JWT-SVIDs of this process for an audience'))
    .option('--audience <aud>', 'audience to put in the token; repeatable (required)', collect)
    .option('--spiffe-id <id>', 'only this identity of the process')
    .action(
      action(async (opts: CommonOptions & { audience?: string[]; spiffeId?: string }) => {
        if (opts.audience === undefined || opts.audience.length === 0) throw new CliError('--audience: is required')
        if (opts.audience.includes('')) throw new CliError('--audience: must not be empty')
        const spiffeId = spiffeIdFlag(opts.spiffeId)
        const audience = opts.audience
        const svids = await withClient(opts, (client, signal) =>
          client.fetchJwtSvids({ audience, ...(spiffeId !== undefined && { spiffeId }), signal }),
        )
        const json = svids.map(jwtSvidJson)
        emit(opts.output, { svids: json }, () =>
          json
            .map((svid) =>
              block([
                ['SPIFFE ID', svid.spiffe_id],
                ['Hint', svid.hint === '' ? undefined : svid.hint],
                ['Audience', svid.audience.join(', ')],
                ['Expires at', svid.expires_at],
                ['Token', svid.svid],
              ]),
            )
            .join('\n'),
        )
      }),
    )

  withCommonOptions(fetch.command('bundles').description('fetch the X.509 and JWT bundles this process may use'))
    .action(
      action(async (opts: CommonOptions) => {
        const [x509, jwt] = await withClient(opts, (client, signal) =>
          Promise.all([client.fetchX509Bundles({ signal }), client.fetchJwtBundles({ signal })]),
        )
        const json = bundlesJson(x509, jwt)
        emit(opts.output, { bundles: json }, () =>
          json
            .map((b) => {
              const kids = (b.jwt_authorities as { keys: { kid: string }[] }).keys.map((k) => k.kid)
              const cas = b.x509_authorities.split('BEGIN CERTIFICATE').length - 1
              return (
                block([
                  ['Trust domain', b.trust_domain],
                  ['X.509 authorities', String(cas)],
                  ['JWT authorities', kids.length === 0 ? 'none' : kids.join(', ')],
                ]) + b.x509_authorities
              )
            })
            .join('\n'),
        )
      }),
    )
  return fetch
}
