// Original file: proto/admin.proto


export interface DeleteFederatedBundleRequest {
  'trust_domain'?: (string);
}

export interface DeleteFederatedBundleRequest__Output {
  'trust_domain': (string);
}
