// Original file: proto/admin.proto

import type { Selector as _steeple_common_v1_Selector, Selector__Output as _steeple_common_v1_Selector__Output } from '../../../steeple/common/v1/Selector.js';
import type { Long } from '@grpc/proto-loader';

export interface Agent {
  'spiffe_id'?: (string);
  'attestation_type'?: (string);
  'selectors'?: (_steeple_common_v1_Selector)[];
  'cert_serial'?: (string);
  'cert_expires_at'?: (number | string | Long);
  'banned'?: (boolean);
  'can_reattest'?: (boolean);
  'created_at'?: (number | string | Long);
  'last_seen_at'?: (number | string | Long);
}

export interface Agent__Output {
  'spiffe_id': (string);
  'attestation_type': (string);
  'selectors': (_steeple_common_v1_Selector__Output)[];
  'cert_serial': (string);
  'cert_expires_at': (string);
  'banned': (boolean);
  'can_reattest': (boolean);
  'created_at': (string);
  'last_seen_at': (string);
}
