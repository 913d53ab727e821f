import type { Agent } from '../../proto/generated/steeple/admin/v1/Agent.js'
import type { Bundle__Output } from '../../proto/generated/steeple/common/v1/Bundle.js'
import { bundleFromMessage as bundleFromProto, bundleToMessage } from '../../proto/index.js'
import type { RegistrationEntry as EntryMessage } from '../../proto/generated/steeple/common/v1/RegistrationEntry.js'
import type { Selector as SelectorMessage, Selector__Output } from '../../proto/generated/steeple/common/v1/Selector.js'
import { InvalidArgumentError, errorMessage } from '../../common/errors.js'
import type { AttestedNode, RegistrationEntry } from '../../plugins/data-store/types.js'
import { parseCsr, selectorFromParts, type Bundle, type CertificateRequest, type Selector } from '../../spiffe/index.js'

/** Unix seconds of a date (0 for none), as the protos carry times. */
export function unixSeconds(date: Date | undefined): number {
  return date === undefined ? 0 : Math.floor(date.getTime() / 1000)
}

export function selectorToMessage(selector: Selector): SelectorMessage {
  return { type: selector.type, value: selector.value }
}

/** @throws InvalidArgumentError naming the item. */
export function selectorsFromMessages(messages: readonly Selector__Output[], field = 'selectors'): Selector[] {
  return messages.map((m, i) => {
    try {
      return selectorFromParts(m.type, m.value)
    } catch (err) {
      throw new InvalidArgumentError(`${field}[${i}]: ${(err as Error).message}`, { cause: err })
    }
  })
}

export function entryToMessage(entry: RegistrationEntry): EntryMessage {
  return {
    id: entry.id,
    spiffe_id: entry.spiffeId.toString(),
    parent_id: entry.parentId.toString(),
    selectors: entry.selectors.map(selectorToMessage),
    x509_svid_ttl: entry.x509SvidTtlSeconds,
    jwt_svid_ttl: entry.jwtSvidTtlSeconds,
    dns_names: [...entry.dnsNames],
    federates_with: entry.federatesWith.map((td) => td.name),
    admin: entry.admin,
    downstream: entry.downstream,
    expires_at: unixSeconds(entry.expiresAt),
    hint: entry.hint,
    store_svid: entry.storeSvid,
    revision_number: entry.revisionNumber,
    created_at: unixSeconds(entry.createdAt),
    owner: entry.owner,
    description: entry.description,
  }
}

export function nodeToMessage(node: AttestedNode): Agent {
  return {
    spiffe_id: node.spiffeId.toString(),
    attestation_type: node.attestationType,
    selectors: node.selectors.map(selectorToMessage),
    cert_serial: node.certSerial,
    cert_expires_at: unixSeconds(node.certNotAfter),
    banned: node.banned,
    can_reattest: node.canReattest,
    created_at: unixSeconds(node.createdAt),
    last_seen_at: unixSeconds(node.lastSeenAt),
  }
}

export { bundleToMessage }

/** @throws InvalidArgumentError when the message is not a valid bundle. */
export function bundleFromMessage(message: Bundle__Output): Bundle {
  try {
    return bundleFromProto(message)
  } catch (err) {
    throw new InvalidArgumentError(`bundle: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Parses a CSR field of a request. Only its public key is used; its names are ignored.
 * @throws InvalidArgumentError `<field>: …` when it is missing, malformed or not self-signed.
 */
export function csrFromField(bytes: Buffer | undefined, field = 'csr'): CertificateRequest {
  if (bytes === undefined || bytes.length === 0) throw InvalidArgumentError.forField(field, `a PKCS#10 certificate request (DER) is required`)
  try {
    return parseCsr(new Uint8Array(bytes))
  } catch (err) {
    throw InvalidArgumentError.forField(field, `${errorMessage(err)}`, { cause: err })
  }
}
