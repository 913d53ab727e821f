// Original file: proto/agent.proto

import type { AttestationData as _steeple_agent_v1_AttestationData, AttestationData__Output as _steeple_agent_v1_AttestationData__Output } from '../../../steeple/agent/v1/AttestationData.js';

export interface _steeple_agent_v1_AttestAgentRequest_Params {
  'data'?: (_steeple_agent_v1_AttestationData | null);
  'csr'?: (Buffer | Uint8Array | string);
}

export interface _steeple_agent_v1_AttestAgentRequest_Params__Output {
  'data': (_steeple_agent_v1_AttestationData__Output | null);
  'csr': (Buffer);
}

export interface AttestAgentRequest {
  'params'?: (_steeple_agent_v1_AttestAgentRequest_Params | null);
  'challenge_response'?: (Buffer | Uint8Array | string);
  'step'?: "params"|"challenge_response";
}

export interface AttestAgentRequest__Output {
  'params'?: (_steeple_agent_v1_AttestAgentRequest_Params__Output | null);
  'challenge_response'?: (Buffer);
  'step'?: "params"|"challenge_response";
}
