// Original file: proto/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface NewJWTSVIDResponse {
  'spiffe_id'?: (string);
  'token'?: (string);
  'issued_at'?: (number | string | Long);
  'expires_at'?: (number | string | Long);
}

export interface NewJWTSVIDResponse__Output {
  'spiffe_id': (string);
  'token': (string);
  'issued_at': (string);
  'expires_at': (string);
}
