import type { Logger } from '../../../common/logger.js'
import type { AgentAPIHandlers } from '../../../proto/generated/steeple/agent/v1/AgentAPI.js'
import type { ServerCore } from '../../core.js'
import { bundleToMessage } from '../convert.js'
import { bidiStreamHandler, serverStreamHandler, unaryHandler } from '../grpc.js'
import type { AttestService } from './attest.js'
import type { AgentAuthenticator } from './auth.js'
import { bundlesForEntries } from './bundles.js'
import type { SignService } from './sign.js'
import type { SyncHub } from './sync.js'

/** The services behind the handlers, built once by startAgentApi. */
export interface AgentApiParts {
  readonly core: ServerCore
  readonly auth: AgentAuthenticator
  readonly attest: AttestService
  readonly sync: SyncHub
  readonly sign: SignService
  readonly log: Logger
}

/** The `steeple.agent.v1.AgentAPI` handlers: thin adapters, each behind the one error boundary. */
export function agentApiHandlers(parts: AgentApiParts): AgentAPIHandlers {
  const { core, auth, attest, sync, sign, log } = parts
  return {
    AttestAgent: bidiStreamHandler(log, 'AttestAgent', (call) => attest.attestAgent(call)),
    RenewAgent: unaryHandler(log, 'RenewAgent', (call) => attest.renewAgent(call)),
    SyncAuthorized: serverStreamHandler(log, 'SyncAuthorized', (call) => sync.syncAuthorized(call)),
    BatchNewX509SVID: unaryHandler(log, 'BatchNewX509SVID', (call) => sign.batchNewX509Svid(call)),
    NewJWTSVID: unaryHandler(log, 'NewJWTSVID', (call) => sign.newJwtSvid(call)),
    GetBundles: unaryHandler(log, 'GetBundles', async (call) => {
      const peer = await auth.authenticate(call)
      const bundles = await bundlesForEntries(core, core.cache.authorizedEntries(peer.agentId))
      return { bundles: bundles.map(bundleToMessage) }
    }),
  }
}
