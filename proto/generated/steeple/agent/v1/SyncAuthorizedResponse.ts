// Original file: proto/agent.proto

import type { RegistrationEntry as _steeple_common_v1_RegistrationEntry, RegistrationEntry__Output as _steeple_common_v1_RegistrationEntry__Output } from '../../../steeple/common/v1/RegistrationEntry.js';
import type { Bundle as _steeple_common_v1_Bundle, Bundle__Output as _steeple_common_v1_Bundle__Output } from '../../../steeple/common/v1/Bundle.js';

export interface SyncAuthorizedResponse {
  'full'?: (boolean);
  'upserted'?: (_steeple_common_v1_RegistrationEntry)[];
  'deleted_ids'?: (string)[];
  'bundles'?: (_steeple_common_v1_Bundle)[];
}

export interface SyncAuthorizedResponse__Output {
  'full': (boolean);
  'upserted': (_steeple_common_v1_RegistrationEntry__Output)[];
  'deleted_ids': (string)[];
  'bundles': (_steeple_common_v1_Bundle__Output)[];
}
