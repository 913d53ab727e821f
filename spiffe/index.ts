// The public surface of Steeple's SPIFFE core, used by server, agent, CLI and examples.
export { SpiffeError, type SpiffeErrorCode } from './errors.js'
export {
  MAX_SPIFFE_ID_BYTES,
  MAX_TRUST_DOMAIN_BYTES,
  SpiffeId,
  TrustDomain,
  assertIssuableId,
  assertIssuableTrustDomain,
  assertLeafId,
  assertSigningAuthorityId,
  parseSpiffeId,
  parseTrustDomain,
  spiffeIdFromPath,
  spiffeIdFromSegments,
  validatePath,
} from './id.js'
export {
  MAX_SELECTOR_BYTES,
  Selector,
  SelectorSet,
  compareSelectors,
  formatSelectors,
  matchesSelectors,
  parseSelector,
  selectorFromParts,
  sortSelectors,
} from './selector.js'
export { Bundle, BundleSet, bundleFor, type BundleInit, type BundleSource, type JwtAuthority } from './bundle.js'
export {
  encodeBundleMap,
  encodeJwtBundleJwks,
  encodeSpiffeBundle,
  parseBundleMap,
  parseJwtBundleJwks,
  parseSpiffeBundle,
  type SpiffeBundleEncodeOptions,
} from './bundle-codec.js'
export { certificatesToPem, encodeX509BundlePem, parseX509BundlePem, pemDecodeAll, pemEncode } from './pem.js'
export {
  KEY_TYPES,
  generateKeyPair,
  keyTypeOf,
  mintX509Svid,
  parseCsr,
  type CertificateRequest,
  type KeyPair,
  type KeyType,
  type MintX509SvidRequest,
  type MintedX509Svid,
  type NameAttribute,
  type X509Authority,
} from './x509-mint.js'
export { createSelfSignedCa, mintX509Ca, type MintedX509Ca, type X509Ca } from './x509-ca.js'
export {
  X509Svid,
  parseX509Svid,
  parseX509SvidPem,
  spiffeIdFromCertificate,
  verifyX509Svid,
  type VerifiedX509Svid,
  type VerifyX509SvidOptions,
} from './x509-svid.js'
export {
  DEFAULT_JWT_SVID_LEEWAY_SECONDS,
  JwtSvid,
  parseAndValidateJwtSvid,
  parseJwtSvidInsecure,
  signJwtSvid,
  type JwtSvidSigningAlgorithm,
  type JwtSvidSigningKey,
  type SignedJwtSvid,
} from './jwt-svid.js'
export {
  ENDPOINT_SOCKET_ENV,
  grpcTarget,
  parseWorkloadEndpointAddress,
  resolveEndpointAddress,
  type WorkloadEndpointAddress,
} from './endpoint.js'
export { SECURITY_HEADER, WorkloadApiClient, WorkloadApiError, type WorkloadApiClientOptions } from './workload/client.js'
export type { JwtSvidValidation, WorkloadJwtSvid, WorkloadX509Svid, X509Context } from './workload/decode.js'
export { createCsr } from './csr.js'
export { authorizeId, authorizeMemberOf, connectMtls, createMtlsServer, presentedChain, verifyPeer, type Authorizer, type X509Material } from './tls.js'
export { X509Source, pickByHint, pickById, type X509SourceOptions, type X509SvidPicker } from './workload/x509-source.js'
