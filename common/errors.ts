import type { SpiffeErrorCode } from '../spiffe/index.js'

/**
 * Errors of the server, agent and plugins. Each carries a domain code; which gRPC status a code
 * becomes is decided in one table at the API boundary (common/grpc-status.ts), so no domain or
 * plugin code needs gRPC to report an error.
 */

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

/** Options of every {@link SteepleError}. */
export interface SteepleErrorOptions {
  readonly cause?: unknown
  /**
   * The request or config field the error concerns (`selectors`, `entries[2].hint`), when it
   * concerns one; the message then starts with it.
   */
  readonly field?: string
}

/** An error meant for a caller: a domain code, a message that states the rule, and the field if any. */
export class SteepleError extends Error {
  readonly code: ErrorCode
  declare readonly field: string | undefined

  constructor(code: ErrorCode, message: string, options?: SteepleErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    // Not enumerable: the message already starts with the field, so two errors with the same
    // code and message stay equal (as tests and callers compare them).
    Object.defineProperty(this, 'field', { value: options?.field, enumerable: false })
    this.name = new.target.name
  }
}

export class InvalidArgumentError extends SteepleError {
  constructor(message: string, options?: SteepleErrorOptions) {
    super('INVALID_ARGUMENT', message, options)
  }

  /** `<field>: <rule>`, with {@link SteepleError.field} set. */
  static forField(field: string, rule: string, options?: { cause?: unknown }): InvalidArgumentError {
    return new InvalidArgumentError(`${field}: ${rule}`, { ...options, field })
  }
}

export class NotFoundError extends SteepleError {
  constructor(message: string, options?: SteepleErrorOptions) {
    super('NOT_FOUND', message, options)
  }
}

export class AlreadyExistsError extends SteepleError {
  constructor(message: string, options?: SteepleErrorOptions) {
    super('ALREADY_EXISTS', message, options)
  }
}

export class PermissionDeniedError extends SteepleError {
  constructor(message: string, options?: SteepleErrorOptions) {
    super('PERMISSION_DENIED', message, options)
  }
}

export class UnauthenticatedError extends SteepleError {
  constructor(message: string, options?: SteepleErrorOptions) {
    super('UNAUTHENTICATED', message, options)
  }
}

export class FailedPreconditionError extends SteepleError {
  constructor(message: string, options?: SteepleErrorOptions) {
    super('FAILED_PRECONDITION', message, options)
  }
}

export class UnavailableError extends SteepleError {
  constructor(message: string, options?: SteepleErrorOptions) {
    super('UNAVAILABLE', message, options)
  }
}

/** Something this process could not do that is not the caller's fault; callers see only "internal error". */
export class InternalError extends SteepleError {
  constructor(message: string, options?: SteepleErrorOptions) {
    super('INTERNAL', message, options)
  }
}

/** A configuration file or flag is wrong; the message names the key and the rule. */
export class ConfigError extends SteepleError {
  constructor(message: string, options?: SteepleErrorOptions) {
    super('INVALID_CONFIG', message, options)
  }
}

/** A short message for an unknown thrown value (for logs and CLI output). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
