// Original file: proto/workload.proto


export interface WITBundlesResponse {
  'bundles'?: ({[key: string]: string});
}

export interface WITBundlesResponse__Output {
  'bundles': ({[key: string]: string});
}
