// Original file: proto/admin.proto


export interface MintJWTSVIDRequest {
  'spiffe_id'?: (string);
  'audience'?: (string)[];
  'ttl'?: (number);
}

export interface MintJWTSVIDRequest__Output {
  'spiffe_id': (string);
  'audience': (string)[];
  'ttl': (number);
}
