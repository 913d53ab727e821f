// The public surface of Steeple's SPIFFE core, used by server, agent, CLI and examples: SPIFFE IDs,
// selectors, bundles, X.509- and JWT-SVIDs, CSRs and mTLS. The core does no gRPC and imports nothing
// of ours; the Workload API client is workloadapi/, one module above it.
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
  decodeBase64Strict,
  encodeBundleMap,
  encodeJwtBundleJwks,
  encodeSpiffeBundle,
  parseBundleMap,
  parseJwtBundleJwks,
  parseSpiffeBundle,
  type SpiffeBundleEncodeOptions,
} from './bundle-codec.js'
// DER reading and certificate fields, for X.509 code outside the core (x509pop path validation).
export { KeyUsage, OID, decodeCertificate, type CertificateFields } from './x509-certificate.js'
export { DerError, DerReader, TAG, decodeOid, readTlv, splitDerSequence } from './x509-der.js'
export { publicKeyFromJwkMembers, type JwkMembers } from './jose-keys.js'
export { certificatesToPem, encodeX509BundlePem, parseX509BundlePem, pemDecodeAll, pemEncode } from './pem.js'
export { KEY_TYPES, generateKeyPair, keyTypeOf, type KeyPair, type KeyType } from './x509-keys.js'
export type { NameAttribute } from './x509-builder.js'
export type { X509Authority } from './x509-issuer.js'
export { mintX509Svid, type MintX509SvidRequest, type MintedX509Svid } from './x509-mint.js'
export { createCsr, parseCsr, type CertificateRequest } from './csr.js'
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
export { authorizeId, authorizeMemberOf, connectMtls, createMtlsServer, presentedChain, verifyPeer, type Authorizer, type X509Material } from './tls.js'
