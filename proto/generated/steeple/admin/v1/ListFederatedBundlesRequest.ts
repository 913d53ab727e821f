// Original file: proto/admin.proto


export interface ListFederatedBundlesRequest {
}

export interface ListFederatedBundlesRequest__Output {
}
