// Original file: proto/admin.proto


export interface GetBundleRequest {
}

export interface GetBundleRequest__Output {
}
