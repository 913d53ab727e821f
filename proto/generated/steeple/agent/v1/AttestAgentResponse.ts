// Original file: proto/agent.proto

import type { Bundle as _steeple_common_v1_Bundle, Bundle__Output as _steeple_common_v1_Bundle__Output } from '../../../steeple/common/v1/Bundle.js';
import type { Long } from '@grpc/proto-loader';

export interface _steeple_agent_v1_AttestAgentResponse_Result {
  'agent_id'?: (string);
  'svid_chain'?: (Buffer | Uint8Array | string)[];
  'expires_at'?: (number | string | Long);
  'bundle'?: (_steeple_common_v1_Bundle | null);
  'reattestable'?: (boolean);
}

export interface _steeple_agent_v1_AttestAgentResponse_Result__Output {
  'agent_id': (string);
  'svid_chain': (Buffer)[];
  'expires_at': (string);
  'bundle': (_steeple_common_v1_Bundle__Output | null);
  'reattestable': (boolean);
}

export interface AttestAgentResponse {
  'challenge'?: (Buffer | Uint8Array | string);
  'result'?: (_steeple_agent_v1_AttestAgentResponse_Result | null);
  'step'?: "challenge"|"result";
}

export interface AttestAgentResponse__Output {
  'challenge'?: (Buffer);
  'result'?: (_steeple_agent_v1_AttestAgentResponse_Result__Output | null);
  'step'?: "challenge"|"result";
}
