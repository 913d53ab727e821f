// The public surface of Steeple's Workload API client (as go-spiffe's `workloadapi`): endpoint
// addresses, the gRPC client and its decoded answers, and an X509Source that follows rotations.
// It sits above the SPIFFE core: it uses spiffe/ and proto/, and spiffe/ never imports it.
export {
  ENDPOINT_SOCKET_ENV,
  grpcTarget,
  parseWorkloadEndpointAddress,
  resolveEndpointAddress,
  type WorkloadEndpointAddress,
} from './endpoint.js'
export {
  SECURITY_HEADER,
  WorkloadApiClient,
  WorkloadApiError,
  type CallOptions,
  type WorkloadApiClientOptions,
} from './client.js'
export type { JwtSvidValidation, WorkloadJwtSvid, WorkloadX509Svid, X509Context } from './decode.js'
export { X509Source, pickByHint, pickById, type X509SourceOptions, type X509SvidPicker } from './x509-source.js'
