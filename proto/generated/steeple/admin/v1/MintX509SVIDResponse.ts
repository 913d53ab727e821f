// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface MintX509SVIDResponse {
  'svid_chain'?: (Buffer | Uint8Array | string)[];
  'expires_at'?: (number | string | Long);
  'bundle'?: (Buffer | Uint8Array | string)[];
}

export interface MintX509SVIDResponse__Output {
  'svid_chain': (Buffer)[];
  'expires_at': (string);
  'bundle': (Buffer)[];
}
