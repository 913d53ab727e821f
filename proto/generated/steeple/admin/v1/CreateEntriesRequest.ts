// Original file: proto/admin.proto

import type { RegistrationEntry as _steeple_common_v1_RegistrationEntry, RegistrationEntry__Output as _steeple_common_v1_RegistrationEntry__Output } from '../../../steeple/common/v1/RegistrationEntry.js';

export interface CreateEntriesRequest {
  'entries'?: (_steeple_common_v1_RegistrationEntry)[];
}

export interface CreateEntriesRequest__Output {
  'entries': (_steeple_common_v1_RegistrationEntry__Output)[];
}
