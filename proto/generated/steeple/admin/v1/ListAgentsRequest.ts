// Original file: proto/admin.proto

import type { Selector as _steeple_common_v1_Selector, Selector__Output as _steeple_common_v1_Selector__Output } from '../../../steeple/common/v1/Selector.js';

export interface ListAgentsRequest {
  'attestation_type'?: (string);
  'banned'?: (string);
  'selectors'?: (_steeple_common_v1_Selector)[];
}

export interface ListAgentsRequest__Output {
  'attestation_type': (string);
  'banned': (string);
  'selectors': (_steeple_common_v1_Selector__Output)[];
}
