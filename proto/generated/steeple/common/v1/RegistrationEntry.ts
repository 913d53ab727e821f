// Original file: proto/common.proto

import type { Selector as _steeple_common_v1_Selector, Selector__Output as _steeple_common_v1_Selector__Output } from '../../../steeple/common/v1/Selector.js';
import type { Long } from '@grpc/proto-loader';

export interface RegistrationEntry {
  'id'?: (string);
  'spiffe_id'?: (string);
  'parent_id'?: (string);
  'selectors'?: (_steeple_common_v1_Selector)[];
  'x509_svid_ttl'?: (number);
  'jwt_svid_ttl'?: (number);
  'dns_names'?: (string)[];
  'federates_with'?: (string)[];
  'admin'?: (boolean);
  'downstream'?: (boolean);
  'expires_at'?: (number | string | Long);
  'hint'?: (string);
  'store_svid'?: (boolean);
  'revision_number'?: (number | string | Long);
  'created_at'?: (number | string | Long);
  'owner'?: (string);
  'description'?: (string);
}

export interface RegistrationEntry__Output {
  'id': (string);
  'spiffe_id': (string);
  'parent_id': (string);
  'selectors': (_steeple_common_v1_Selector__Output)[];
  'x509_svid_ttl': (number);
  'jwt_svid_ttl': (number);
  'dns_names': (string)[];
  'federates_with': (string)[];
  'admin': (boolean);
  'downstream': (boolean);
  'expires_at': (string);
  'hint': (string);
  'store_svid': (boolean);
  'revision_number': (string);
  'created_at': (string);
  'owner': (string);
  'description': (string);
}
