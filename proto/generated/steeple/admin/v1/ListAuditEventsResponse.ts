// Original file: proto/admin.proto

import type { AuditEvent as _steeple_admin_v1_AuditEvent, AuditEvent__Output as _steeple_admin_v1_AuditEvent__Output } from '../../../steeple/admin/v1/AuditEvent.js';

export interface ListAuditEventsResponse {
  'events'?: (_steeple_admin_v1_AuditEvent)[];
}

export interface ListAuditEventsResponse__Output {
  'events': (_steeple_admin_v1_AuditEvent__Output)[];
}
