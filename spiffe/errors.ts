/**
 * Errors raised by the SPIFFE core. The core has no gRPC dependency: hosts map these codes to
 * statuses at their own boundary (every code here is a caller fault unless it says otherwise).
 */
export type SpiffeErrorCode =
  | 'INVALID_SPIFFE_ID'
  | 'INVALID_TRUST_DOMAIN'
  | 'INVALID_PATH'
  | 'INVALID_SELECTOR'
  | 'INVALID_ENDPOINT_ADDRESS'
  | 'INVALID_X509_SVID'
  | 'X509_SVID_VERIFICATION_FAILED'
  | 'INVALID_JWT_SVID'
  | 'JWT_SVID_VERIFICATION_FAILED'
  | 'INVALID_BUNDLE'
  | 'INVALID_PEM'
  | 'BUNDLE_NOT_FOUND'
  | 'INVALID_MINT_REQUEST'
  // Workload API client: the caller's request was refused before sending, the server answered
  // with an error status, or its answer broke the Workload API rules.
  | 'INVALID_WORKLOAD_API_REQUEST'
  | 'WORKLOAD_API_REQUEST_FAILED'
  | 'INVALID_WORKLOAD_API_RESPONSE'

export class SpiffeError extends Error {
  readonly code: SpiffeErrorCode

  constructor(code: SpiffeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** The error of the X.509 minting code (keys, builder, issuer, SVIDs, CSRs): `INVALID_MINT_REQUEST`. */
export function mintError(message: string, cause?: unknown): SpiffeError {
  return new SpiffeError('INVALID_MINT_REQUEST', `x509mint: ${message}`, cause === undefined ? undefined : { cause })
}
