import * as tls from 'node:tls'
import type { BundleSet, BundleSource } from './bundle.js'
import { SpiffeError } from './errors.js'
import type { SpiffeId, TrustDomain } from './id.js'
import { certificatesToPem, pemEncode } from './pem.js'
import { verifyX509Svid } from './x509-svid.js'

/**
 * mTLS between workloads with X509-SVIDs (as go-spiffe's `spiffetls/tlsconfig`): each side presents
 * its SVID and accepts the peer only when the peer's chain is a valid X509-SVID under the bundle of
 * the peer's own trust domain and its SPIFFE ID passes the authorizer. Host names play no part.
 */

/** Decides whether a verified peer ID may talk to us. @throws SpiffeError saying why not. */
export type Authorizer = (peer: SpiffeId) => void

/** Only this SPIFFE ID. */
export function authorizeId(expected: SpiffeId): Authorizer {
  return (peer) => {
    if (!peer.equals(expected)) throw new SpiffeError('INVALID_X509_SVID', `tlsconfig: unexpected ID ${JSON.stringify(peer.toString())}, expected ${JSON.stringify(expected.toString())}`)
  }
}

/** Any SPIFFE ID of this trust domain. */
export function authorizeMemberOf(td: TrustDomain): Authorizer {
  return (peer) => {
    if (!peer.trustDomain.equals(td)) throw new SpiffeError('INVALID_X509_SVID', `tlsconfig: unexpected trust domain ${JSON.stringify(peer.trustDomain.name)}`)
  }
}

/** What the TLS helpers need: the SVID to present and the bundles to trust, read at each handshake. */
export interface X509Material {
  readonly svid: { readonly certificatesDer: readonly Uint8Array[]; readonly privateKeyDer: Uint8Array }
  readonly bundles: BundleSet
}

/** The certificates a TLS peer presented, leaf first, from Node's detailed peer certificate. */
export function presentedChain(cert: tls.PeerCertificate): Buffer[] {
  const chain: Buffer[] = []
  const seen = new Set<string>()
  for (let c: tls.PeerCertificate | undefined = cert; c?.raw !== undefined; c = (c as Partial<tls.DetailedPeerCertificate>).issuerCertificate) {
    const key = c.raw.toString('base64')
    if (seen.has(key)) break
    seen.add(key)
    chain.push(c.raw)
  }
  return chain
}

/**
 * Verifies a presented chain as an X509-SVID and authorizes its ID.
 * @throws SpiffeError for an invalid chain or an ID the authorizer refuses.
 */
export function verifyPeer(chain: readonly Uint8Array[], bundles: BundleSource, authorize: Authorizer, now = new Date()): SpiffeId {
  const { id } = verifyX509Svid(chain, bundles, { now })
  authorize(id)
  return id
}

/** Key, certificate chain and CA roots of `material` as Node's secure-context options. */
function contextOptions(material: X509Material): tls.SecureContextOptions {
  return {
    key: pemEncode('PRIVATE KEY', material.svid.privateKeyDer),
    cert: certificatesToPem(material.svid.certificatesDer),
    ca: [...material.bundles.values()].flatMap((b) => (b.x509Authorities.length > 0 ? [certificatesToPem(b.x509Authorities)] : [])),
  }
}

/**
 * An mTLS server whose SVID and trust follow `source` (each update replaces the secure context for
 * new connections). A client is accepted only after its SVID verifies and `authorize` agrees; the
 * handler gets the socket and the client's ID. Clients failing either are disconnected.
 */
export function createMtlsServer(
  source: X509Material & { onUpdate(listener: () => void): () => void },
  authorize: Authorizer,
  handler: (socket: tls.TLSSocket, peer: SpiffeId) => void,
  onRefused: (err: Error) => void = () => {},
): tls.Server {
  // OpenSSL checks the chain against the roots (rejectUnauthorized); the SPIFFE rules and the
  // authorizer run on the verified connection before the handler sees a byte.
  const server = tls.createServer({ ...contextOptions(source), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, (socket) => {
    try {
      const peer = verifyPeer(presentedChain(socket.getPeerCertificate(true)), source.bundles, authorize)
      handler(socket, peer)
    } catch (err) {
      onRefused(err as Error)
      socket.destroy()
    }
  })
  const unsubscribe = source.onUpdate(() => server.setSecureContext(contextOptions(source)))
  server.on('close', unsubscribe)
  server.on('tlsClientError', (err) => onRefused(err))
  return server
}

/**
 * Connects with mTLS using the source's current SVID; resolves with the socket once the server's
 * SVID verified and `authorize` agreed (else rejects and closes the socket).
 */
export function connectMtls(source: X509Material, authorize: Authorizer, options: { host: string; port: number }): Promise<{ socket: tls.TLSSocket; peer: SpiffeId }> {
  return new Promise((resolve, reject) => {
    let peer: SpiffeId | undefined
    const socket = tls.connect({
      ...contextOptions(source),
      host: options.host,
      port: options.port,
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
      // The server is named by its SPIFFE ID, not a host name.
      checkServerIdentity: (_host, cert) => {
        try {
          peer = verifyPeer(presentedChain(cert), source.bundles, authorize)
          return undefined
        } catch (err) {
          return err as Error
        }
      },
    })
    socket.once('secureConnect', () => resolve({ socket, peer: peer! }))
    socket.once('error', reject)
  })
}
