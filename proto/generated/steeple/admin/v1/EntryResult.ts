// Original file: proto/admin.proto

import type { Status as _steeple_common_v1_Status, Status__Output as _steeple_common_v1_Status__Output } from '../../../steeple/common/v1/Status.js';
import type { RegistrationEntry as _steeple_common_v1_RegistrationEntry, RegistrationEntry__Output as _steeple_common_v1_RegistrationEntry__Output } from '../../../steeple/common/v1/RegistrationEntry.js';

export interface EntryResult {
  'status'?: (_steeple_common_v1_Status | null);
  'entry'?: (_steeple_common_v1_RegistrationEntry | null);
  'index'?: (number);
}

export interface EntryResult__Output {
  'status': (_steeple_common_v1_Status__Output | null);
  'entry': (_steeple_common_v1_RegistrationEntry__Output | null);
  'index': (number);
}
