#!/usr/bin/env node
// Runs the compiled server (dist/, from `npm run build`, which `npm ci` runs as its prepare step).
import { existsSync } from 'node:fs'

const main = new URL('../dist/server/main.js', import.meta.url)
if (!existsSync(main)) {
  process.stderr.write('steeple-server: dist/server/main.js is missing; build it with `npm run build`\n')
  process.exit(1)
}
await import(main.href)
