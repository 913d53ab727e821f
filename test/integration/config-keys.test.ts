import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BUILT_IN_KEYS } from '../config-keys.js'
import { ROOT, SERVER_BIN, inPool, removeTempDirs, runCommand, tempDir } from './server-cli-helpers.js'

/**
 * Config keys that are also names of Object.prototype members, given to the real binaries: each
 * is an unknown key like any other, and the process stops naming its full path.
 */

const AGENT_BIN = join(ROOT, 'bin', 'steeple-agent.js')

interface Case {
  readonly bin: string
  readonly yaml: string
  readonly path: string
}

function casesFor(bin: string, pluginKind: string, pluginName: string): Case[] {
  return BUILT_IN_KEYS.flatMap((key) => [
    { bin, yaml: `${key}: 1\n`, path: key },
    { bin, yaml: `plugins:\n  ${pluginKind}:\n    ${pluginName}:\n      ${key}: 1\n`, path: `plugins.${pluginKind}.${pluginName}.${key}` },
  ])
}

afterAll(removeTempDirs)

describe('config keys named like JavaScript built-ins', () => {
  it('steeple-server and steeple-agent refuse them at the top and inside a plugin section, naming the key path', { timeout: 180_000 }, async () => {
    const dir = await tempDir('steeple-config-keys-')
    const cases = [
      ...casesFor(SERVER_BIN, 'DataStore', 'sqlite'),
      ...casesFor(AGENT_BIN, 'NodeAttestor', 'join_token'),
      // As a plugin name, `__proto__` must not become the prototype of the kind's section
      // (which would leave the kind empty and load the default plugin instead).
      { bin: SERVER_BIN, yaml: 'plugins:\n  DataStore:\n    __proto__:\n      path: ":memory:"\n', path: 'plugins.DataStore.__proto__' },
      { bin: AGENT_BIN, yaml: 'plugins:\n  WorkloadAttestor:\n    __proto__: {}\n', path: 'plugins.WorkloadAttestor.__proto__' },
    ]
    const results = await inPool(cases, 3, async (c) => {
      const name = `c${cases.indexOf(c)}`
      const config = join(dir, `${name}.yaml`)
      await writeFile(config, c.yaml)
      const flags = c.bin === SERVER_BIN ? ['--bind-port', '0'] : ['--server-port', '1', '--insecure-bootstrap']
      return runCommand(process.execPath, [c.bin, 'run', '--config', config, '--data-dir', join(dir, name), ...flags])
    })
    for (const [i, c] of cases.entries()) {
      const r = results[i]!
      const label = `${c.bin === SERVER_BIN ? 'server' : 'agent'}: ${JSON.stringify(c.yaml)}`
      expect({ label, code: r.code }).toEqual({ label, code: 1 })
      expect(r.stderr, label).toMatch(new RegExp(`^Error: ${c.path.replace(/[.]/g, '\\.')} is not a known `, 'm'))
      expect(r.stderr, label).not.toMatch(/"msg":"(Server|Agent) started"/)
    }
  })
})
