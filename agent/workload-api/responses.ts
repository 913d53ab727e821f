import type { X509BundlesResponse } from '../../proto/generated/X509BundlesResponse.js'
import type { JWTBundlesResponse } from '../../proto/generated/JWTBundlesResponse.js'
import type { X509SVIDResponse } from '../../proto/generated/X509SVIDResponse.js'
import { encodeJwtBundleJwks, type Bundle } from '../../spiffe/index.js'
import type { CachedX509Svid, WorkloadIdentities } from '../manager/index.js'

/**
 * Workload API messages built from what the identity cache holds for one caller. Every message is
 * the complete state (WAPI-05, WAPI-09), map keys are trust domain SPIFFE IDs (INTEROP-02) written
 * in sorted order so the same state always serializes to the same bytes.
 */

/** Keeps the first of each non-empty hint (WAPI-14: hints are unique within a response). */
export function firstPerHint<T extends { readonly hint: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>()
  return items.filter((item) => {
    if (item.hint === '') return true
    if (seen.has(item.hint)) return false
    seen.add(item.hint)
    return true
  })
}

/** The trust domains a caller may see: its own first, then its entries' federated ones (own excluded). */
export function entitledBundles(identities: WorkloadIdentities): Bundle[] {
  const own = identities.bundle
  const federated = identities.federatedBundles.filter((b) => !b.trustDomain.equals(own.trustDomain))
  return [own, ...federated]
}

function sortedMap(bundles: readonly Bundle[], value: (bundle: Bundle) => Buffer): Record<string, Buffer> {
  const out: Record<string, Buffer> = {}
  for (const bundle of [...bundles].sort((a, b) => (a.trustDomain.name < b.trustDomain.name ? -1 : 1))) {
    out[bundle.trustDomain.idString()] = value(bundle)
  }
  return out
}

/**
 * The `X509SVIDResponse` for a caller (WX-02..WX-08): one `X509SVID` per SVID in the cache's order
 * (the first is the default identity, WAPI-13), each with the chain as concatenated DER, the PKCS#8
 * key and the own trust domain's CAs; federated bundles with X.509 authorities keyed `spiffe://td`.
 * Undefined when nothing valid can be sent: no SVID yet, or no own X.509 authority (WAPI-11).
 */
export function x509SvidResponse(identities: WorkloadIdentities): { message: X509SVIDResponse; svids: CachedX509Svid[] } | undefined {
  const own = identities.bundle
  if (own.x509Authorities.length === 0) return undefined
  const svids = firstPerHint(identities.svids)
  if (svids.length === 0) return undefined
  const bundleDer = own.x509AuthoritiesDer()
  const federated = entitledBundles(identities)
    .slice(1)
    .filter((b) => b.x509Authorities.length > 0)
  return {
    svids,
    message: {
      svids: svids.map((svid) => ({
        spiffe_id: svid.spiffeId.toString(),
        x509_svid: Buffer.concat(svid.chainDer),
        x509_svid_key: Buffer.from(svid.privateKeyDer),
        bundle: bundleDer,
        hint: svid.hint,
      })),
      crl: [],
      federated_bundles: sortedMap(federated, (b) => b.x509AuthoritiesDer()),
    },
  }
}

/**
 * The `X509BundlesResponse` (WX-13): the own trust domain always, federated ones that have X.509
 * authorities. Undefined when the own bundle has no X.509 authority yet.
 */
export function x509BundlesResponse(identities: WorkloadIdentities): X509BundlesResponse | undefined {
  const [own, ...federated] = entitledBundles(identities)
  if (own!.x509Authorities.length === 0) return undefined
  const bundles = [own!, ...federated.filter((b) => b.x509Authorities.length > 0)]
  return { crl: [], bundles: sortedMap(bundles, (b) => b.x509AuthoritiesDer()) }
}

/**
 * The `JWTBundlesResponse` (WJ-07, WJ-08): JWK Sets of JWT-SVID keys only, the own trust domain
 * always (possibly `{"keys":[]}`), federated ones that have JWT authorities.
 */
export function jwtBundlesResponse(identities: WorkloadIdentities): JWTBundlesResponse {
  const [own, ...federated] = entitledBundles(identities)
  const bundles = [own!, ...federated.filter((b) => b.jwtAuthorities.size > 0)]
  return { bundles: sortedMap(bundles, (b) => Buffer.from(encodeJwtBundleJwks(b), 'utf8')) }
}
