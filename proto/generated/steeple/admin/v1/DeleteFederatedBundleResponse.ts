// Original file: proto/admin.proto


export interface DeleteFederatedBundleResponse {
}

export interface DeleteFederatedBundleResponse__Output {
}
