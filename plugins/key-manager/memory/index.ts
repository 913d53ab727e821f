import { createPublicKey } from 'node:crypto'
import * as s from '../../../common/schema.js'
import { definePlugin } from '../../registry.js'
import { generateKeyPair } from '../../../spiffe/index.js'
import type { KeyManager, KeyType, ManagedKey } from '../types.js'

/** Keys in process memory only: gone on restart (every start makes a new CA). For tests and dev. */
export class MemoryKeyManager implements KeyManager {
  readonly #keys = new Map<string, ManagedKey>()

  async generateKey(id: string, type: KeyType): Promise<ManagedKey> {
    const { privateKey } = generateKeyPair(type)
    const key: ManagedKey = { id, type, privateKey, publicKey: createPublicKey(privateKey) }
    this.#keys.set(id, key)
    return key
  }

  async getKey(id: string): Promise<ManagedKey | undefined> {
    return this.#keys.get(id)
  }

  async listKeys(): Promise<ManagedKey[]> {
    return [...this.#keys.values()]
  }
}

export const memoryKeyManager = definePlugin({
  kind: 'KeyManager',
  name: 'memory',
  config: s.object({}),
  create: () => new MemoryKeyManager(),
})
