import { createHash } from 'node:crypto'
import type { Bundle as BundleMessage } from '../../../proto/generated/steeple/common/v1/Bundle.js'
import type { RegistrationEntry } from '../../../plugins/data-store/types.js'
import type { Bundle } from '../../../spiffe/index.js'
import type { ServerCore } from '../../core.js'
import { bundleToMessage } from '../convert.js'

/**
 * The bundles an agent needs: its own trust domain's first, then the federated bundles its
 * entries federate with (sorted by trust domain; ones the server does not hold are left out).
 */
export async function bundlesForEntries(core: ServerCore, entries: readonly RegistrationEntry[]): Promise<Bundle[]> {
  const own = core.ownBundle.current()
  const names = new Map<string, RegistrationEntry['federatesWith'][number]>()
  for (const entry of entries) for (const td of entry.federatesWith) if (!td.equals(own.trustDomain)) names.set(td.name, td)
  const federated: Bundle[] = []
  for (const name of [...names.keys()].sort()) {
    const bundle = await core.store.bundles.get(names.get(name)!)
    if (bundle !== undefined) federated.push(bundle)
  }
  return [own, ...federated]
}

/** Bundles as messages plus a fingerprint of their content, to send them only when they changed. */
export function bundleMessages(bundles: readonly Bundle[]): { messages: BundleMessage[]; fingerprint: string } {
  const messages = bundles.map(bundleToMessage)
  const hash = createHash('sha256')
  for (const m of messages) {
    hash.update(`${m.trust_domain}\0${m.sequence_number}\0${m.refresh_hint}\0`)
    for (const der of m.x509_authorities ?? []) hash.update(`x${(der as Buffer).length}:`).update(der as Buffer)
    for (const jwt of m.jwt_authorities ?? []) hash.update(`j${jwt.kid}:`).update(jwt.public_key as Buffer)
  }
  return { messages, fingerprint: hash.digest('hex') }
}
