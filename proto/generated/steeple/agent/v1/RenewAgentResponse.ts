// Original file: proto/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface RenewAgentResponse {
  'svid_chain'?: (Buffer | Uint8Array | string)[];
  'expires_at'?: (number | string | Long);
}

export interface RenewAgentResponse__Output {
  'svid_chain': (Buffer)[];
  'expires_at': (string);
}
