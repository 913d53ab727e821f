import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

/**
 * Prints where a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- … --cpu-prof DIR`)
 * spends its time: the functions with the most self time, and the same grouped by file.
 * `node --import tsx test/bench/profile-summary.ts FILE.cpuprofile [TOP]`
 */

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

function summarize(path: string, top: number): void {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const totalUs = profile.endTime - profile.startTime
  const byFunction = new Map<string, number>()
  const byFile = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame
    const file = frame.url === '' ? '(native)' : frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/').replace(/^.*\/work\/main\//, '')
    const fn = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
    const group = file.startsWith('node_modules/') ? file.split('/').slice(0, file.startsWith('node_modules/@') ? 3 : 2).join('/') : file
    byFile.set(group, (byFile.get(group) ?? 0) + us)
  }
  const print = (title: string, map: Map<string, number>): void => {
    console.log(`  ${title}`)
    for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`    ${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`)
    }
  }
  console.log(`${basename(path)}: ${(totalUs / 1e6).toFixed(1)} s profiled`)
  print('self time by function', byFunction)
  print('self time by file or package', byFile)
}

const [file, topArg] = process.argv.slice(2)
if (file === undefined) {
  console.error('usage: profile-summary FILE.cpuprofile [TOP]')
  process.exitCode = 2
} else {
  summarize(file, Number(topArg ?? 15))
}
