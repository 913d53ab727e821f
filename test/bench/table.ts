import type { BenchResult } from './setup.js'

/** A published goal: the metric, how it is compared, the bound. */
interface Goal {
  readonly key: string
  readonly op: '>=' | '<='
  readonly bound: number
}

/** The goals of issues 8 and 13, one per metric that has one (SPIRE's own figures have none). */
export const GOALS: readonly Goal[] = [
  { key: 'sign.ratio_raw', op: '>=', bound: 0.5 },
  { key: 'sign.ratio_spire', op: '>=', bound: 1.0 },
  { key: 'fetch.ratio_spire_p99', op: '<=', bound: 1.0 },
  { key: 'propagation.steeple_p99_ms', op: '<=', bound: 1000 },
  { key: 'cli.steeple_ms', op: '<=', bound: 300 },
  { key: 'cli.agent_healthcheck_ms', op: '<=', bound: 300 },
  { key: 'scale.server_start_s', op: '<=', bound: 5 },
  { key: 'scale.agent_sync_s', op: '<=', bound: 2 },
  { key: 'scale.server_rss_mb', op: '<=', bound: 1024 },
  { key: 'streams.rss_growth_pct', op: '<=', bound: 10 },
  { key: 'streams.expired_served', op: '<=', bound: 0 },
]

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  if (Number.isInteger(value)) return String(value)
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2)
}

/** The metrics as a Markdown table: key, value, goal, whether it is met. */
export function formatTable(metrics: BenchResult): string {
  const goals = new Map(GOALS.map((g) => [g.key, g]))
  const rows = Object.entries(metrics).map(([key, value]) => {
    const goal = goals.get(key)
    const met = goal === undefined ? '' : (goal.op === '>=' ? value >= goal.bound : value <= goal.bound) ? 'yes' : 'NO'
    return [key, format(value), goal === undefined ? '' : `${goal.op} ${goal.bound}`, met]
  })
  const header = ['metric', 'value', 'goal', 'met']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`
  return [line(header), `|${widths.map((w, i) => (i === 1 ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|')}|`, ...rows.map(line)].join('\n')
}
