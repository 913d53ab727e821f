// Original file: proto/agent.proto


export interface GetBundlesRequest {
}

export interface GetBundlesRequest__Output {
}
