import { SteepleError } from '../../common/errors.js'
import type { AgentNodeAttestor } from '../../plugins/node-attestor/types.js'
import type { Bundle } from '../../spiffe/index.js'
import type {
  AgentSvidCredentials,
  AttestationOutcome,
  AuthorizedSync,
  AuthorizedUpdate,
  RenewedSvid,
  SignedJwtSvidResult,
  X509SvidResult,
} from './server-client.js'

/**
 * The server's agent API, cut to what each part of the agent's manager uses. The gRPC client
 * ({@link ServerClient} in server-client.ts) implements all of them; unit tests pass a fake server
 * (test/fakes/fake-agent-server.ts). Every call rejects with a SteepleError carrying the server's
 * status: PERMISSION_DENIED or UNAUTHENTICATED when the server refuses the agent SVID, UNAVAILABLE
 * when it cannot be reached.
 */

/** How the client verifies the server from now on (the roots of the agent's own bundle). */
export interface ServerTrust {
  setBundle(bundle: Bundle): void
}

/** Node attestation: the first call an agent makes, and the one it makes again when refused. */
export interface NodeAttestationClient extends ServerTrust {
  attest(attestorName: string, session: AgentNodeAttestor, csrDer: Uint8Array): Promise<AttestationOutcome>
}

/** The agent SVID: presented on every call but attestation, renewed before it expires. */
export interface AgentSvidClient extends ServerTrust {
  setSvid(svid: AgentSvidCredentials): void
  renew(csrDer: Uint8Array): Promise<RenewedSvid>
}

/** The stream of authorized entries and bundles (full set first, then changes). */
export interface EntrySyncClient {
  syncAuthorized(onUpdate: (update: AuthorizedUpdate) => void): AuthorizedSync
}

/** Workload X.509-SVIDs, signed in batches from CSRs; one result per item, in order. */
export interface X509SvidSigner {
  batchNewX509Svid(params: readonly { readonly entryId: string; readonly csrDer: Uint8Array }[]): Promise<X509SvidResult[]>
}

/** Workload JWT-SVIDs, signed on demand. */
export interface JwtSvidSigner {
  newJwtSvid(entryId: string, audience: readonly string[]): Promise<SignedJwtSvidResult>
}

/** Everything the manager needs from the server, and closing the connection. */
export interface AgentServerClient extends NodeAttestationClient, AgentSvidClient, EntrySyncClient, X509SvidSigner, JwtSvidSigner {
  close(): void
}

/** PERMISSION_DENIED or UNAUTHENTICATED: the server refuses the agent SVID (evicted, banned, expired), not just this call. */
export function isRefusal(err: unknown): err is SteepleError {
  return err instanceof SteepleError && (err.code === 'PERMISSION_DENIED' || err.code === 'UNAUTHENTICATED')
}
