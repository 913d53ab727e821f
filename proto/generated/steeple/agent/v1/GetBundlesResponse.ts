// Original file: proto/agent.proto

import type { Bundle as _steeple_common_v1_Bundle, Bundle__Output as _steeple_common_v1_Bundle__Output } from '../../../steeple/common/v1/Bundle.js';

export interface GetBundlesResponse {
  'bundles'?: (_steeple_common_v1_Bundle)[];
}

export interface GetBundlesResponse__Output {
  'bundles': (_steeple_common_v1_Bundle__Output)[];
}
