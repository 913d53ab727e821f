// Original file: proto/admin.proto


export interface MintX509SVIDRequest {
  'spiffe_id'?: (string);
  'csr'?: (Buffer | Uint8Array | string);
  'ttl'?: (number);
  'dns_names'?: (string)[];
}

export interface MintX509SVIDRequest__Output {
  'spiffe_id': (string);
  'csr': (Buffer);
  'ttl': (number);
  'dns_names': (string)[];
}
