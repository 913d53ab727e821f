// Original file: proto/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Agent as _steeple_admin_v1_Agent, Agent__Output as _steeple_admin_v1_Agent__Output } from '../../../steeple/admin/v1/Agent.js';
import type { AgentRequest as _steeple_admin_v1_AgentRequest, AgentRequest__Output as _steeple_admin_v1_AgentRequest__Output } from '../../../steeple/admin/v1/AgentRequest.js';
import type { Bundle as _steeple_common_v1_Bundle, Bundle__Output as _steeple_common_v1_Bundle__Output } from '../../../steeple/common/v1/Bundle.js';
import type { CountResponse as _steeple_admin_v1_CountResponse, CountResponse__Output as _steeple_admin_v1_CountResponse__Output } from '../../../steeple/admin/v1/CountResponse.js';
import type { CreateEntriesRequest as _steeple_admin_v1_CreateEntriesRequest, CreateEntriesRequest__Output as _steeple_admin_v1_CreateEntriesRequest__Output } from '../../../steeple/admin/v1/CreateEntriesRequest.js';
import type { CreateJoinTokenRequest as _steeple_admin_v1_CreateJoinTokenRequest, CreateJoinTokenRequest__Output as _steeple_admin_v1_CreateJoinTokenRequest__Output } from '../../../steeple/admin/v1/CreateJoinTokenRequest.js';
import type { CreateJoinTokenResponse as _steeple_admin_v1_CreateJoinTokenResponse, CreateJoinTokenResponse__Output as _steeple_admin_v1_CreateJoinTokenResponse__Output } from '../../../steeple/admin/v1/CreateJoinTokenResponse.js';
import type { DeleteEntriesRequest as _steeple_admin_v1_DeleteEntriesRequest, DeleteEntriesRequest__Output as _steeple_admin_v1_DeleteEntriesRequest__Output } from '../../../steeple/admin/v1/DeleteEntriesRequest.js';
import type { DeleteFederatedBundleRequest as _steeple_admin_v1_DeleteFederatedBundleRequest, DeleteFederatedBundleRequest__Output as _steeple_admin_v1_DeleteFederatedBundleRequest__Output } from '../../../steeple/admin/v1/DeleteFederatedBundleRequest.js';
import type { DeleteFederatedBundleResponse as _steeple_admin_v1_DeleteFederatedBundleResponse, DeleteFederatedBundleResponse__Output as _steeple_admin_v1_DeleteFederatedBundleResponse__Output } from '../../../steeple/admin/v1/DeleteFederatedBundleResponse.js';
import type { EntryResults as _steeple_admin_v1_EntryResults, EntryResults__Output as _steeple_admin_v1_EntryResults__Output } from '../../../steeple/admin/v1/EntryResults.js';
import type { GetBundleRequest as _steeple_admin_v1_GetBundleRequest, GetBundleRequest__Output as _steeple_admin_v1_GetBundleRequest__Output } from '../../../steeple/admin/v1/GetBundleRequest.js';
import type { GetEntryRequest as _steeple_admin_v1_GetEntryRequest, GetEntryRequest__Output as _steeple_admin_v1_GetEntryRequest__Output } from '../../../steeple/admin/v1/GetEntryRequest.js';
import type { HealthRequest as _steeple_admin_v1_HealthRequest, HealthRequest__Output as _steeple_admin_v1_HealthRequest__Output } from '../../../steeple/admin/v1/HealthRequest.js';
import type { HealthResponse as _steeple_admin_v1_HealthResponse, HealthResponse__Output as _steeple_admin_v1_HealthResponse__Output } from '../../../steeple/admin/v1/HealthResponse.js';
import type { ListAgentsRequest as _steeple_admin_v1_ListAgentsRequest, ListAgentsRequest__Output as _steeple_admin_v1_ListAgentsRequest__Output } from '../../../steeple/admin/v1/ListAgentsRequest.js';
import type { ListAgentsResponse as _steeple_admin_v1_ListAgentsResponse, ListAgentsResponse__Output as _steeple_admin_v1_ListAgentsResponse__Output } from '../../../steeple/admin/v1/ListAgentsResponse.js';
import type { ListAuditEventsRequest as _steeple_admin_v1_ListAuditEventsRequest, ListAuditEventsRequest__Output as _steeple_admin_v1_ListAuditEventsRequest__Output } from '../../../steeple/admin/v1/ListAuditEventsRequest.js';
import type { ListAuditEventsResponse as _steeple_admin_v1_ListAuditEventsResponse, ListAuditEventsResponse__Output as _steeple_admin_v1_ListAuditEventsResponse__Output } from '../../../steeple/admin/v1/ListAuditEventsResponse.js';
import type { ListEntriesRequest as _steeple_admin_v1_ListEntriesRequest, ListEntriesRequest__Output as _steeple_admin_v1_ListEntriesRequest__Output } from '../../../steeple/admin/v1/ListEntriesRequest.js';
import type { ListEntriesResponse as _steeple_admin_v1_ListEntriesResponse, ListEntriesResponse__Output as _steeple_admin_v1_ListEntriesResponse__Output } from '../../../steeple/admin/v1/ListEntriesResponse.js';
import type { ListFederatedBundlesRequest as _steeple_admin_v1_ListFederatedBundlesRequest, ListFederatedBundlesRequest__Output as _steeple_admin_v1_ListFederatedBundlesRequest__Output } from '../../../steeple/admin/v1/ListFederatedBundlesRequest.js';
import type { ListFederatedBundlesResponse as _steeple_admin_v1_ListFederatedBundlesResponse, ListFederatedBundlesResponse__Output as _steeple_admin_v1_ListFederatedBundlesResponse__Output } from '../../../steeple/admin/v1/ListFederatedBundlesResponse.js';
import type { MintJWTSVIDRequest as _steeple_admin_v1_MintJWTSVIDRequest, MintJWTSVIDRequest__Output as _steeple_admin_v1_MintJWTSVIDRequest__Output } from '../../../steeple/admin/v1/MintJWTSVIDRequest.js';
import type { MintJWTSVIDResponse as _steeple_admin_v1_MintJWTSVIDResponse, MintJWTSVIDResponse__Output as _steeple_admin_v1_MintJWTSVIDResponse__Output } from '../../../steeple/admin/v1/MintJWTSVIDResponse.js';
import type { MintX509SVIDRequest as _steeple_admin_v1_MintX509SVIDRequest, MintX509SVIDRequest__Output as _steeple_admin_v1_MintX509SVIDRequest__Output } from '../../../steeple/admin/v1/MintX509SVIDRequest.js';
import type { MintX509SVIDResponse as _steeple_admin_v1_MintX509SVIDResponse, MintX509SVIDResponse__Output as _steeple_admin_v1_MintX509SVIDResponse__Output } from '../../../steeple/admin/v1/MintX509SVIDResponse.js';
import type { RegistrationEntry as _steeple_common_v1_RegistrationEntry, RegistrationEntry__Output as _steeple_common_v1_RegistrationEntry__Output } from '../../../steeple/common/v1/RegistrationEntry.js';
import type { SetFederatedBundleRequest as _steeple_admin_v1_SetFederatedBundleRequest, SetFederatedBundleRequest__Output as _steeple_admin_v1_SetFederatedBundleRequest__Output } from '../../../steeple/admin/v1/SetFederatedBundleRequest.js';
import type { UpdateEntriesRequest as _steeple_admin_v1_UpdateEntriesRequest, UpdateEntriesRequest__Output as _steeple_admin_v1_UpdateEntriesRequest__Output } from '../../../steeple/admin/v1/UpdateEntriesRequest.js';

