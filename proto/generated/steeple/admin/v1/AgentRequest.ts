// Original file: proto/admin.proto


export interface AgentRequest {
  'spiffe_id'?: (string);
}

export interface AgentRequest__Output {
  'spiffe_id': (string);
}
