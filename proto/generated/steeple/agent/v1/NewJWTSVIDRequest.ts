// Original file: proto/agent.proto


export interface NewJWTSVIDRequest {
  'entry_id'?: (string);
  'audience'?: (string)[];
}

export interface NewJWTSVIDRequest__Output {
  'entry_id': (string);
  'audience': (string)[];
}
