// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface MintJWTSVIDResponse {
  'token'?: (string);
  'expires_at'?: (number | string | Long);
}

export interface MintJWTSVIDResponse__Output {
  'token': (string);
  'expires_at': (string);
}
