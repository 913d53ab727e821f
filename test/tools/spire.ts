import { execFile } from 'node:child_process'
import { access, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

/**
 * SPIRE binaries for interop tests and benchmarks, built once with `go install` from the Go module
 * proxy into a cache directory (nothing of SPIRE is committed). `.ci/run` and later runs reuse it.
 */

/** The SPIRE release both the interop suite and the benchmarks run against. */
export const SPIRE_VERSION = 'v1.15.3'

/** Where toolchain downloads and builds are kept between runs (gitignored). */
export const TOOLS_CACHE_DIR = resolve(import.meta.dirname, '../../.cache/tools')

const run = promisify(execFile)

export type SpireCommand = 'spire-server' | 'spire-agent'

/** Absolute paths of the requested SPIRE commands. */
export type SpireBinaries = Readonly<Record<SpireCommand, string>>

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/**
 * The proxy reachable here refuses one of spire-server's dependencies
 * (github.com/Keyfactor/ejbca-go-client-sdk, used only by the `ejbca` UpstreamAuthority plugin,
 * which no benchmark or test configures). The module is copied out of the read-only module cache
 * and that plugin's two lines are taken out of the server's plugin catalog; nothing else changes.
 */
async function writableSource(moduleDir: string): Promise<string> {
  const dir = join(TOOLS_CACHE_DIR, `spire-${SPIRE_VERSION}`, 'src')
  const catalog = join(dir, 'pkg', 'server', 'catalog', 'upstreamauthority.go')
  if (!(await exists(catalog))) {
    await rm(dir, { recursive: true, force: true })
    await cp(moduleDir, dir, { recursive: true })
    await run('chmod', ['-R', 'u+w', dir])
    const text = await readFile(catalog, 'utf8')
    const patched = text
      .split('\n')
      .filter((line) => !line.includes('upstreamauthority/ejbca"') && !line.includes('ejbca.BuiltIn()'))
      .join('\n')
    await writeFile(catalog, patched)
  }
  return dir
}

/** Go's own caches under the tools cache, so a CI run on a clean clone can reuse them. */
export function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOPATH: join(TOOLS_CACHE_DIR, 'go'),
    GOMODCACHE: join(TOOLS_CACHE_DIR, 'go', 'pkg', 'mod'),
    GOCACHE: join(TOOLS_CACHE_DIR, 'go', 'cache'),
    GOFLAGS: '-mod=readonly',
    GOTOOLCHAIN: 'local',
  }
}

/**
 * Builds (when not cached) the given SPIRE commands at {@link SPIRE_VERSION}.
 * @throws Error saying plainly that Go is missing or what `go install` printed.
 */
export async function ensureSpire(commands: readonly SpireCommand[] = ['spire-server', 'spire-agent']): Promise<Partial<SpireBinaries>> {
  const binDir = join(TOOLS_CACHE_DIR, `spire-${SPIRE_VERSION}`, 'bin')
  await mkdir(binDir, { recursive: true })
  const out: Partial<Record<SpireCommand, string>> = {}
  for (const command of commands) {
    const path = join(binDir, command)
    if (!(await exists(path))) {
      try {
        // `go install module@version` asks the proxy for the module's version list (to check for
        // deprecation), which the proxy reachable here refuses (403); downloading the exact version
        // and building inside it gives the same binary, with SPIRE's own go.mod and go.sum.
        const { stdout } = await run('go', ['mod', 'download', '-json', `github.com/spiffe/spire@${SPIRE_VERSION}`], { env: goEnv(), maxBuffer: 16 * 1024 * 1024 })
        const moduleDir = await writableSource((JSON.parse(stdout) as { Dir: string }).Dir)
        await run('go', ['build', '-trimpath', '-o', path, `./cmd/${command}`], {
          cwd: moduleDir,
          env: { ...goEnv(), CGO_ENABLED: '1' },
          maxBuffer: 16 * 1024 * 1024,
        })
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { stderr?: string }
        if (e.code === 'ENOENT') throw new Error(`spire: the Go toolchain (go) is not on PATH; it is needed to build ${command} ${SPIRE_VERSION}`)
        throw new Error(`spire: building ${command} ${SPIRE_VERSION} failed: ${e.stderr ?? e.message}`)
      }
    }
    out[command] = path
  }
  return out
}
