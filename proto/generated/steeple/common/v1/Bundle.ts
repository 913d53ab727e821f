// Original file: proto/common.proto

import type { JwtAuthority as _steeple_common_v1_JwtAuthority, JwtAuthority__Output as _steeple_common_v1_JwtAuthority__Output } from '../../../steeple/common/v1/JwtAuthority.js';
import type { Long } from '@grpc/proto-loader';

export interface Bundle {
  'trust_domain'?: (string);
  'x509_authorities'?: (Buffer | Uint8Array | string)[];
  'jwt_authorities'?: (_steeple_common_v1_JwtAuthority)[];
  'sequence_number'?: (string);
  'refresh_hint'?: (number | string | Long);
}

export interface Bundle__Output {
  'trust_domain': (string);
  'x509_authorities': (Buffer)[];
  'jwt_authorities': (_steeple_common_v1_JwtAuthority__Output)[];
  'sequence_number': (string);
  'refresh_hint': (string);
}
