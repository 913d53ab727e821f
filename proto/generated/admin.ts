import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AdminAPIClient as _steeple_admin_v1_AdminAPIClient, AdminAPIDefinition as _steeple_admin_v1_AdminAPIDefinition } from './steeple/admin/v1/AdminAPI.js';
import type { Agent as _steeple_admin_v1_Agent, Agent__Output as _steeple_admin_v1_Agent__Output } from './steeple/admin/v1/Agent.js';
import type { AgentRequest as _steeple_admin_v1_AgentRequest, AgentRequest__Output as _steeple_admin_v1_AgentRequest__Output } from './steeple/admin/v1/AgentRequest.js';
import type { AuditEvent as _steeple_admin_v1_AuditEvent, AuditEvent__Output as _steeple_admin_v1_AuditEvent__Output } from './steeple/admin/v1/AuditEvent.js';
import type { CountResponse as _steeple_admin_v1_CountResponse, CountResponse__Output as _steeple_admin_v1_CountResponse__Output } from './steeple/admin/v1/CountResponse.js';
import type { CreateEntriesRequest as _steeple_admin_v1_CreateEntriesRequest, CreateEntriesRequest__Output as _steeple_admin_v1_CreateEntriesRequest__Output } from './steeple/admin/v1/CreateEntriesRequest.js';
import type { CreateJoinTokenRequest as _steeple_admin_v1_CreateJoinTokenRequest, CreateJoinTokenRequest__Output as _steeple_admin_v1_CreateJoinTokenRequest__Output } from './steeple/admin/v1/CreateJoinTokenRequest.js';
import type { CreateJoinTokenResponse as _steeple_admin_v1_CreateJoinTokenResponse, CreateJoinTokenResponse__Output as _steeple_admin_v1_CreateJoinTokenResponse__Output } from './steeple/admin/v1/CreateJoinTokenResponse.js';
import type { DeleteEntriesRequest as _steeple_admin_v1_DeleteEntriesRequest, DeleteEntriesRequest__Output as _steeple_admin_v1_DeleteEntriesRequest__Output } from './steeple/admin/v1/DeleteEntriesRequest.js';
import type { DeleteFederatedBundleRequest as _steeple_admin_v1_DeleteFederatedBundleRequest, DeleteFederatedBundleRequest__Output as _steeple_admin_v1_DeleteFederatedBundleRequest__Output } from './steeple/admin/v1/DeleteFederatedBundleRequest.js';
import type { DeleteFederatedBundleResponse as _steeple_admin_v1_DeleteFederatedBundleResponse, DeleteFederatedBundleResponse__Output as _steeple_admin_v1_DeleteFederatedBundleResponse__Output } from './steeple/admin/v1/DeleteFederatedBundleResponse.js';
import type { EntryResult as _steeple_admin_v1_EntryResult, EntryResult__Output as _steeple_admin_v1_EntryResult__Output } from './steeple/admin/v1/EntryResult.js';
import type { EntryResults as _steeple_admin_v1_EntryResults, EntryResults__Output as _steeple_admin_v1_EntryResults__Output } from './steeple/admin/v1/EntryResults.js';
import type { GetBundleRequest as _steeple_admin_v1_GetBundleRequest, GetBundleRequest__Output as _steeple_admin_v1_GetBundleRequest__Output } from './steeple/admin/v1/GetBundleRequest.js';
import type { GetEntryRequest as _steeple_admin_v1_GetEntryRequest, GetEntryRequest__Output as _steeple_admin_v1_GetEntryRequest__Output } from './steeple/admin/v1/GetEntryRequest.js';
import type { HealthRequest as _steeple_admin_v1_HealthRequest, HealthRequest__Output as _steeple_admin_v1_HealthRequest__Output } from './steeple/admin/v1/HealthRequest.js';
import type { HealthResponse as _steeple_admin_v1_HealthResponse, HealthResponse__Output as _steeple_admin_v1_HealthResponse__Output } from './steeple/admin/v1/HealthResponse.js';
import type { ListAgentsRequest as _steeple_admin_v1_ListAgentsRequest, ListAgentsRequest__Output as _steeple_admin_v1_ListAgentsRequest__Output } from './steeple/admin/v1/ListAgentsRequest.js';
import type { ListAgentsResponse as _steeple_admin_v1_ListAgentsResponse, ListAgentsResponse__Output as _steeple_admin_v1_ListAgentsResponse__Output } from './steeple/admin/v1/ListAgentsResponse.js';
import type { ListAuditEventsRequest as _steeple_admin_v1_ListAuditEventsRequest, ListAuditEventsRequest__Output as _steeple_admin_v1_ListAuditEventsRequest__Output } from './steeple/admin/v1/ListAuditEventsRequest.js';
import type { ListAuditEventsResponse as _steeple_admin_v1_ListAuditEventsResponse, ListAuditEventsResponse__Output as _steeple_admin_v1_ListAuditEventsResponse__Output } from './steeple/admin/v1/ListAuditEventsResponse.js';
import type { ListEntriesRequest as _steeple_admin_v1_ListEntriesRequest, ListEntriesRequest__Output as _steeple_admin_v1_ListEntriesRequest__Output } from './steeple/admin/v1/ListEntriesRequest.js';
import type { ListEntriesResponse as _steeple_admin_v1_ListEntriesResponse, ListEntriesResponse__Output as _steeple_admin_v1_ListEntriesResponse__Output } from './steeple/admin/v1/ListEntriesResponse.js';
import type { ListFederatedBundlesRequest as _steeple_admin_v1_ListFederatedBundlesRequest, ListFederatedBundlesRequest__Output as _steeple_admin_v1_ListFederatedBundlesRequest__Output } from './steeple/admin/v1/ListFederatedBundlesRequest.js';
import type { ListFederatedBundlesResponse as _steeple_admin_v1_ListFederatedBundlesResponse, ListFederatedBundlesResponse__Output as _steeple_admin_v1_ListFederatedBundlesResponse__Output } from './steeple/admin/v1/ListFederatedBundlesResponse.js';
import type { MintJWTSVIDRequest as _steeple_admin_v1_MintJWTSVIDRequest, MintJWTSVIDRequest__Output as _steeple_admin_v1_MintJWTSVIDRequest__Output } from './steeple/admin/v1/MintJWTSVIDRequest.js';
import type { MintJWTSVIDResponse as _steeple_admin_v1_MintJWTSVIDResponse, MintJWTSVIDResponse__Output as _steeple_admin_v1_MintJWTSVIDResponse__Output } from './steeple/admin/v1/MintJWTSVIDResponse.js';
import type { MintX509SVIDRequest as _steeple_admin_v1_MintX509SVIDRequest, MintX509SVIDRequest__Output as _steeple_admin_v1_MintX509SVIDRequest__Output } from './steeple/admin/v1/MintX509SVIDRequest.js';
import type { MintX509SVIDResponse as _steeple_admin_v1_MintX509SVIDResponse, MintX509SVIDResponse__Output as _steeple_admin_v1_MintX509SVIDResponse__Output } from './steeple/admin/v1/MintX509SVIDResponse.js';
import type { SetFederatedBundleRequest as _steeple_admin_v1_SetFederatedBundleRequest, SetFederatedBundleRequest__Output as _steeple_admin_v1_SetFederatedBundleRequest__Output } from './steeple/admin/v1/SetFederatedBundleRequest.js';
import type { UpdateEntriesRequest as _steeple_admin_v1_UpdateEntriesRequest, UpdateEntriesRequest__Output as _steeple_admin_v1_UpdateEntriesRequest__Output } from './steeple/admin/v1/UpdateEntriesRequest.js';
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
    admin: {
      v1: {
        AdminAPI: SubtypeConstructor<typeof grpc.Client, _steeple_admin_v1_AdminAPIClient> & { service: _steeple_admin_v1_AdminAPIDefinition }
        Agent: MessageTypeDefinition<_steeple_admin_v1_Agent, _steeple_admin_v1_Agent__Output>
        AgentRequest: MessageTypeDefinition<_steeple_admin_v1_AgentRequest, _steeple_admin_v1_AgentRequest__Output>
        AuditEvent: MessageTypeDefinition<_steeple_admin_v1_AuditEvent, _steeple_admin_v1_AuditEvent__Output>
        CountResponse: MessageTypeDefinition<_steeple_admin_v1_CountResponse, _steeple_admin_v1_CountResponse__Output>
        CreateEntriesRequest: MessageTypeDefinition<_steeple_admin_v1_CreateEntriesRequest, _steeple_admin_v1_CreateEntriesRequest__Output>
        CreateJoinTokenRequest: MessageTypeDefinition<_steeple_admin_v1_CreateJoinTokenRequest, _steeple_admin_v1_CreateJoinTokenRequest__Output>
        CreateJoinTokenResponse: MessageTypeDefinition<_steeple_admin_v1_CreateJoinTokenResponse, _steeple_admin_v1_CreateJoinTokenResponse__Output>
        DeleteEntriesRequest: MessageTypeDefinition<_steeple_admin_v1_DeleteEntriesRequest, _steeple_admin_v1_DeleteEntriesRequest__Output>
        DeleteFederatedBundleRequest: MessageTypeDefinition<_steeple_admin_v1_DeleteFederatedBundleRequest, _steeple_admin_v1_DeleteFederatedBundleRequest__Output>
        DeleteFederatedBundleResponse: MessageTypeDefinition<_steeple_admin_v1_DeleteFederatedBundleResponse, _steeple_admin_v1_DeleteFederatedBundleResponse__Output>
        EntryResult: MessageTypeDefinition<_steeple_admin_v1_EntryResult, _steeple_admin_v1_EntryResult__Output>
        EntryResults: MessageTypeDefinition<_steeple_admin_v1_EntryResults, _steeple_admin_v1_EntryResults__Output>
        GetBundleRequest: MessageTypeDefinition<_steeple_admin_v1_GetBundleRequest, _steeple_admin_v1_GetBundleRequest__Output>
        GetEntryRequest: MessageTypeDefinition<_steeple_admin_v1_GetEntryRequest, _steeple_admin_v1_GetEntryRequest__Output>
        HealthRequest: MessageTypeDefinition<_steeple_admin_v1_HealthRequest, _steeple_admin_v1_HealthRequest__Output>
        HealthResponse: MessageTypeDefinition<_steeple_admin_v1_HealthResponse, _steeple_admin_v1_HealthResponse__Output>
        ListAgentsRequest: MessageTypeDefinition<_steeple_admin_v1_ListAgentsRequest, _steeple_admin_v1_ListAgentsRequest__Output>
        ListAgentsResponse: MessageTypeDefinition<_steeple_admin_v1_ListAgentsResponse, _steeple_admin_v1_ListAgentsResponse__Output>
        ListAuditEventsRequest: MessageTypeDefinition<_steeple_admin_v1_ListAuditEventsRequest, _steeple_admin_v1_ListAuditEventsRequest__Output>
        ListAuditEventsResponse: MessageTypeDefinition<_steeple_admin_v1_ListAuditEventsResponse, _steeple_admin_v1_ListAuditEventsResponse__Output>
        ListEntriesRequest: MessageTypeDefinition<_steeple_admin_v1_ListEntriesRequest, _steeple_admin_v1_ListEntriesRequest__Output>
        ListEntriesResponse: MessageTypeDefinition<_steeple_admin_v1_ListEntriesResponse, _steeple_admin_v1_ListEntriesResponse__Output>
        ListFederatedBundlesRequest: MessageTypeDefinition<_steeple_admin_v1_ListFederatedBundlesRequest, _steeple_admin_v1_ListFederatedBundlesRequest__Output>
        ListFederatedBundlesResponse: MessageTypeDefinition<_steeple_admin_v1_ListFederatedBundlesResponse, _steeple_admin_v1_ListFederatedBundlesResponse__Output>
        MintJWTSVIDRequest: MessageTypeDefinition<_steeple_admin_v1_MintJWTSVIDRequest, _steeple_admin_v1_MintJWTSVIDRequest__Output>
        MintJWTSVIDResponse: MessageTypeDefinition<_steeple_admin_v1_MintJWTSVIDResponse, _steeple_admin_v1_MintJWTSVIDResponse__Output>
        MintX509SVIDRequest: MessageTypeDefinition<_steeple_admin_v1_MintX509SVIDRequest, _steeple_admin_v1_MintX509SVIDRequest__Output>
        MintX509SVIDResponse: MessageTypeDefinition<_steeple_admin_v1_MintX509SVIDResponse, _steeple_admin_v1_MintX509SVIDResponse__Output>
        SetFederatedBundleRequest: MessageTypeDefinition<_steeple_admin_v1_SetFederatedBundleRequest, _steeple_admin_v1_SetFederatedBundleRequest__Output>
        UpdateEntriesRequest: MessageTypeDefinition<_steeple_admin_v1_UpdateEntriesRequest, _steeple_admin_v1_UpdateEntriesRequest__Output>
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