export interface AdminAPIClient extends grpc.Client {
  BanAgent(argument: _steeple_admin_v1_AgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  BanAgent(argument: _steeple_admin_v1_AgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  BanAgent(argument: _steeple_admin_v1_AgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  BanAgent(argument: _steeple_admin_v1_AgentRequest, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  banAgent(argument: _steeple_admin_v1_AgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  banAgent(argument: _steeple_admin_v1_AgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  banAgent(argument: _steeple_admin_v1_AgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  banAgent(argument: _steeple_admin_v1_AgentRequest, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  
  CountEntries(argument: _steeple_admin_v1_ListEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_CountResponse__Output>): grpc.ClientUnaryCall;
  CountEntries(argument: _steeple_admin_v1_ListEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_CountResponse__Output>): grpc.ClientUnaryCall;
  CountEntries(argument: _steeple_admin_v1_ListEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_CountResponse__Output>): grpc.ClientUnaryCall;
  CountEntries(argument: _steeple_admin_v1_ListEntriesRequest, callback: grpc.requestCallback<_steeple_admin_v1_CountResponse__Output>): grpc.ClientUnaryCall;
  countEntries(argument: _steeple_admin_v1_ListEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_CountResponse__Output>): grpc.ClientUnaryCall;
  countEntries(argument: _steeple_admin_v1_ListEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_CountResponse__Output>): grpc.ClientUnaryCall;
  countEntries(argument: _steeple_admin_v1_ListEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_CountResponse__Output>): grpc.ClientUnaryCall;
  countEntries(argument: _steeple_admin_v1_ListEntriesRequest, callback: grpc.requestCallback<_steeple_admin_v1_CountResponse__Output>): grpc.ClientUnaryCall;
  
  CreateEntries(argument: _steeple_admin_v1_CreateEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  CreateEntries(argument: _steeple_admin_v1_CreateEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  CreateEntries(argument: _steeple_admin_v1_CreateEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  CreateEntries(argument: _steeple_admin_v1_CreateEntriesRequest, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  createEntries(argument: _steeple_admin_v1_CreateEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  createEntries(argument: _steeple_admin_v1_CreateEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  createEntries(argument: _steeple_admin_v1_CreateEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  createEntries(argument: _steeple_admin_v1_CreateEntriesRequest, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  
  CreateJoinToken(argument: _steeple_admin_v1_CreateJoinTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateJoinToken(argument: _steeple_admin_v1_CreateJoinTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateJoinToken(argument: _steeple_admin_v1_CreateJoinTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateJoinToken(argument: _steeple_admin_v1_CreateJoinTokenRequest, callback: grpc.requestCallback<_steeple_admin_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  createJoinToken(argument: _steeple_admin_v1_CreateJoinTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  createJoinToken(argument: _steeple_admin_v1_CreateJoinTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  createJoinToken(argument: _steeple_admin_v1_CreateJoinTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  createJoinToken(argument: _steeple_admin_v1_CreateJoinTokenRequest, callback: grpc.requestCallback<_steeple_admin_v1_CreateJoinTokenResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteEntries(argument: _steeple_admin_v1_DeleteEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  DeleteEntries(argument: _steeple_admin_v1_DeleteEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  DeleteEntries(argument: _steeple_admin_v1_DeleteEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  DeleteEntries(argument: _steeple_admin_v1_DeleteEntriesRequest, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  deleteEntries(argument: _steeple_admin_v1_DeleteEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  deleteEntries(argument: _steeple_admin_v1_DeleteEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  deleteEntries(argument: _steeple_admin_v1_DeleteEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  deleteEntries(argument: _steeple_admin_v1_DeleteEntriesRequest, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  
  DeleteFederatedBundle(argument: _steeple_admin_v1_DeleteFederatedBundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_DeleteFederatedBundleResponse__Output>): grpc.ClientUnaryCall;
  DeleteFederatedBundle(argument: _steeple_admin_v1_DeleteFederatedBundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_DeleteFederatedBundleResponse__Output>): grpc.ClientUnaryCall;
  DeleteFederatedBundle(argument: _steeple_admin_v1_DeleteFederatedBundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_DeleteFederatedBundleResponse__Output>): grpc.ClientUnaryCall;
  DeleteFederatedBundle(argument: _steeple_admin_v1_DeleteFederatedBundleRequest, callback: grpc.requestCallback<_steeple_admin_v1_DeleteFederatedBundleResponse__Output>): grpc.ClientUnaryCall;
  deleteFederatedBundle(argument: _steeple_admin_v1_DeleteFederatedBundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_DeleteFederatedBundleResponse__Output>): grpc.ClientUnaryCall;
  deleteFederatedBundle(argument: _steeple_admin_v1_DeleteFederatedBundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_DeleteFederatedBundleResponse__Output>): grpc.ClientUnaryCall;
  deleteFederatedBundle(argument: _steeple_admin_v1_DeleteFederatedBundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_DeleteFederatedBundleResponse__Output>): grpc.ClientUnaryCall;
  deleteFederatedBundle(argument: _steeple_admin_v1_DeleteFederatedBundleRequest, callback: grpc.requestCallback<_steeple_admin_v1_DeleteFederatedBundleResponse__Output>): grpc.ClientUnaryCall;
  
  EvictAgent(argument: _steeple_admin_v1_AgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  EvictAgent(argument: _steeple_admin_v1_AgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  EvictAgent(argument: _steeple_admin_v1_AgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  EvictAgent(argument: _steeple_admin_v1_AgentRequest, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  evictAgent(argument: _steeple_admin_v1_AgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  evictAgent(argument: _steeple_admin_v1_AgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  evictAgent(argument: _steeple_admin_v1_AgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  evictAgent(argument: _steeple_admin_v1_AgentRequest, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  
  GetAgent(argument: _steeple_admin_v1_AgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  GetAgent(argument: _steeple_admin_v1_AgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  GetAgent(argument: _steeple_admin_v1_AgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  GetAgent(argument: _steeple_admin_v1_AgentRequest, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  getAgent(argument: _steeple_admin_v1_AgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  getAgent(argument: _steeple_admin_v1_AgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  getAgent(argument: _steeple_admin_v1_AgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  getAgent(argument: _steeple_admin_v1_AgentRequest, callback: grpc.requestCallback<_steeple_admin_v1_Agent__Output>): grpc.ClientUnaryCall;
  
  GetBundle(argument: _steeple_admin_v1_GetBundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  GetBundle(argument: _steeple_admin_v1_GetBundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  GetBundle(argument: _steeple_admin_v1_GetBundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  GetBundle(argument: _steeple_admin_v1_GetBundleRequest, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  getBundle(argument: _steeple_admin_v1_GetBundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  getBundle(argument: _steeple_admin_v1_GetBundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  getBundle(argument: _steeple_admin_v1_GetBundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  getBundle(argument: _steeple_admin_v1_GetBundleRequest, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  
  GetEntry(argument: _steeple_admin_v1_GetEntryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_common_v1_RegistrationEntry__Output>): grpc.ClientUnaryCall;
  GetEntry(argument: _steeple_admin_v1_GetEntryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_common_v1_RegistrationEntry__Output>): grpc.ClientUnaryCall;
  GetEntry(argument: _steeple_admin_v1_GetEntryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_common_v1_RegistrationEntry__Output>): grpc.ClientUnaryCall;
  GetEntry(argument: _steeple_admin_v1_GetEntryRequest, callback: grpc.requestCallback<_steeple_common_v1_RegistrationEntry__Output>): grpc.ClientUnaryCall;
  getEntry(argument: _steeple_admin_v1_GetEntryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_common_v1_RegistrationEntry__Output>): grpc.ClientUnaryCall;
  getEntry(argument: _steeple_admin_v1_GetEntryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_common_v1_RegistrationEntry__Output>): grpc.ClientUnaryCall;
  getEntry(argument: _steeple_admin_v1_GetEntryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_common_v1_RegistrationEntry__Output>): grpc.ClientUnaryCall;
  getEntry(argument: _steeple_admin_v1_GetEntryRequest, callback: grpc.requestCallback<_steeple_common_v1_RegistrationEntry__Output>): grpc.ClientUnaryCall;
  
  Health(argument: _steeple_admin_v1_HealthRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  Health(argument: _steeple_admin_v1_HealthRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  Health(argument: _steeple_admin_v1_HealthRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  Health(argument: _steeple_admin_v1_HealthRequest, callback: grpc.requestCallback<_steeple_admin_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _steeple_admin_v1_HealthRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _steeple_admin_v1_HealthRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _steeple_admin_v1_HealthRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _steeple_admin_v1_HealthRequest, callback: grpc.requestCallback<_steeple_admin_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  
  ListAgents(argument: _steeple_admin_v1_ListAgentsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _steeple_admin_v1_ListAgentsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _steeple_admin_v1_ListAgentsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _steeple_admin_v1_ListAgentsRequest, callback: grpc.requestCallback<_steeple_admin_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _steeple_admin_v1_ListAgentsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _steeple_admin_v1_ListAgentsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _steeple_admin_v1_ListAgentsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _steeple_admin_v1_ListAgentsRequest, callback: grpc.requestCallback<_steeple_admin_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  
  ListAuditEvents(argument: _steeple_admin_v1_ListAuditEventsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  ListAuditEvents(argument: _steeple_admin_v1_ListAuditEventsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  ListAuditEvents(argument: _steeple_admin_v1_ListAuditEventsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  ListAuditEvents(argument: _steeple_admin_v1_ListAuditEventsRequest, callback: grpc.requestCallback<_steeple_admin_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  listAuditEvents(argument: _steeple_admin_v1_ListAuditEventsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  listAuditEvents(argument: _steeple_admin_v1_ListAuditEventsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  listAuditEvents(argument: _steeple_admin_v1_ListAuditEventsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  listAuditEvents(argument: _steeple_admin_v1_ListAuditEventsRequest, callback: grpc.requestCallback<_steeple_admin_v1_ListAuditEventsResponse__Output>): grpc.ClientUnaryCall;
  
  ListEntries(argument: _steeple_admin_v1_ListEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListEntriesResponse__Output>): grpc.ClientUnaryCall;
  ListEntries(argument: _steeple_admin_v1_ListEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_ListEntriesResponse__Output>): grpc.ClientUnaryCall;
  ListEntries(argument: _steeple_admin_v1_ListEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListEntriesResponse__Output>): grpc.ClientUnaryCall;
  ListEntries(argument: _steeple_admin_v1_ListEntriesRequest, callback: grpc.requestCallback<_steeple_admin_v1_ListEntriesResponse__Output>): grpc.ClientUnaryCall;
  listEntries(argument: _steeple_admin_v1_ListEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListEntriesResponse__Output>): grpc.ClientUnaryCall;
  listEntries(argument: _steeple_admin_v1_ListEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_ListEntriesResponse__Output>): grpc.ClientUnaryCall;
  listEntries(argument: _steeple_admin_v1_ListEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListEntriesResponse__Output>): grpc.ClientUnaryCall;
  listEntries(argument: _steeple_admin_v1_ListEntriesRequest, callback: grpc.requestCallback<_steeple_admin_v1_ListEntriesResponse__Output>): grpc.ClientUnaryCall;
  
  ListFederatedBundles(argument: _steeple_admin_v1_ListFederatedBundlesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListFederatedBundlesResponse__Output>): grpc.ClientUnaryCall;
  ListFederatedBundles(argument: _steeple_admin_v1_ListFederatedBundlesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_ListFederatedBundlesResponse__Output>): grpc.ClientUnaryCall;
  ListFederatedBundles(argument: _steeple_admin_v1_ListFederatedBundlesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListFederatedBundlesResponse__Output>): grpc.ClientUnaryCall;
  ListFederatedBundles(argument: _steeple_admin_v1_ListFederatedBundlesRequest, callback: grpc.requestCallback<_steeple_admin_v1_ListFederatedBundlesResponse__Output>): grpc.ClientUnaryCall;
  listFederatedBundles(argument: _steeple_admin_v1_ListFederatedBundlesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListFederatedBundlesResponse__Output>): grpc.ClientUnaryCall;
  listFederatedBundles(argument: _steeple_admin_v1_ListFederatedBundlesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_ListFederatedBundlesResponse__Output>): grpc.ClientUnaryCall;
  listFederatedBundles(argument: _steeple_admin_v1_ListFederatedBundlesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_ListFederatedBundlesResponse__Output>): grpc.ClientUnaryCall;
  listFederatedBundles(argument: _steeple_admin_v1_ListFederatedBundlesRequest, callback: grpc.requestCallback<_steeple_admin_v1_ListFederatedBundlesResponse__Output>): grpc.ClientUnaryCall;
  
  MintJWTSVID(argument: _steeple_admin_v1_MintJWTSVIDRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_MintJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  MintJWTSVID(argument: _steeple_admin_v1_MintJWTSVIDRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_MintJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  MintJWTSVID(argument: _steeple_admin_v1_MintJWTSVIDRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_MintJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  MintJWTSVID(argument: _steeple_admin_v1_MintJWTSVIDRequest, callback: grpc.requestCallback<_steeple_admin_v1_MintJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  mintJwtsvid(argument: _steeple_admin_v1_MintJWTSVIDRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_MintJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  mintJwtsvid(argument: _steeple_admin_v1_MintJWTSVIDRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_MintJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  mintJwtsvid(argument: _steeple_admin_v1_MintJWTSVIDRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_MintJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  mintJwtsvid(argument: _steeple_admin_v1_MintJWTSVIDRequest, callback: grpc.requestCallback<_steeple_admin_v1_MintJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  
  MintX509SVID(argument: _steeple_admin_v1_MintX509SVIDRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_MintX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  MintX509SVID(argument: _steeple_admin_v1_MintX509SVIDRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_MintX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  MintX509SVID(argument: _steeple_admin_v1_MintX509SVIDRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_MintX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  MintX509SVID(argument: _steeple_admin_v1_MintX509SVIDRequest, callback: grpc.requestCallback<_steeple_admin_v1_MintX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  mintX509Svid(argument: _steeple_admin_v1_MintX509SVIDRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_MintX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  mintX509Svid(argument: _steeple_admin_v1_MintX509SVIDRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_MintX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  mintX509Svid(argument: _steeple_admin_v1_MintX509SVIDRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_MintX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  mintX509Svid(argument: _steeple_admin_v1_MintX509SVIDRequest, callback: grpc.requestCallback<_steeple_admin_v1_MintX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  
  SetFederatedBundle(argument: _steeple_admin_v1_SetFederatedBundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  SetFederatedBundle(argument: _steeple_admin_v1_SetFederatedBundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  SetFederatedBundle(argument: _steeple_admin_v1_SetFederatedBundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  SetFederatedBundle(argument: _steeple_admin_v1_SetFederatedBundleRequest, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  setFederatedBundle(argument: _steeple_admin_v1_SetFederatedBundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  setFederatedBundle(argument: _steeple_admin_v1_SetFederatedBundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  setFederatedBundle(argument: _steeple_admin_v1_SetFederatedBundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  setFederatedBundle(argument: _steeple_admin_v1_SetFederatedBundleRequest, callback: grpc.requestCallback<_steeple_common_v1_Bundle__Output>): grpc.ClientUnaryCall;
  
  UpdateEntries(argument: _steeple_admin_v1_UpdateEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  UpdateEntries(argument: _steeple_admin_v1_UpdateEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  UpdateEntries(argument: _steeple_admin_v1_UpdateEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  UpdateEntries(argument: _steeple_admin_v1_UpdateEntriesRequest, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  updateEntries(argument: _steeple_admin_v1_UpdateEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  updateEntries(argument: _steeple_admin_v1_UpdateEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  updateEntries(argument: _steeple_admin_v1_UpdateEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  updateEntries(argument: _steeple_admin_v1_UpdateEntriesRequest, callback: grpc.requestCallback<_steeple_admin_v1_EntryResults__Output>): grpc.ClientUnaryCall;
  
}

export interface AdminAPIHandlers extends grpc.UntypedServiceImplementation {
  BanAgent: grpc.handleUnaryCall<_steeple_admin_v1_AgentRequest__Output, _steeple_admin_v1_Agent>;
  
  CountEntries: grpc.handleUnaryCall<_steeple_admin_v1_ListEntriesRequest__Output, _steeple_admin_v1_CountResponse>;
  
  CreateEntries: grpc.handleUnaryCall<_steeple_admin_v1_CreateEntriesRequest__Output, _steeple_admin_v1_EntryResults>;
  
  CreateJoinToken: grpc.handleUnaryCall<_steeple_admin_v1_CreateJoinTokenRequest__Output, _steeple_admin_v1_CreateJoinTokenResponse>;
  
  DeleteEntries: grpc.handleUnaryCall<_steeple_admin_v1_DeleteEntriesRequest__Output, _steeple_admin_v1_EntryResults>;
  
  DeleteFederatedBundle: grpc.handleUnaryCall<_steeple_admin_v1_DeleteFederatedBundleRequest__Output, _steeple_admin_v1_DeleteFederatedBundleResponse>;
  
  EvictAgent: grpc.handleUnaryCall<_steeple_admin_v1_AgentRequest__Output, _steeple_admin_v1_Agent>;
  
  GetAgent: grpc.handleUnaryCall<_steeple_admin_v1_AgentRequest__Output, _steeple_admin_v1_Agent>;
  
  GetBundle: grpc.handleUnaryCall<_steeple_admin_v1_GetBundleRequest__Output, _steeple_common_v1_Bundle>;
  
  GetEntry: grpc.handleUnaryCall<_steeple_admin_v1_GetEntryRequest__Output, _steeple_common_v1_RegistrationEntry>;
  
  Health: grpc.handleUnaryCall<_steeple_admin_v1_HealthRequest__Output, _steeple_admin_v1_HealthResponse>;
  
  ListAgents: grpc.handleUnaryCall<_steeple_admin_v1_ListAgentsRequest__Output, _steeple_admin_v1_ListAgentsResponse>;
  
  ListAuditEvents: grpc.handleUnaryCall<_steeple_admin_v1_ListAuditEventsRequest__Output, _steeple_admin_v1_ListAuditEventsResponse>;
  
  ListEntries: grpc.handleUnaryCall<_steeple_admin_v1_ListEntriesRequest__Output, _steeple_admin_v1_ListEntriesResponse>;
  
  ListFederatedBundles: grpc.handleUnaryCall<_steeple_admin_v1_ListFederatedBundlesRequest__Output, _steeple_admin_v1_ListFederatedBundlesResponse>;
  
  MintJWTSVID: grpc.handleUnaryCall<_steeple_admin_v1_MintJWTSVIDRequest__Output, _steeple_admin_v1_MintJWTSVIDResponse>;
  
  MintX509SVID: grpc.handleUnaryCall<_steeple_admin_v1_MintX509SVIDRequest__Output, _steeple_admin_v1_MintX509SVIDResponse>;
  
  SetFederatedBundle: grpc.handleUnaryCall<_steeple_admin_v1_SetFederatedBundleRequest__Output, _steeple_common_v1_Bundle>;
  
  UpdateEntries: grpc.handleUnaryCall<_steeple_admin_v1_UpdateEntriesRequest__Output, _steeple_admin_v1_EntryResults>;
  
}

export interface AdminAPIDefinition extends grpc.ServiceDefinition {
  BanAgent: MethodDefinition<_steeple_admin_v1_AgentRequest, _steeple_admin_v1_Agent, _steeple_admin_v1_AgentRequest__Output, _steeple_admin_v1_Agent__Output>
  CountEntries: MethodDefinition<_steeple_admin_v1_ListEntriesRequest, _steeple_admin_v1_CountResponse, _steeple_admin_v1_ListEntriesRequest__Output, _steeple_admin_v1_CountResponse__Output>
  CreateEntries: MethodDefinition<_steeple_admin_v1_CreateEntriesRequest, _steeple_admin_v1_EntryResults, _steeple_admin_v1_CreateEntriesRequest__Output, _steeple_admin_v1_EntryResults__Output>
  CreateJoinToken: MethodDefinition<_steeple_admin_v1_CreateJoinTokenRequest, _steeple_admin_v1_CreateJoinTokenResponse, _steeple_admin_v1_CreateJoinTokenRequest__Output, _steeple_admin_v1_CreateJoinTokenResponse__Output>
  DeleteEntries: MethodDefinition<_steeple_admin_v1_DeleteEntriesRequest, _steeple_admin_v1_EntryResults, _steeple_admin_v1_DeleteEntriesRequest__Output, _steeple_admin_v1_EntryResults__Output>
  DeleteFederatedBundle: MethodDefinition<_steeple_admin_v1_DeleteFederatedBundleRequest, _steeple_admin_v1_DeleteFederatedBundleResponse, _steeple_admin_v1_DeleteFederatedBundleRequest__Output, _steeple_admin_v1_DeleteFederatedBundleResponse__Output>
  EvictAgent: MethodDefinition<_steeple_admin_v1_AgentRequest, _steeple_admin_v1_Agent, _steeple_admin_v1_AgentRequest__Output, _steeple_admin_v1_Agent__Output>
  GetAgent: MethodDefinition<_steeple_admin_v1_AgentRequest, _steeple_admin_v1_Agent, _steeple_admin_v1_AgentRequest__Output, _steeple_admin_v1_Agent__Output>
  GetBundle: MethodDefinition<_steeple_admin_v1_GetBundleRequest, _steeple_common_v1_Bundle, _steeple_admin_v1_GetBundleRequest__Output, _steeple_common_v1_Bundle__Output>
  GetEntry: MethodDefinition<_steeple_admin_v1_GetEntryRequest, _steeple_common_v1_RegistrationEntry, _steeple_admin_v1_GetEntryRequest__Output, _steeple_common_v1_RegistrationEntry__Output>
  Health: MethodDefinition<_steeple_admin_v1_HealthRequest, _steeple_admin_v1_HealthResponse, _steeple_admin_v1_HealthRequest__Output, _steeple_admin_v1_HealthResponse__Output>
  ListAgents: MethodDefinition<_steeple_admin_v1_ListAgentsRequest, _steeple_admin_v1_ListAgentsResponse, _steeple_admin_v1_ListAgentsRequest__Output, _steeple_admin_v1_ListAgentsResponse__Output>
  ListAuditEvents: MethodDefinition<_steeple_admin_v1_ListAuditEventsRequest, _steeple_admin_v1_ListAuditEventsResponse, _steeple_admin_v1_ListAuditEventsRequest__Output, _steeple_admin_v1_ListAuditEventsResponse__Output>
  ListEntries: MethodDefinition<_steeple_admin_v1_ListEntriesRequest, _steeple_admin_v1_ListEntriesResponse, _steeple_admin_v1_ListEntriesRequest__Output, _steeple_admin_v1_ListEntriesResponse__Output>
  ListFederatedBundles: MethodDefinition<_steeple_admin_v1_ListFederatedBundlesRequest, _steeple_admin_v1_ListFederatedBundlesResponse, _steeple_admin_v1_ListFederatedBundlesRequest__Output, _steeple_admin_v1_ListFederatedBundlesResponse__Output>
  MintJWTSVID: MethodDefinition<_steeple_admin_v1_MintJWTSVIDRequest, _steeple_admin_v1_MintJWTSVIDResponse, _steeple_admin_v1_MintJWTSVIDRequest__Output, _steeple_admin_v1_MintJWTSVIDResponse__Output>
  MintX509SVID: MethodDefinition<_steeple_admin_v1_MintX509SVIDRequest, _steeple_admin_v1_MintX509SVIDResponse, _steeple_admin_v1_MintX509SVIDRequest__Output, _steeple_admin_v1_MintX509SVIDResponse__Output>
  SetFederatedBundle: MethodDefinition<_steeple_admin_v1_SetFederatedBundleRequest, _steeple_common_v1_Bundle, _steeple_admin_v1_SetFederatedBundleRequest__Output, _steeple_common_v1_Bundle__Output>
  UpdateEntries: MethodDefinition<_steeple_admin_v1_UpdateEntriesRequest, _steeple_admin_v1_EntryResults, _steeple_admin_v1_UpdateEntriesRequest__Output, _steeple_admin_v1_EntryResults__Output>
}
