// The public surface of proto/: loading our .proto files with the one set of loader options, and
// Steeple's bundle message. The message types generated from the .proto files are imported from
// generated/ directly (type-only); the generator names them, so no list is kept here.
export {
  PROTO_LOADER_OPTIONS,
  loadAdminApi,
  loadAgentApi,
  loadProto,
  loadWorkloadApi,
  protoPath,
  workloadApiPackageDefinition,
} from './load.js'
export { bundleFromMessage, bundleToMessage } from './bundle.js'
