import type * as grpc from '@grpc/grpc-js'
import { InvalidArgumentError, errorMessage } from '../../../common/errors.js'
import type { Logger } from '../../../common/logger.js'
import type { AuditEvent } from '../../../plugins/data-store/types.js'
import type { SpiffeId } from '../../../spiffe/id.js'
import { parseCsr, type CertificateRequest, type MintedX509Svid } from '../../../spiffe/index.js'
import type { ServerCore } from '../../core.js'
import { serialHex } from './auth.js'

/**
 * Parses a CSR field of a request. Only its public key is used; its names are ignored.
 * @throws InvalidArgumentError `<field>: …` when it is missing, malformed or not self-signed.
 */
export function csrFromField(bytes: Buffer | undefined, field = 'csr'): CertificateRequest {
  if (bytes === undefined || bytes.length === 0) throw new InvalidArgumentError(`${field}: a PKCS#10 certificate request (DER) is required`)
  try {
    return parseCsr(new Uint8Array(bytes))
  } catch (err) {
    throw new InvalidArgumentError(`${field}: ${errorMessage(err)}`, { cause: err })
  }
}

/** Signs the agent's own SVID (the default X.509-SVID lifetime, capped by the CA). */
export function signAgentSvid(core: ServerCore, agentId: SpiffeId, csr: CertificateRequest): MintedX509Svid & { serialHex: string } {
  const svid = core.ca.signX509Svid({ spiffeId: agentId, publicKey: csr.publicKey, ttlSeconds: core.config.defaultX509SvidTtlSeconds })
  return { ...svid, serialHex: serialHex(svid.serial) }
}

/**
 * Appends audit events. The store has no transaction spanning the signing and the audit write, so
 * a failed append cannot undo what was issued: it is logged loudly and the call still succeeds
 * (as RegistrationService does for entry writes).
 */
export async function recordAudit(core: ServerCore, log: Logger, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return
  try {
    await core.store.audit.append(events)
  } catch (err) {
    log.error('Audit events not recorded', { actions: [...new Set(events.map((e) => e.action))], count: events.length, err: errorMessage(err) })
  }
}

/** Applies pending change events to the entry cache now (after our own writes); logs a failure, never rejects. */
export async function applyCacheEvents(core: ServerCore, log: Logger): Promise<void> {
  try {
    await core.cache.applyEvents()
  } catch (err) {
    log.warn('Cache update failed', { err: errorMessage(err) })
  }
}

/** Writes one message on a server stream and waits until the stream can take more (backpressure). */
export function writeMessage<T>(call: grpc.ServerWritableStream<unknown, T> | grpc.ServerDuplexStream<unknown, T>, message: T): Promise<void> {
  if (call.write(message)) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done)
      call.off('close', done)
      resolve()
    }
    call.on('drain', done)
    call.on('close', done)
  })
}
