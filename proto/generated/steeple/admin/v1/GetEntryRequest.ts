// Original file: proto/admin.proto


export interface GetEntryRequest {
  'id'?: (string);
}

export interface GetEntryRequest__Output {
  'id': (string);
}
