// Original file: proto/admin.proto


export interface HealthRequest {
}

export interface HealthRequest__Output {
}
