// Original file: proto/admin.proto

import type { EntryResult as _steeple_admin_v1_EntryResult, EntryResult__Output as _steeple_admin_v1_EntryResult__Output } from '../../../steeple/admin/v1/EntryResult.js';

export interface EntryResults {
  'results'?: (_steeple_admin_v1_EntryResult)[];
}

export interface EntryResults__Output {
  'results': (_steeple_admin_v1_EntryResult__Output)[];
}
