// Original file: proto/agent.proto

import type { Status as _steeple_common_v1_Status, Status__Output as _steeple_common_v1_Status__Output } from '../../../steeple/common/v1/Status.js';
import type { Long } from '@grpc/proto-loader';

export interface _steeple_agent_v1_BatchNewX509SVIDResponse_Result {
  'status'?: (_steeple_common_v1_Status | null);
  'entry_id'?: (string);
  'spiffe_id'?: (string);
  'svid_chain'?: (Buffer | Uint8Array | string)[];
  'expires_at'?: (number | string | Long);
}

export interface _steeple_agent_v1_BatchNewX509SVIDResponse_Result__Output {
  'status': (_steeple_common_v1_Status__Output | null);
  'entry_id': (string);
  'spiffe_id': (string);
  'svid_chain': (Buffer)[];
  'expires_at': (string);
}

export interface BatchNewX509SVIDResponse {
  'results'?: (_steeple_agent_v1_BatchNewX509SVIDResponse_Result)[];
}

export interface BatchNewX509SVIDResponse__Output {
  'results': (_steeple_agent_v1_BatchNewX509SVIDResponse_Result__Output)[];
}
