#!/usr/bin/env node
// Runs agent/main.ts through tsx, so the published bin needs no build step.
import { register } from 'tsx/esm/api'
register()
await import('../agent/main.ts')
