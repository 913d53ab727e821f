import type { KeyObject } from 'node:crypto'
import type { KeyType } from '../../spiffe/index.js'

// Key types are the SPIFFE core's: one list for the CA, the key managers and the config.
export { KEY_TYPES, type KeyType } from '../../spiffe/index.js'

/** A key held by a key manager. Built-in managers are in-process, so they hand out a KeyObject. */
export interface ManagedKey {
  /** The slot name chosen by the caller (e.g. `x509-ca-a`, `jwt-key-b`). */
  readonly id: string
  readonly type: KeyType
  readonly publicKey: KeyObject
  readonly privateKey: KeyObject
}

/**
 * Holds the CA's private keys (SPIRE's KeyManager). `generateKey` replaces whatever key the slot
 * held; the new key is durable before the promise resolves.
 */
export interface KeyManager {
  generateKey(id: string, type: KeyType): Promise<ManagedKey>
  /** The key in slot `id`, or undefined when the slot is empty. */
  getKey(id: string): Promise<ManagedKey | undefined>
  listKeys(): Promise<ManagedKey[]>
}
