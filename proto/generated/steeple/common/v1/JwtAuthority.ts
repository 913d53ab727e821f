// Original file: proto/common.proto


export interface JwtAuthority {
  'kid'?: (string);
  'public_key'?: (Buffer | Uint8Array | string);
}

export interface JwtAuthority__Output {
  'kid': (string);
  'public_key': (Buffer);
}
