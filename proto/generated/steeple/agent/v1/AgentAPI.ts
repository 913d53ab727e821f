// Original file: proto/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AttestAgentRequest as _steeple_agent_v1_AttestAgentRequest, AttestAgentRequest__Output as _steeple_agent_v1_AttestAgentRequest__Output } from '../../../steeple/agent/v1/AttestAgentRequest.js';
import type { AttestAgentResponse as _steeple_agent_v1_AttestAgentResponse, AttestAgentResponse__Output as _steeple_agent_v1_AttestAgentResponse__Output } from '../../../steeple/agent/v1/AttestAgentResponse.js';
import type { BatchNewX509SVIDRequest as _steeple_agent_v1_BatchNewX509SVIDRequest, BatchNewX509SVIDRequest__Output as _steeple_agent_v1_BatchNewX509SVIDRequest__Output } from '../../../steeple/agent/v1/BatchNewX509SVIDRequest.js';
import type { BatchNewX509SVIDResponse as _steeple_agent_v1_BatchNewX509SVIDResponse, BatchNewX509SVIDResponse__Output as _steeple_agent_v1_BatchNewX509SVIDResponse__Output } from '../../../steeple/agent/v1/BatchNewX509SVIDResponse.js';
import type { GetBundlesRequest as _steeple_agent_v1_GetBundlesRequest, GetBundlesRequest__Output as _steeple_agent_v1_GetBundlesRequest__Output } from '../../../steeple/agent/v1/GetBundlesRequest.js';
import type { GetBundlesResponse as _steeple_agent_v1_GetBundlesResponse, GetBundlesResponse__Output as _steeple_agent_v1_GetBundlesResponse__Output } from '../../../steeple/agent/v1/GetBundlesResponse.js';
import type { NewJWTSVIDRequest as _steeple_agent_v1_NewJWTSVIDRequest, NewJWTSVIDRequest__Output as _steeple_agent_v1_NewJWTSVIDRequest__Output } from '../../../steeple/agent/v1/NewJWTSVIDRequest.js';
import type { NewJWTSVIDResponse as _steeple_agent_v1_NewJWTSVIDResponse, NewJWTSVIDResponse__Output as _steeple_agent_v1_NewJWTSVIDResponse__Output } from '../../../steeple/agent/v1/NewJWTSVIDResponse.js';
import type { RenewAgentRequest as _steeple_agent_v1_RenewAgentRequest, RenewAgentRequest__Output as _steeple_agent_v1_RenewAgentRequest__Output } from '../../../steeple/agent/v1/RenewAgentRequest.js';
import type { RenewAgentResponse as _steeple_agent_v1_RenewAgentResponse, RenewAgentResponse__Output as _steeple_agent_v1_RenewAgentResponse__Output } from '../../../steeple/agent/v1/RenewAgentResponse.js';
import type { SyncAuthorizedRequest as _steeple_agent_v1_SyncAuthorizedRequest, SyncAuthorizedRequest__Output as _steeple_agent_v1_SyncAuthorizedRequest__Output } from '../../../steeple/agent/v1/SyncAuthorizedRequest.js';
import type { SyncAuthorizedResponse as _steeple_agent_v1_SyncAuthorizedResponse, SyncAuthorizedResponse__Output as _steeple_agent_v1_SyncAuthorizedResponse__Output } from '../../../steeple/agent/v1/SyncAuthorizedResponse.js';

