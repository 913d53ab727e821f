import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentAPIClient as _steeple_agent_v1_AgentAPIClient, AgentAPIDefinition as _steeple_agent_v1_AgentAPIDefinition } from './steeple/agent/v1/AgentAPI.js';
import type { AttestAgentRequest as _steeple_agent_v1_AttestAgentRequest, AttestAgentRequest__Output as _steeple_agent_v1_AttestAgentRequest__Output } from './steeple/agent/v1/AttestAgentRequest.js';
import type { AttestAgentResponse as _steeple_agent_v1_AttestAgentResponse, AttestAgentResponse__Output as _steeple_agent_v1_AttestAgentResponse__Output } from './steeple/agent/v1/AttestAgentResponse.js';
import type { AttestationData as _steeple_agent_v1_AttestationData, AttestationData__Output as _steeple_agent_v1_AttestationData__Output } from './steeple/agent/v1/AttestationData.js';
import type { BatchNewX509SVIDRequest as _steeple_agent_v1_BatchNewX509SVIDRequest, BatchNewX509SVIDRequest__Output as _steeple_agent_v1_BatchNewX509SVIDRequest__Output } from './steeple/agent/v1/BatchNewX509SVIDRequest.js';
import type { BatchNewX509SVIDResponse as _steeple_agent_v1_BatchNewX509SVIDResponse, BatchNewX509SVIDResponse__Output as _steeple_agent_v1_BatchNewX509SVIDResponse__Output } from './steeple/agent/v1/BatchNewX509SVIDResponse.js';
import type { GetBundlesRequest as _steeple_agent_v1_GetBundlesRequest, GetBundlesRequest__Output as _steeple_agent_v1_GetBundlesRequest__Output } from './steeple/agent/v1/GetBundlesRequest.js';
import type { GetBundlesResponse as _steeple_agent_v1_GetBundlesResponse, GetBundlesResponse__Output as _steeple_agent_v1_GetBundlesResponse__Output } from './steeple/agent/v1/GetBundlesResponse.js';
import type { NewJWTSVIDRequest as _steeple_agent_v1_NewJWTSVIDRequest, NewJWTSVIDRequest__Output as _steeple_agent_v1_NewJWTSVIDRequest__Output } from './steeple/agent/v1/NewJWTSVIDRequest.js';
import type { NewJWTSVIDResponse as _steeple_agent_v1_NewJWTSVIDResponse, NewJWTSVIDResponse__Output as _steeple_agent_v1_NewJWTSVIDResponse__Output } from './steeple/agent/v1/NewJWTSVIDResponse.js';
import type { RenewAgentRequest as _steeple_agent_v1_RenewAgentRequest, RenewAgentRequest__Output as _steeple_agent_v1_RenewAgentRequest__Output } from './steeple/agent/v1/RenewAgentRequest.js';
import type { RenewAgentResponse as _steeple_agent_v1_RenewAgentResponse, RenewAgentResponse__Output as _steeple_agent_v1_RenewAgentResponse__Output } from './steeple/agent/v1/RenewAgentResponse.js';
import type { SyncAuthorizedRequest as _steeple_agent_v1_SyncAuthorizedRequest, SyncAuthorizedRequest__Output as _steeple_agent_v1_SyncAuthorizedRequest__Output } from './steeple/agent/v1/SyncAuthorizedRequest.js';
import type { SyncAuthorizedResponse as _steeple_agent_v1_SyncAuthorizedResponse, SyncAuthorizedResponse__Output as _steeple_agent_v1_SyncAuthorizedResponse__Output } from './steeple/agent/v1/SyncAuthorizedResponse.js';
import type { Bundle as _steeple_common_v1_Bundle, Bundle__Output as _steeple_common_v1_Bundle__Output } from './steeple/common/v1/Bundle.js';
import type { JwtAuthority as _steeple_common_v1_JwtAuthority, JwtAuthority__Output as _steeple_common_v1_JwtAuthority__Output } from './steeple/common/v1/JwtAuthority.js';
import type { RegistrationEntry as _steeple_common_v1_RegistrationEntry, RegistrationEntry__Output as _steeple_common_v1_RegistrationEntry__Output } from './steeple/common/v1/RegistrationEntry.js';
import type { Selector as _steeple_common_v1_Selector, Selector__Output as _steeple_common_v1_Selector__Output } from './steeple/common/v1/Selector.js';
import type { Status as _steeple_common_v1_Status, Status__Output as _steeple_common_v1_Status__Output } from './steeple/common/v1/Status.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  steeple: {
    agent: {
      v1: {
        AgentAPI: SubtypeConstructor<typeof grpc.Client, _steeple_agent_v1_AgentAPIClient> & { service: _steeple_agent_v1_AgentAPIDefinition }
        AttestAgentRequest: MessageTypeDefinition<_steeple_agent_v1_AttestAgentRequest, _steeple_agent_v1_AttestAgentRequest__Output>
        AttestAgentResponse: MessageTypeDefinition<_steeple_agent_v1_AttestAgentResponse, _steeple_agent_v1_AttestAgentResponse__Output>
        AttestationData: MessageTypeDefinition<_steeple_agent_v1_AttestationData, _steeple_agent_v1_AttestationData__Output>
        BatchNewX509SVIDRequest: MessageTypeDefinition<_steeple_agent_v1_BatchNewX509SVIDRequest, _steeple_agent_v1_BatchNewX509SVIDRequest__Output>
        BatchNewX509SVIDResponse: MessageTypeDefinition<_steeple_agent_v1_BatchNewX509SVIDResponse, _steeple_agent_v1_BatchNewX509SVIDResponse__Output>
        GetBundlesRequest: MessageTypeDefinition<_steeple_agent_v1_GetBundlesRequest, _steeple_agent_v1_GetBundlesRequest__Output>
        GetBundlesResponse: MessageTypeDefinition<_steeple_agent_v1_GetBundlesResponse, _steeple_agent_v1_GetBundlesResponse__Output>
        NewJWTSVIDRequest: MessageTypeDefinition<_steeple_agent_v1_NewJWTSVIDRequest, _steeple_agent_v1_NewJWTSVIDRequest__Output>
        NewJWTSVIDResponse: MessageTypeDefinition<_steeple_agent_v1_NewJWTSVIDResponse, _steeple_agent_v1_NewJWTSVIDResponse__Output>
        RenewAgentRequest: MessageTypeDefinition<_steeple_agent_v1_RenewAgentRequest, _steeple_agent_v1_RenewAgentRequest__Output>
        RenewAgentResponse: MessageTypeDefinition<_steeple_agent_v1_RenewAgentResponse, _steeple_agent_v1_RenewAgentResponse__Output>
        SyncAuthorizedRequest: MessageTypeDefinition<_steeple_agent_v1_SyncAuthorizedRequest, _steeple_agent_v1_SyncAuthorizedRequest__Output>
        SyncAuthorizedResponse: MessageTypeDefinition<_steeple_agent_v1_SyncAuthorizedResponse, _steeple_agent_v1_SyncAuthorizedResponse__Output>
      }
    }
    common: {
      v1: {
        Bundle: MessageTypeDefinition<_steeple_common_v1_Bundle, _steeple_common_v1_Bundle__Output>
        JwtAuthority: MessageTypeDefinition<_steeple_common_v1_JwtAuthority, _steeple_common_v1_JwtAuthority__Output>
        RegistrationEntry: MessageTypeDefinition<_steeple_common_v1_RegistrationEntry, _steeple_common_v1_RegistrationEntry__Output>
        Selector: MessageTypeDefinition<_steeple_common_v1_Selector, _steeple_common_v1_Selector__Output>
        Status: MessageTypeDefinition<_steeple_common_v1_Status, _steeple_common_v1_Status__Output>
      }
    }
  }
}

