// Original file: proto/admin.proto

import type { Selector as _steeple_common_v1_Selector, Selector__Output as _steeple_common_v1_Selector__Output } from '../../../steeple/common/v1/Selector.js';

export interface ListEntriesRequest {
  'spiffe_id'?: (string);
  'parent_id'?: (string);
  'selectors'?: (_steeple_common_v1_Selector)[];
  'match'?: (string);
  'hint'?: (string);
  'owner'?: (string);
  'federates_with'?: (string);
  'page_token'?: (string);
  'page_size'?: (number);
}

export interface ListEntriesRequest__Output {
  'spiffe_id': (string);
  'parent_id': (string);
  'selectors': (_steeple_common_v1_Selector__Output)[];
  'match': (string);
  'hint': (string);
  'owner': (string);
  'federates_with': (string);
  'page_token': (string);
  'page_size': (number);
}
