// Original file: proto/workload.proto


export interface WITSVID {
  'spiffe_id'?: (string);
  'wit_svid'?: (string);
  'wit_svid_key'?: (string);
  'hint'?: (string);
}

export interface WITSVID__Output {
  'spiffe_id': (string);
  'wit_svid': (string);
  'wit_svid_key': (string);
  'hint': (string);
}
