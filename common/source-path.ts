import { fileURLToPath } from 'node:url'

// This module is common/source-path.ts in the source tree (tsx, vitest) and
// dist/common/source-path.js once compiled (tsconfig.build.json), so its own URL says which.
const ROOT = new URL(import.meta.url.endsWith('.ts') ? '../' : '../../', import.meta.url)
const DIST = new URL('dist/', ROOT)

/**
 * Absolute path of a file that ships in the source tree, given relative to a module
 * (`sourcePath(import.meta.url, './v1.proto')`): a `.proto` file, the native addon under build/.
 * tsc copies no such files into dist/, so a compiled module's URL is first mapped back to its
 * source location; from source the path is resolved as is.
 */
export function sourcePath(moduleUrl: string, relative: string): string {
  const url = moduleUrl.startsWith(DIST.href) ? ROOT.href + moduleUrl.slice(DIST.href.length) : moduleUrl
  return fileURLToPath(new URL(relative, url))
}
