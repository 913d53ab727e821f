// Original file: proto/workload.proto


export interface WITBundlesRequest {
}

export interface WITBundlesRequest__Output {
}
