// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface AuditEvent {
  'at_ms'?: (number | string | Long);
  'action'?: (string);
  'actor'?: (string);
  'subject'?: (string);
  'entry_id'?: (string);
  'details_json'?: (string);
}

export interface AuditEvent__Output {
  'at_ms': (string);
  'action': (string);
  'actor': (string);
  'subject': (string);
  'entry_id': (string);
  'details_json': (string);
}
