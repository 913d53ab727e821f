import { spawnSync } from 'node:child_process'
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SpiffeError } from './errors.js'
import { parseCsr } from './x509-mint.js'
import { createCsr } from './csr.js'

const dir = mkdtempSync(join(tmpdir(), 'steeple-csr-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const keys: [string, () => KeyObject][] = [
  ['ec-p256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey],
  ['ec-p384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
  ['rsa-2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
]

describe('createCsr', () => {
  it.each(keys)('%s: parseCsr accepts it and finds the key', (_name, make) => {
    const key = make()
    const csr = parseCsr(createCsr(key))
    const expected = (k: KeyObject) => (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' })
    expect(expected(csr.publicKey)).toEqual(expected(key))
    expect(csr.uris).toEqual([])
    expect(csr.dnsNames).toEqual([])
  })

  it('openssl verifies its self-signature', () => {
    const path = join(dir, 'req.der')
    writeFileSync(path, createCsr(keys[0]![1]()))
    const run = spawnSync('openssl', ['req', '-inform', 'DER', '-in', path, '-verify', '-noout'], { encoding: 'utf8' })
    expect(run.status).toBe(0)
    expect(run.stdout + run.stderr).toMatch(/verify OK/)
  })

  it('refuses a key type the CA signer set does not cover', () => {
    expect(() => createCsr(generateKeyPairSync('ed25519').privateKey)).toThrow(SpiffeError)
  })
})
