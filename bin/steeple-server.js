#!/usr/bin/env node
// Runs server/main.ts through tsx, so the published bin needs no build step.
import { register } from 'node:module'
register('tsx/esm', import.meta.url)
await import('../server/main.ts')
