import { status, type StatusObject } from '@grpc/grpc-js'
import { SpiffeError } from '../spiffe/index.js'
import { SteepleError, type ErrorCode } from './errors.js'
import type { Logger } from './logger.js'

/**
 * The one boundary where errors become gRPC statuses: the table from domain code to status, and
 * {@link toStatus}, which every server and agent handler goes through.
 */

/** Which gRPC status each domain code is. The SPIFFE core's codes are caller faults (bad IDs, SVIDs, tokens). */
export const GRPC_STATUS: { readonly [C in ErrorCode]: status } = Object.freeze({
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  INVALID_CONFIG: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  UNAVAILABLE: status.UNAVAILABLE,
  INTERNAL: status.INTERNAL,
  INVALID_SPIFFE_ID: status.INVALID_ARGUMENT,
  INVALID_TRUST_DOMAIN: status.INVALID_ARGUMENT,
  INVALID_PATH: status.INVALID_ARGUMENT,
  INVALID_SELECTOR: status.INVALID_ARGUMENT,
  INVALID_ENDPOINT_ADDRESS: status.INVALID_ARGUMENT,
  INVALID_X509_SVID: status.INVALID_ARGUMENT,
  X509_SVID_VERIFICATION_FAILED: status.INVALID_ARGUMENT,
  INVALID_JWT_SVID: status.INVALID_ARGUMENT,
  JWT_SVID_VERIFICATION_FAILED: status.INVALID_ARGUMENT,
  INVALID_BUNDLE: status.INVALID_ARGUMENT,
  INVALID_PEM: status.INVALID_ARGUMENT,
  BUNDLE_NOT_FOUND: status.NOT_FOUND,
  INVALID_MINT_REQUEST: status.INVALID_ARGUMENT,
  INVALID_WORKLOAD_API_REQUEST: status.INVALID_ARGUMENT,
  WORKLOAD_API_REQUEST_FAILED: status.INVALID_ARGUMENT,
  INVALID_WORKLOAD_API_RESPONSE: status.INVALID_ARGUMENT,
})

/** The domain code a gRPC status received from a peer stands for (the reverse of {@link GRPC_STATUS}). */
export function codeOfStatus(code: status): ErrorCode {
  switch (code) {
    case status.INVALID_ARGUMENT:
    case status.OUT_OF_RANGE:
      return 'INVALID_ARGUMENT'
    case status.NOT_FOUND:
      return 'NOT_FOUND'
    case status.ALREADY_EXISTS:
      return 'ALREADY_EXISTS'
    case status.PERMISSION_DENIED:
      return 'PERMISSION_DENIED'
    case status.UNAUTHENTICATED:
      return 'UNAUTHENTICATED'
    case status.FAILED_PRECONDITION:
      return 'FAILED_PRECONDITION'
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
    case status.RESOURCE_EXHAUSTED:
    case status.ABORTED:
    case status.CANCELLED:
      return 'UNAVAILABLE'
    default:
      return 'INTERNAL'
  }
}

/** The gRPC status of an error of ours. */
export function grpcStatusOf(err: SteepleError | SpiffeError): status {
  return GRPC_STATUS[err.code]
}

const CLIENT_FAULTS: ReadonlySet<status> = new Set([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.PERMISSION_DENIED,
  status.UNAUTHENTICATED,
  status.FAILED_PRECONDITION,
  status.OUT_OF_RANGE,
  status.CANCELLED,
])

/**
 * The status a failed call ends with. Caller faults are logged at info; our other errors at error
 * (with their cause); both keep their message. Anything else is logged at error and reaches the
 * caller only as "internal error".
 */
export function toStatus(err: unknown, log: Logger): Partial<StatusObject> {
  if (err instanceof SteepleError || err instanceof SpiffeError) {
    const code = grpcStatusOf(err)
    if (CLIENT_FAULTS.has(code)) {
      log.info('Request failed', { err: err.message, code: err.code })
    } else {
      log.error('Request failed', { err: err.message, code: err.code, cause: describeCause(err) })
    }
    return { code, details: err.message }
  }
  log.error('Unexpected error', { err: describeCause(err) })
  return { code: status.INTERNAL, details: 'internal error' }
}

function describeCause(err: unknown): string | undefined {
  if (err instanceof Error) return err.stack ?? err.message
  return err === undefined ? undefined : String(err)
}
