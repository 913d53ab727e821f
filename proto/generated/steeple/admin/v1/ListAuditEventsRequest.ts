// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface ListAuditEventsRequest {
  'subject'?: (string);
  'actor'?: (string);
  'action'?: (string);
  'entry_id'?: (string);
  'since'?: (number | string | Long);
  'limit'?: (number);
}

export interface ListAuditEventsRequest__Output {
  'subject': (string);
  'actor': (string);
  'action': (string);
  'entry_id': (string);
  'since': (string);
  'limit': (number);
}
