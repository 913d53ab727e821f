// Original file: proto/admin.proto


export interface CreateJoinTokenRequest {
  'ttl'?: (number);
  'spiffe_id'?: (string);
}

export interface CreateJoinTokenRequest__Output {
  'ttl': (number);
  'spiffe_id': (string);
}
