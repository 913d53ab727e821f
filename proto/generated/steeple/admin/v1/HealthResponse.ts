// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface HealthResponse {
  'live'?: (boolean);
  'ready'?: (boolean);
  'trust_domain'?: (string);
  'ca_expires_at'?: (number | string | Long);
  'entries'?: (number | string | Long);
  'agents'?: (number | string | Long);
  'problem'?: (string);
}

export interface HealthResponse__Output {
  'live': (boolean);
  'ready': (boolean);
  'trust_domain': (string);
  'ca_expires_at': (string);
  'entries': (string);
  'agents': (string);
  'problem': (string);
}
