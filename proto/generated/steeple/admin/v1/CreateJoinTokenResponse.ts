// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface CreateJoinTokenResponse {
  'token'?: (string);
  'expires_at'?: (number | string | Long);
  'agent_id'?: (string);
}

export interface CreateJoinTokenResponse__Output {
  'token': (string);
  'expires_at': (string);
  'agent_id': (string);
}
