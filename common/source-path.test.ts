import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { sourcePath } from './source-path.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const url = (path: string): string => pathToFileURL(join(ROOT, path)).href

// dist/ is built by the vitest global setup (test/global-setup.ts) before any test runs.
const compiled = (await import(url('dist/common/source-path.js'))) as typeof import('./source-path.js')

describe('sourcePath', () => {
  it('resolves beside a module that runs from source', () => {
    expect(sourcePath(import.meta.url, './source-path.ts')).toBe(join(ROOT, 'common', 'source-path.ts'))
    expect(sourcePath(url('proto/load.ts'), 'workload.proto')).toBe(join(ROOT, 'proto', 'workload.proto'))
  })

  it.each([
    ['dist/proto/load.js', 'workload.proto', 'proto/workload.proto'],
    ['dist/agent/workload-api/reflection/reflection.js', './v1.proto', 'agent/workload-api/reflection/v1.proto'],
    ['dist/common/peercred.js', '../build/Release/steeple_peercred.node', 'build/Release/steeple_peercred.node'],
  ])('maps compiled %s to the source tree for %s, from source and compiled alike', (module, relative, expected) => {
    expect(sourcePath(url(module), relative)).toBe(join(ROOT, expected))
    expect(compiled.sourcePath(url(module), relative)).toBe(join(ROOT, expected))
  })

  it('leaves a module outside dist/ alone', () => {
    expect(compiled.sourcePath('file:///opt/other/dist/x/y.js', '../z.proto')).toBe('/opt/other/dist/z.proto')
    expect(compiled.sourcePath(url('test/dist/x.js'), 'y')).toBe(join(ROOT, 'test', 'dist', 'y'))
  })

  it('lets the compiled modules find the .proto files and the native addon', async () => {
    const load = (await import(url('dist/proto/load.js'))) as typeof import('../proto/load.js')
    for (const file of ['workload.proto', 'agent.proto', 'admin.proto']) {
      expect(load.protoPath(file)).toBe(join(ROOT, 'proto', file))
      expect(existsSync(load.protoPath(file))).toBe(true)
    }
    expect(typeof load.loadAdminApi().service).toBe('object')
    const peercred = (await import(url('dist/common/peercred.js'))) as typeof import('./peercred.js')
    expect(peercred.PEERCRED_ADDON_PATH).toBe(join(ROOT, 'build', 'Release', 'steeple_peercred.node'))
    expect(peercred.loadPeercredAddon().hasSoPeerPidfd).toBeTypeOf('boolean')
  })
})