export interface AgentAPIClient extends grpc.Client {
  AttestAgent(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_steeple_agent_v1_AttestAgentRequest, _steeple_agent_v1_AttestAgentResponse__Output>;
  AttestAgent(options?: grpc.CallOptions): grpc.ClientDuplexStream<_steeple_agent_v1_AttestAgentRequest, _steeple_agent_v1_AttestAgentResponse__Output>;
  attestAgent(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_steeple_agent_v1_AttestAgentRequest, _steeple_agent_v1_AttestAgentResponse__Output>;
  attestAgent(options?: grpc.CallOptions): grpc.ClientDuplexStream<_steeple_agent_v1_AttestAgentRequest, _steeple_agent_v1_AttestAgentResponse__Output>;
  
  BatchNewX509SVID(argument: _steeple_agent_v1_BatchNewX509SVIDRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  BatchNewX509SVID(argument: _steeple_agent_v1_BatchNewX509SVIDRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_agent_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  BatchNewX509SVID(argument: _steeple_agent_v1_BatchNewX509SVIDRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  BatchNewX509SVID(argument: _steeple_agent_v1_BatchNewX509SVIDRequest, callback: grpc.requestCallback<_steeple_agent_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  batchNewX509Svid(argument: _steeple_agent_v1_BatchNewX509SVIDRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  batchNewX509Svid(argument: _steeple_agent_v1_BatchNewX509SVIDRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_agent_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  batchNewX509Svid(argument: _steeple_agent_v1_BatchNewX509SVIDRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  batchNewX509Svid(argument: _steeple_agent_v1_BatchNewX509SVIDRequest, callback: grpc.requestCallback<_steeple_agent_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  
  GetBundles(argument: _steeple_agent_v1_GetBundlesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_GetBundlesResponse__Output>): grpc.ClientUnaryCall;
  GetBundles(argument: _steeple_agent_v1_GetBundlesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_agent_v1_GetBundlesResponse__Output>): grpc.ClientUnaryCall;
  GetBundles(argument: _steeple_agent_v1_GetBundlesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_GetBundlesResponse__Output>): grpc.ClientUnaryCall;
  GetBundles(argument: _steeple_agent_v1_GetBundlesRequest, callback: grpc.requestCallback<_steeple_agent_v1_GetBundlesResponse__Output>): grpc.ClientUnaryCall;
  getBundles(argument: _steeple_agent_v1_GetBundlesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_GetBundlesResponse__Output>): grpc.ClientUnaryCall;
  getBundles(argument: _steeple_agent_v1_GetBundlesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_agent_v1_GetBundlesResponse__Output>): grpc.ClientUnaryCall;
  getBundles(argument: _steeple_agent_v1_GetBundlesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_GetBundlesResponse__Output>): grpc.ClientUnaryCall;
  getBundles(argument: _steeple_agent_v1_GetBundlesRequest, callback: grpc.requestCallback<_steeple_agent_v1_GetBundlesResponse__Output>): grpc.ClientUnaryCall;
  
  NewJWTSVID(argument: _steeple_agent_v1_NewJWTSVIDRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  NewJWTSVID(argument: _steeple_agent_v1_NewJWTSVIDRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_agent_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  NewJWTSVID(argument: _steeple_agent_v1_NewJWTSVIDRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  NewJWTSVID(argument: _steeple_agent_v1_NewJWTSVIDRequest, callback: grpc.requestCallback<_steeple_agent_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  newJwtsvid(argument: _steeple_agent_v1_NewJWTSVIDRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  newJwtsvid(argument: _steeple_agent_v1_NewJWTSVIDRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_agent_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  newJwtsvid(argument: _steeple_agent_v1_NewJWTSVIDRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  newJwtsvid(argument: _steeple_agent_v1_NewJWTSVIDRequest, callback: grpc.requestCallback<_steeple_agent_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  
  RenewAgent(argument: _steeple_agent_v1_RenewAgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  RenewAgent(argument: _steeple_agent_v1_RenewAgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  RenewAgent(argument: _steeple_agent_v1_RenewAgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  RenewAgent(argument: _steeple_agent_v1_RenewAgentRequest, callback: grpc.requestCallback<_steeple_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  renewAgent(argument: _steeple_agent_v1_RenewAgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  renewAgent(argument: _steeple_agent_v1_RenewAgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_steeple_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  renewAgent(argument: _steeple_agent_v1_RenewAgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_steeple_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  renewAgent(argument: _steeple_agent_v1_RenewAgentRequest, callback: grpc.requestCallback<_steeple_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  
  SyncAuthorized(argument: _steeple_agent_v1_SyncAuthorizedRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_steeple_agent_v1_SyncAuthorizedResponse__Output>;
  SyncAuthorized(argument: _steeple_agent_v1_SyncAuthorizedRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_steeple_agent_v1_SyncAuthorizedResponse__Output>;
  syncAuthorized(argument: _steeple_agent_v1_SyncAuthorizedRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_steeple_agent_v1_SyncAuthorizedResponse__Output>;
  syncAuthorized(argument: _steeple_agent_v1_SyncAuthorizedRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_steeple_agent_v1_SyncAuthorizedResponse__Output>;
  
}

export interface AgentAPIHandlers extends grpc.UntypedServiceImplementation {
  AttestAgent: grpc.handleBidiStreamingCall<_steeple_agent_v1_AttestAgentRequest__Output, _steeple_agent_v1_AttestAgentResponse>;
  
  BatchNewX509SVID: grpc.handleUnaryCall<_steeple_agent_v1_BatchNewX509SVIDRequest__Output, _steeple_agent_v1_BatchNewX509SVIDResponse>;
  
  GetBundles: grpc.handleUnaryCall<_steeple_agent_v1_GetBundlesRequest__Output, _steeple_agent_v1_GetBundlesResponse>;
  
  NewJWTSVID: grpc.handleUnaryCall<_steeple_agent_v1_NewJWTSVIDRequest__Output, _steeple_agent_v1_NewJWTSVIDResponse>;
  
  RenewAgent: grpc.handleUnaryCall<_steeple_agent_v1_RenewAgentRequest__Output, _steeple_agent_v1_RenewAgentResponse>;
  
  SyncAuthorized: grpc.handleServerStreamingCall<_steeple_agent_v1_SyncAuthorizedRequest__Output, _steeple_agent_v1_SyncAuthorizedResponse>;
  
}

export interface AgentAPIDefinition extends grpc.ServiceDefinition {
  AttestAgent: MethodDefinition<_steeple_agent_v1_AttestAgentRequest, _steeple_agent_v1_AttestAgentResponse, _steeple_agent_v1_AttestAgentRequest__Output, _steeple_agent_v1_AttestAgentResponse__Output>
  BatchNewX509SVID: MethodDefinition<_steeple_agent_v1_BatchNewX509SVIDRequest, _steeple_agent_v1_BatchNewX509SVIDResponse, _steeple_agent_v1_BatchNewX509SVIDRequest__Output, _steeple_agent_v1_BatchNewX509SVIDResponse__Output>
  GetBundles: MethodDefinition<_steeple_agent_v1_GetBundlesRequest, _steeple_agent_v1_GetBundlesResponse, _steeple_agent_v1_GetBundlesRequest__Output, _steeple_agent_v1_GetBundlesResponse__Output>
  NewJWTSVID: MethodDefinition<_steeple_agent_v1_NewJWTSVIDRequest, _steeple_agent_v1_NewJWTSVIDResponse, _steeple_agent_v1_NewJWTSVIDRequest__Output, _steeple_agent_v1_NewJWTSVIDResponse__Output>
  RenewAgent: MethodDefinition<_steeple_agent_v1_RenewAgentRequest, _steeple_agent_v1_RenewAgentResponse, _steeple_agent_v1_RenewAgentRequest__Output, _steeple_agent_v1_RenewAgentResponse__Output>
  SyncAuthorized: MethodDefinition<_steeple_agent_v1_SyncAuthorizedRequest, _steeple_agent_v1_SyncAuthorizedResponse, _steeple_agent_v1_SyncAuthorizedRequest__Output, _steeple_agent_v1_SyncAuthorizedResponse__Output>
}
