// Original file: proto/workload.proto

import type { WITSVID as _WITSVID, WITSVID__Output as _WITSVID__Output } from './WITSVID.js';

export interface WITSVIDResponse {
  'svids'?: (_WITSVID)[];
}

export interface WITSVIDResponse__Output {
  'svids': (_WITSVID__Output)[];
}
