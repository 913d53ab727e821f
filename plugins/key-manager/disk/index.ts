import { createPrivateKey, createPublicKey } from 'node:crypto'
import { mkdir, readFile, readdir } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import { writeFileAtomic } from '../../../common/fs.js'
import * as s from '../../../common/schema.js'
import type { PluginHost } from '../../registry.js'
import { definePlugin } from '../../registry.js'
import { generateKeyPair, keyTypeOf } from '../../../spiffe/index.js'
import type { KeyManager, KeyType, ManagedKey } from '../types.js'

const SLOT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const SUFFIX = '.key.pem'

/**
 * Keys as PKCS#8 PEM files, one per slot (`<dir>/<id>.key.pem`), mode 0600 in a 0700 directory,
 * each written atomically (temp file, fsync, rename, fsync of the directory), so a crash leaves
 * either the old key or the new one and a restart finds the CA it had.
 */
export class DiskKeyManager implements KeyManager {
  readonly #dir: string
  readonly #cache = new Map<string, ManagedKey>()

  constructor(dir: string) {
    this.#dir = dir
  }

  async generateKey(id: string, type: KeyType): Promise<ManagedKey> {
    checkSlotId(id)
    const { privateKey } = generateKeyPair(type)
    await mkdir(this.#dir, { recursive: true, mode: 0o700 })
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
    await writeFileAtomic(join(this.#dir, id + SUFFIX), pem, 0o600)
    const key: ManagedKey = { id, type, privateKey, publicKey: createPublicKey(privateKey) }
    this.#cache.set(id, key)
    return key
  }

  async getKey(id: string): Promise<ManagedKey | undefined> {
    checkSlotId(id)
    const cached = this.#cache.get(id)
    if (cached !== undefined) return cached
    let pem: string
    try {
      pem = await readFile(join(this.#dir, id + SUFFIX), 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    const privateKey = createPrivateKey(pem)
    const type = keyTypeOf(privateKey)
    if (type === undefined) throw new Error(`keymanager(disk): key file for slot ${id} holds an unsupported key type`)
    const key: ManagedKey = { id, type, privateKey, publicKey: createPublicKey(privateKey) }
    this.#cache.set(id, key)
    return key
  }

  async listKeys(): Promise<ManagedKey[]> {
    let names: string[]
    try {
      names = await readdir(this.#dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const keys: ManagedKey[] = []
    for (const name of names.filter((n) => n.endsWith(SUFFIX)).sort()) {
      const key = await this.getKey(name.slice(0, -SUFFIX.length))
      if (key !== undefined) keys.push(key)
    }
    return keys
  }
}

function checkSlotId(id: string): void {
  if (!SLOT_ID.test(id)) throw new TypeError(`keymanager(disk): invalid key slot id ${JSON.stringify(id)}`)
}

const diskConfig = s.object({
  /** Directory for key files; relative paths are under the server's data directory. */
  keys_path: s.string({ default: 'keys' }),
})

export const diskKeyManager = definePlugin({
  kind: 'KeyManager',
  name: 'disk',
  config: diskConfig,
  create: (config, host: PluginHost) =>
    new DiskKeyManager(isAbsolute(config.keys_path) ? config.keys_path : resolve(host.dataDir, config.keys_path)),
})
