import { createHash, sign, verify } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { KEY_TYPES, type KeyManager } from '../../plugins/key-manager/types.js'

/** The contract every KeyManager implementation keeps. `make` gives a fresh, empty manager. */
export function runKeyManagerSuite(name: string, make: () => Promise<KeyManager>): void {
  describe(`KeyManager conformance: ${name}`, () => {
    it.each(KEY_TYPES)('generates a %s key whose private half signs for its public half', async (type) => {
      const km = await make()
      const key = await km.generateKey('slot-a', type)
      expect(key.id).toBe('slot-a')
      expect(key.type).toBe(type)
      const data = Buffer.from('steeple')
      const signature = sign('sha256', data, key.privateKey)
      expect(verify('sha256', data, key.publicKey, signature)).toBe(true)
    })

    it('returns undefined for an empty slot', async () => {
      const km = await make()
      expect(await km.getKey('nothing-here')).toBeUndefined()
    })

    it('getKey returns the key generateKey made', async () => {
      const km = await make()
      const made = await km.generateKey('slot-a', 'ec-p256')
      const got = await km.getKey('slot-a')
      expect(got?.publicKey.export({ format: 'der', type: 'spki' })).toEqual(made.publicKey.export({ format: 'der', type: 'spki' }))
    })

    it('generating into a used slot replaces its key', async () => {
      const km = await make()
      const first = await km.generateKey('slot-a', 'ec-p256')
      const second = await km.generateKey('slot-a', 'ec-p384')
      const got = await km.getKey('slot-a')
      expect(got?.type).toBe('ec-p384')
      expect(fingerprint(got!.publicKey)).toBe(fingerprint(second.publicKey))
      expect(fingerprint(got!.publicKey)).not.toBe(fingerprint(first.publicKey))
    })

    it('lists every slot once', async () => {
      const km = await make()
      await km.generateKey('slot-a', 'ec-p256')
      await km.generateKey('slot-b', 'ec-p256')
      await km.generateKey('slot-a', 'ec-p256')
      expect((await km.listKeys()).map((k) => k.id).sort()).toEqual(['slot-a', 'slot-b'])
    })
  })
}

function fingerprint(key: import('node:crypto').KeyObject): string {
  return createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('hex')
}
