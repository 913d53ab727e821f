// Original file: proto/common.proto


export interface Selector {
  'type'?: (string);
  'value'?: (string);
}

export interface Selector__Output {
  'type': (string);
  'value': (string);
}
