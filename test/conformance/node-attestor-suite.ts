import { status } from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { SteepleError } from '../../common/errors.js'
import {
  AGENT_ID_PATH_PREFIX,
  type AgentNodeAttestor,
  type AttestContext,
  type AttestResult,
  type Challenger,
  type ServerNodeAttestor,
} from '../../plugins/node-attestor/types.js'
import { parseSelector, parseSpiffeId } from '../../spiffe/index.js'
import { grpcStatusOf } from '../../common/grpc-status.js'

/** An agent the server half must refuse, and with which status. */
export interface RefusedAgent {
  readonly name: string
  /** Starts one attestation of this agent. */
  readonly begin: () => Promise<AgentNodeAttestor>
  readonly status: status.INVALID_ARGUMENT | status.PERMISSION_DENIED
}

/** A server half with a matched agent (it must attest), and agents it must refuse. */
export interface NodeAttestorFixture {
  readonly server: ServerNodeAttestor
  /** Starts one attestation of the good agent. */
  readonly begin: () => Promise<AgentNodeAttestor>
  readonly ctx: AttestContext
  readonly refused: readonly RefusedAgent[]
  /** For bearer evidence: a context at which the good agent's evidence has expired. */
  readonly afterExpiry?: AttestContext
}

export interface NodeAttestorSuiteOptions {
  /** The plugin name: the agent ID segment after /steeple/agent/ and the selector type. */
  readonly name: string
  /** Distinguishes several runs for one plugin in test titles (e.g. the key type). */
  readonly variant?: string
  /** The evidence works once (join_token). */
  readonly oneTime: boolean
  /** The server challenges the agent (x509pop). */
  readonly challengeResponse: boolean
  /**
   * The evidence is a bearer token the server accepts until it expires (k8s_psat, as in SPIRE):
   * a replay then attests as the same agent, never another, and fails once the token expired.
   * The fixture must give `afterExpiry`.
   */
  readonly bearer?: boolean
  /** A fresh server and matched agent; one per test. */
  readonly make: () => Promise<NodeAttestorFixture>
}

/** What went over the wire in one attestation. */
export interface Transcript {
  payload: Uint8Array
  readonly challenges: Uint8Array[]
  readonly answers: Uint8Array[]
}

/** An empty transcript for {@link attestWith} to fill. */
export function newTranscript(): Transcript {
  return { payload: new Uint8Array(), challenges: [], answers: [] }
}

/**
 * Runs one attestation in process: the agent's payload to the server, each server challenge to
 * the agent. Records the exchange in `transcript` when given.
 */
export async function attestWith(
  server: ServerNodeAttestor,
  session: AgentNodeAttestor,
  ctx: AttestContext,
  transcript: Transcript = newTranscript(),
): Promise<AttestResult> {
  transcript.payload = await session.payload()
  return server.attest(
    transcript.payload,
    async (challenge) => {
      transcript.challenges.push(challenge)
      const answer = await session.answer(challenge)
      transcript.answers.push(answer)
      return answer
    },
    ctx,
  )
}

/** A challenger that answers with recorded answers, in order (a replaying attacker). */
function replaying(answers: readonly Uint8Array[]): Challenger {
  let next = 0
  return async () => {
    const answer = answers[next++]
    if (answer === undefined) throw new Error('replay: no recorded answer left')
    return answer
  }
}

/** A challenger for one-shot methods: being called at all is a contract violation. */
const noChallenge: Challenger = async () => {
  throw new Error('the server challenged a one-shot attestation')
}

const TEXT = new TextDecoder()

/**
 * Asserts a refusal: a SteepleError with the given status (or one of them) whose message does not
 * echo the evidence.
 */
async function expectRefused(
  attempt: Promise<unknown>,
  statuses: readonly status[],
  evidence: Uint8Array | undefined,
): Promise<SteepleError> {
  const err: unknown = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, 'attestation must be refused').toBeInstanceOf(SteepleError)
  const steeple = err as SteepleError
  expect(statuses).toContain(grpcStatusOf(steeple))
  expect(steeple.message).not.toBe('')
  if (evidence !== undefined && evidence.length >= 16) {
    expect(steeple.message).not.toContain(TEXT.decode(evidence))
  }
  return steeple
}

function flipByte(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice()
  copy[index] = copy[index]! ^ 0x01
  return copy
}

const REFUSALS = [status.INVALID_ARGUMENT, status.PERMISSION_DENIED] as const

/**
 * The contract every node attestor keeps (plugins/node-attestor/types.ts): a matched agent gets
 * an ID under `/steeple/agent/<name>/` with parseable selectors of its own type; replayed or
 * tampered evidence, and the fixture's bad agents, are refused with SteepleErrors of the right
 * status that do not echo the evidence.
 */
