// Original file: proto/agent.proto


export interface SyncAuthorizedRequest {
}

export interface SyncAuthorizedRequest__Output {
}
