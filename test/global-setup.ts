import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Vitest global setup: builds dist/ (`npm run build`, incremental) before any test runs. The
 * integration tests start bin/steeple-server.js and bin/steeple-agent.js, which run the compiled
 * code; building here, on every vitest run (a targeted `npx vitest run FILE` too), means they test
 * the current source and never a stale dist/.
 */
export function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, encoding: 'utf8' })
  if (build.status !== 0) {
    throw new Error(`npm run build failed (status ${build.status ?? build.signal}):\n${build.stdout}${build.stderr}${build.error?.message ?? ''}`)
  }
}
