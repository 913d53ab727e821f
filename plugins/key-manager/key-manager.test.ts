import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runKeyManagerSuite } from '../../test/conformance/key-manager-suite.js'
import { DiskKeyManager } from './disk/index.js'
import { MemoryKeyManager } from './memory/index.js'

const dirs: string[] = []
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'steeple-km-'))
  dirs.push(dir)
  return dir
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

runKeyManagerSuite('memory', async () => new MemoryKeyManager())
runKeyManagerSuite('disk', async () => new DiskKeyManager(join(await tempDir(), 'keys')))

describe('disk key manager', () => {
  it('keeps keys across a restart (a new manager on the same directory)', async () => {
    const dir = join(await tempDir(), 'keys')
    const made = await new DiskKeyManager(dir).generateKey('x509-ca-a', 'ec-p256')
    const reopened = await new DiskKeyManager(dir).getKey('x509-ca-a')
    expect(reopened?.type).toBe('ec-p256')
    expect(reopened?.publicKey.export({ format: 'der', type: 'spki' })).toEqual(made.publicKey.export({ format: 'der', type: 'spki' }))
  })

  it('writes key files 0600 in a 0700 directory and leaves no temp files', async () => {
    const dir = join(await tempDir(), 'keys')
    const km = new DiskKeyManager(dir)
    await km.generateKey('jwt-key-a', 'ec-p256')
    await km.generateKey('jwt-key-a', 'ec-p256')
    expect((await stat(dir)).mode & 0o777).toBe(0o700)
    expect((await stat(join(dir, 'jwt-key-a.key.pem'))).mode & 0o777).toBe(0o600)
    expect(await readdir(dir)).toEqual(['jwt-key-a.key.pem'])
  })

  it('refuses slot ids that could escape the directory', async () => {
    const km = new DiskKeyManager(join(await tempDir(), 'keys'))
    await expect(km.generateKey('../evil', 'ec-p256')).rejects.toThrow(/invalid key slot id/)
  })
})
