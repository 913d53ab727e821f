/** Tunables of the manager; the defaults suit production, tests shorten them. */
export interface ManagerTiming {
  /** Most CSRs sent in one BatchNewX509SVID call. */
  readonly batchSize: number
  /** Rotation point as a fraction of an SVID's lifetime, before jitter (SPIRE: 1/2). */
  readonly rotateFraction: number
  /** Jitter of the rotation point, relative (0.1 = ±10 %). */
  readonly rotateJitter: number
  /** Backoff of SyncAuthorized reconnects and failed signing calls. */
  readonly retryInitialMs: number
  readonly retryMaxMs: number
  /** How long a first attestation keeps retrying while the server is unreachable. */
  readonly attestRetryMs: number
}

export const DEFAULT_MANAGER_TIMING: ManagerTiming = Object.freeze({
  batchSize: 500,
  rotateFraction: 0.5,
  rotateJitter: 0.1,
  retryInitialMs: 250,
  // Each retry is one connection attempt; a short cap brings the agent back soon after the server.
  retryMaxMs: 5000,
  attestRetryMs: 60_000,
})
