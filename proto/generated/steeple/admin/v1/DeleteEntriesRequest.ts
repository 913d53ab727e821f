// Original file: proto/admin.proto


export interface DeleteEntriesRequest {
  'ids'?: (string)[];
}

export interface DeleteEntriesRequest__Output {
  'ids': (string)[];
}
