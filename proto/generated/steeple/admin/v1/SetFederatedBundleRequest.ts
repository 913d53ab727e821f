// Original file: proto/admin.proto


export interface SetFederatedBundleRequest {
  'trust_domain'?: (string);
  'data'?: (Buffer | Uint8Array | string);
  'format'?: (string);
}

export interface SetFederatedBundleRequest__Output {
  'trust_domain': (string);
  'data': (Buffer);
  'format': (string);
}
