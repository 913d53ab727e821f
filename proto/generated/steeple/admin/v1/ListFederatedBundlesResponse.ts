// Original file: proto/admin.proto

import type { Bundle as _steeple_common_v1_Bundle, Bundle__Output as _steeple_common_v1_Bundle__Output } from '../../../steeple/common/v1/Bundle.js';

export interface ListFederatedBundlesResponse {
  'bundles'?: (_steeple_common_v1_Bundle)[];
}

export interface ListFederatedBundlesResponse__Output {
  'bundles': (_steeple_common_v1_Bundle__Output)[];
}
