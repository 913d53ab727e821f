import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { sourcePath } from '../common/source-path.js'

/** Options used for every .proto in the project (snake_case field names as on the wire). */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
}

/** Absolute path of a .proto file shipped in proto/. */
export function protoPath(file: string): string {
  return sourcePath(import.meta.url, file)
}

const cache = new Map<string, grpc.GrpcObject>()

/** Loads (once) and returns the gRPC object of one of our .proto files. */
export function loadProto(file: string): grpc.GrpcObject {
  let loaded = cache.get(file)
  if (loaded === undefined) {
    const definition = protoLoader.loadSync(protoPath(file), PROTO_LOADER_OPTIONS)
    loaded = grpc.loadPackageDefinition(definition)
    cache.set(file, loaded)
  }
  return loaded
}

/** The SpiffeWorkloadAPI service: `.service` for servers, `new` it with a target for clients. */
export function loadWorkloadApi(): grpc.ServiceClientConstructor {
  return loadProto('workload.proto')['SpiffeWorkloadAPI'] as grpc.ServiceClientConstructor
}

/** The package definition of workload.proto, for gRPC server reflection. */
export function workloadApiPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(protoPath('workload.proto'), PROTO_LOADER_OPTIONS)
}

/** Steeple's agent API service (`steeple.agent.v1.AgentAPI`). */
export function loadAgentApi(): grpc.ServiceClientConstructor {
  const steeple = loadProto('agent.proto')['steeple'] as grpc.GrpcObject
  return ((steeple['agent'] as grpc.GrpcObject)['v1'] as grpc.GrpcObject)['AgentAPI'] as grpc.ServiceClientConstructor
}

/** Steeple's admin API service (`steeple.admin.v1.AdminAPI`). */
export function loadAdminApi(): grpc.ServiceClientConstructor {
  const steeple = loadProto('admin.proto')['steeple'] as grpc.GrpcObject
  return ((steeple['admin'] as grpc.GrpcObject)['v1'] as grpc.GrpcObject)['AdminAPI'] as grpc.ServiceClientConstructor
}