export function runNodeAttestorSuite(opts: NodeAttestorSuiteOptions): void {
  const { name } = opts

  describe(`NodeAttestor conformance: ${name}${opts.variant === undefined ? '' : ` (${opts.variant})`}`, () => {
    it('a matched agent gets an agent ID under /steeple/agent/<name>/ with selectors of its own type', async () => {
      const f = await opts.make()
      const result = await attestWith(f.server, await f.begin(), f.ctx)
      expect(result.agentId.memberOf(f.ctx.trustDomain)).toBe(true)
      expect(result.agentId.path.startsWith(`${AGENT_ID_PATH_PREFIX}/${name}/`)).toBe(true)
      expect(parseSpiffeId(result.agentId.toString()).equals(result.agentId)).toBe(true)
      for (const selector of result.selectors) {
        expect(selector.type).toBe(name)
        expect(parseSelector(selector.toString()).equals(selector)).toBe(true)
      }
      expect(result.canReattest).toBe(!opts.oneTime)
      for (const alias of result.aliasIds ?? []) expect(alias.memberOf(f.ctx.trustDomain)).toBe(true)
    })

    if (opts.oneTime) {
      it('one-time evidence is refused the second time', async () => {
        const f = await opts.make()
        const first = await f.begin()
        await attestWith(f.server, first, f.ctx)
        const evidence = await first.payload()
        await expectRefused(f.server.attest(evidence, noChallenge, f.ctx), [status.PERMISSION_DENIED], evidence)
        await expectRefused(attestWith(f.server, await f.begin(), f.ctx), [status.PERMISSION_DENIED], evidence)
      })
    } else {
      it('the same agent attesting again gets the same agent ID and selectors', async () => {
        const f = await opts.make()
        const first = await attestWith(f.server, await f.begin(), f.ctx)
        const second = await attestWith(f.server, await f.begin(), f.ctx)
        expect(second.agentId.equals(first.agentId)).toBe(true)
        expect(second.selectors.map(String)).toEqual(first.selectors.map(String))
      })
    }

    if (opts.bearer === true) {
      it('a replayed bearer token names the same agent only, and is refused once it has expired', async () => {
        const f = await opts.make()
        const transcript = newTranscript()
        const first = await attestWith(f.server, await f.begin(), f.ctx, transcript)
        const replayed = await f.server.attest(transcript.payload, noChallenge, f.ctx)
        expect(replayed.agentId.equals(first.agentId)).toBe(true)
        expect(replayed.selectors.map(String)).toEqual(first.selectors.map(String))
        expect(f.afterExpiry, 'a bearer fixture must give afterExpiry').toBeDefined()
        await expectRefused(f.server.attest(transcript.payload, noChallenge, f.afterExpiry!), [status.PERMISSION_DENIED], transcript.payload)
      })
    } else {
      it('a replayed transcript of a successful attestation is refused', async () => {
        const f = await opts.make()
        const transcript = newTranscript()
        await attestWith(f.server, await f.begin(), f.ctx, transcript)
        expect(transcript.challenges.length > 0).toBe(opts.challengeResponse)
        await expectRefused(f.server.attest(transcript.payload, replaying(transcript.answers), f.ctx), [status.PERMISSION_DENIED], transcript.payload)
      })
    }

    it('an empty payload is INVALID_ARGUMENT', async () => {
      const f = await opts.make()
      await expectRefused(f.server.attest(new Uint8Array(), noChallenge, f.ctx), [status.INVALID_ARGUMENT], undefined)
    })

    it.each([
      ['first byte flipped', (p: Uint8Array) => flipByte(p, 0)],
      ['middle byte flipped', (p: Uint8Array) => flipByte(p, p.length >> 1)],
      ['last byte flipped', (p: Uint8Array) => flipByte(p, p.length - 1)],
      ['truncated to half', (p: Uint8Array) => p.slice(0, p.length >> 1)],
      ['one byte appended', (p: Uint8Array) => Uint8Array.from([...p, 0x41])],
    ])('a tampered payload (%s) is refused', async (_case, tamper) => {
      const f = await opts.make()
      const session = await f.begin()
      const tampered = tamper(await session.payload())
      await expectRefused(
        f.server.attest(tampered, (c) => session.answer(c), f.ctx),
        REFUSALS,
        await session.payload(),
      )
    })

    if (opts.challengeResponse) {
      it('a tampered answer is PERMISSION_DENIED or INVALID_ARGUMENT', async () => {
        const f = await opts.make()
        const session = await f.begin()
        const payload = await session.payload()
        await expectRefused(
          f.server.attest(payload, async (c) => {
            const answer = await session.answer(c)
            return flipByte(answer, answer.length >> 1)
          }, f.ctx),
          REFUSALS,
          payload,
        )
      })

      it('an answer that is not of the wire format is INVALID_ARGUMENT', async () => {
        const f = await opts.make()
        const payload = await (await f.begin()).payload()
        await expectRefused(f.server.attest(payload, async () => new TextEncoder().encode('not an answer'), f.ctx), [status.INVALID_ARGUMENT], payload)
      })

      it('a failing challenge (the agent went away) propagates unchanged', async () => {
        const f = await opts.make()
        const payload = await (await f.begin()).payload()
        const gone = new Error('stream closed')
        await expect(f.server.attest(payload, async () => Promise.reject(gone), f.ctx)).rejects.toBe(gone)
      })
    }

    it('each bad agent of the fixture is refused with its status', async () => {
      const f = await opts.make()
      expect(f.refused.length).toBeGreaterThan(0)
      for (const bad of f.refused) {
        const session = await bad.begin()
        const err = await expectRefused(attestWith(f.server, session, f.ctx), [bad.status], await session.payload())
        expect(grpcStatusOf(err), bad.name).toBe(bad.status)
      }
    })
  })
}
