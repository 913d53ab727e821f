// Original file: proto/admin.proto

import type { RegistrationEntry as _steeple_common_v1_RegistrationEntry, RegistrationEntry__Output as _steeple_common_v1_RegistrationEntry__Output } from '../../../steeple/common/v1/RegistrationEntry.js';

export interface ListEntriesResponse {
  'entries'?: (_steeple_common_v1_RegistrationEntry)[];
  'next_page_token'?: (string);
}

export interface ListEntriesResponse__Output {
  'entries': (_steeple_common_v1_RegistrationEntry__Output)[];
  'next_page_token': (string);
}
