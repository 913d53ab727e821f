import { status, type StatusObject } from '@grpc/grpc-js'
import { SpiffeError, type SpiffeErrorCode } from '../spiffe/index.js'
import type { Logger } from './logger.js'

/** Domain codes of errors raised by the server, agent and plugins (SPIFFE core codes included). */
export type ErrorCode =
  | SpiffeErrorCode
  | 'INVALID_ARGUMENT'
  | 'INVALID_CONFIG'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'FAILED_PRECONDITION'
  | 'UNAVAILABLE'
  | 'INTERNAL'

/** An error meant for a caller: it carries a domain code and the gRPC status it maps to. */
export class SteepleError extends Error {
  readonly code: ErrorCode
  readonly grpcStatus: status

  constructor(code: ErrorCode, grpcStatus: status, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.grpcStatus = grpcStatus
    this.name = new.target.name
  }
}

export class InvalidArgumentError extends SteepleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', status.INVALID_ARGUMENT, message, options)
  }
}

export class NotFoundError extends SteepleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_FOUND', status.NOT_FOUND, message, options)
  }
}

export class AlreadyExistsError extends SteepleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ALREADY_EXISTS', status.ALREADY_EXISTS, message, options)
  }
}

export class PermissionDeniedError extends SteepleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PERMISSION_DENIED', status.PERMISSION_DENIED, message, options)
  }
}

export class UnauthenticatedError extends SteepleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAUTHENTICATED', status.UNAUTHENTICATED, message, options)
  }
}

export class FailedPreconditionError extends SteepleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FAILED_PRECONDITION', status.FAILED_PRECONDITION, message, options)
  }
}

export class UnavailableError extends SteepleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', status.UNAVAILABLE, message, options)
  }
}

/** A fault of ours or of our environment (a file we cannot read, a malformed local reply): INTERNAL. */
export class InternalError extends SteepleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INTERNAL', status.INTERNAL, message, options)
  }
}

/** A configuration file or flag is wrong; the message names the key and the rule. */
export class ConfigError extends SteepleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_CONFIG', status.INVALID_ARGUMENT, message, options)
  }
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

/** Errors of the SPIFFE core are caller faults (bad IDs, SVIDs, tokens): INVALID_ARGUMENT. */
function spiffeStatus(err: SpiffeError): status {
  return err.code === 'BUNDLE_NOT_FOUND' ? status.NOT_FOUND : status.INVALID_ARGUMENT
}

/**
 * The one place where errors become gRPC statuses. Caller faults are logged at info with their
 * message; anything else is logged at error and reaches the caller only as "internal error".
 */
export function toStatus(err: unknown, log: Logger): Partial<StatusObject> {
  if (err instanceof SteepleError || err instanceof SpiffeError) {
    const code = err instanceof SteepleError ? err.grpcStatus : spiffeStatus(err)
    if (CLIENT_FAULTS.has(code)) log.info('Request failed', { err: err.message, code: err.code })
    else log.error('Request failed', { err: err.message, code: err.code, cause: describeCause(err) })
    return { code, details: err.message }
  }
  log.error('Unexpected error', { err: describeCause(err) })
  return { code: status.INTERNAL, details: 'internal error' }
}

function describeCause(err: unknown): string | undefined {
  if (err instanceof Error) return err.stack ?? err.message
  return err === undefined ? undefined : String(err)
}

/** A short message for an unknown thrown value (for logs and CLI output). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
