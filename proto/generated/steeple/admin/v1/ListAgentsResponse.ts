// Original file: proto/admin.proto

import type { Agent as _steeple_admin_v1_Agent, Agent__Output as _steeple_admin_v1_Agent__Output } from '../../../steeple/admin/v1/Agent.js';

export interface ListAgentsResponse {
  'agents'?: (_steeple_admin_v1_Agent)[];
}

export interface ListAgentsResponse__Output {
  'agents': (_steeple_admin_v1_Agent__Output)[];
}
