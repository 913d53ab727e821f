import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A CA and a server certificate for 127.0.0.1 signed by it (EC P-256, made with openssl). */
export interface LoopbackTls {
  /** PEM of the CA, for clients to trust. */
  readonly caPem: string
  /** Path of a file holding {@link caPem}. */
  readonly caPath: string
  readonly certPem: string
  readonly keyPem: string
  /** Removes the files. */
  cleanup(): Promise<void>
}

/** Makes a fresh CA and a server certificate with SAN IP:127.0.0.1 and DNS:localhost, valid a day. */
export async function makeLoopbackTls(): Promise<LoopbackTls> {
  const dir = await mkdtemp(join(tmpdir(), 'steeple-standin-tls-'))
  const f = (name: string) => join(dir, name)
  const openssl = (...args: string[]) => run('openssl', args)
  await openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key'))
  await openssl('req', '-x509', '-new', '-key', f('ca.key'), '-subj', '/CN=stand-in cluster CA', '-days', '1', '-out', f('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  await openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('server.key'))
  await openssl('req', '-new', '-key', f('server.key'), '-subj', '/CN=127.0.0.1', '-out', f('server.csr'))
  await writeFile(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n')
  await openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1',
    '-extfile', f('ext.cnf'), '-out', f('server.pem'))
  const [caPem, certPem, keyPem] = await Promise.all([readFile(f('ca.pem'), 'utf8'), readFile(f('server.pem'), 'utf8'), readFile(f('server.key'), 'utf8')])
  return { caPem, caPath: f('ca.pem'), certPem, keyPem, cleanup: () => rm(dir, { recursive: true, force: true }) }
}
