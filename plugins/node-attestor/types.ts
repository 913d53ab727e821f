import type { Selector, SpiffeId, TrustDomain } from '../../spiffe/index.js'
import type { JoinTokenStore } from '../data-store/types.js'
import type { PluginHost } from '../registry.js'

/**
 * Node attestors: how an agent proves which node it runs on before the server gives it an
 * identity. Each method has two halves that live together in one folder and share their wire
 * format: the agent half produces a payload (and answers challenges), the server half checks
 * them and names the agent (SPIRE's agent and server `NodeAttestor` plugins).
 *
 * Exchange, driven by the server's Attest RPC:
 * 1. agent: `session = await plugin.begin()`, sends `await session.payload()`;
 * 2. server: `attestor.attest(payload, challenge, ctx)`; each `challenge(c)` call sends `c` to the
 *    agent and resolves with `await session.answer(c)` (zero or more rounds);
 * 3. server: gets an {@link AttestResult} or a {@link SteepleError} (see {@link ServerNodeAttestor}).
 */

/** Path under which every agent ID lives: `spiffe://<td>/steeple/agent/<attestor>/…`. */
export const AGENT_ID_PATH_PREFIX = '/steeple/agent'

/** What the server knows when it attests a node. */
export interface AttestContext {
  /** The server's trust domain: agent IDs are minted in it. */
  readonly trustDomain: TrustDomain
  /** Verification time (token expiry, certificate validity). */
  readonly now: Date
}

/** Who the node is, as the attestor established it. */
export interface AttestResult {
  /** `spiffe://<td>/steeple/agent/<attestor>/…`, stable for a node where the method allows re-attesting. */
  readonly agentId: SpiffeId
  /** Node selectors, each of the attestor's own type (`x509pop:subject:cn:…`); `[]` when none. */
  readonly selectors: readonly Selector[]
  /** Whether the node may attest again with the same evidence (x509pop yes, join_token no). */
  readonly canReattest: boolean
  /** Further IDs the agent is known by (a join token's alias); absent when none. */
  readonly aliasIds?: readonly SpiffeId[]
}

/** Sends one challenge to the agent and resolves with its answer; rejects when the exchange breaks. */
export type Challenger = (challenge: Uint8Array) => Promise<Uint8Array>

/**
 * The server half. One call covers one-shot methods (never call `challenge`) and
 * challenge/response ones alike.
 *
 * Contract: evidence that is not well-formed → `InvalidArgumentError` (INVALID_ARGUMENT);
 * well-formed but not good enough (unknown, used or expired token, untrusted chain, wrong
 * proof) → `PermissionDeniedError` (PERMISSION_DENIED). Messages state the rule that was broken
 * and never contain secrets or the payload. A rejection of `challenge` itself (the agent went
 * away) propagates unchanged. The host is expected to prefix messages with `nodeattestor(<name>): `.
 */
export interface ServerNodeAttestor {
  attest(payload: Uint8Array, challenge: Challenger, ctx: AttestContext): Promise<AttestResult>
}

/** One attestation on the agent side: create a new one (with {@link AgentNodeAttestorPlugin.begin}) per attempt. */
export interface AgentNodeAttestor {
  /** The evidence sent first. */
  payload(): Promise<Uint8Array>
  /** The answer to one server challenge. @throws InvalidArgumentError for a challenge this method does not expect. */
  answer(challenge: Uint8Array): Promise<Uint8Array>
}

/** The agent half as loaded from config. */
export interface AgentNodeAttestorPlugin {
  /**
   * Starts one attestation, reading the evidence (token, certificate, key) afresh.
   * @throws ConfigError naming the config key when the evidence cannot be read.
   */
  begin(): Promise<AgentNodeAttestor>
}

/** The host a server-side NodeAttestor is created with: the plugin host plus the join token store. */
export interface ServerNodeAttestorHost extends PluginHost {
  readonly joinTokens: JoinTokenStore
}
