// Original file: proto/agent.proto


export interface _steeple_agent_v1_BatchNewX509SVIDRequest_Param {
  'entry_id'?: (string);
  'csr'?: (Buffer | Uint8Array | string);
}

export interface _steeple_agent_v1_BatchNewX509SVIDRequest_Param__Output {
  'entry_id': (string);
  'csr': (Buffer);
}

export interface BatchNewX509SVIDRequest {
  'params'?: (_steeple_agent_v1_BatchNewX509SVIDRequest_Param)[];
}

export interface BatchNewX509SVIDRequest__Output {
  'params': (_steeple_agent_v1_BatchNewX509SVIDRequest_Param__Output)[];
}
