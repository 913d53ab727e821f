/**
 * A small Prometheus registry: counters and gauges with labels, rendered in the text exposition
 * format (version 0.0.4). Enough for a handful of server metrics without a dependency.
 */

/** Label name → value. */
export type Labels = Readonly<Record<string, string>>

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** The `Content-Type` of {@link MetricsRegistry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

abstract class Metric {
  readonly name: string
  readonly help: string
  readonly labelNames: readonly string[]
  abstract readonly type: 'counter' | 'gauge'
  protected readonly values = new Map<string, { labels: Labels; value: number }>()

  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!METRIC_NAME.test(name)) throw new TypeError(`metrics: invalid metric name ${JSON.stringify(name)}`)
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__')) throw new TypeError(`metrics: invalid label name ${JSON.stringify(label)} on ${name}`)
    }
    if (new Set(labelNames).size !== labelNames.length) throw new TypeError(`metrics: duplicate label name on ${name}`)
    this.name = name
    this.help = help
    this.labelNames = [...labelNames]
  }

  /** The series key of `labels`; @throws TypeError unless exactly the declared labels are given. */
  protected key(labels: Labels): string {
    const given = Object.keys(labels)
    if (given.length !== this.labelNames.length || !this.labelNames.every((l) => typeof labels[l] === 'string')) {
      throw new TypeError(`metrics: ${this.name} takes labels {${this.labelNames.join(', ')}}, got {${given.join(', ')}}`)
    }
    return this.labelNames.map((l) => labels[l]).join('\u0000')
  }

  /** The exposition lines of this metric. */
  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`]
    for (const { labels, value } of this.values.values()) {
      const pairs = this.labelNames.map((l) => `${l}="${escapeLabelValue(labels[l]!)}"`)
      lines.push(`${this.name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}`)
    }
    return lines.join('\n') + '\n'
  }
}

/** A value that only goes up (per label set). */
export class Counter extends Metric {
  readonly type = 'counter' as const

  /**
   * Adds `by` (default 1; 0 makes the series appear with value 0).
   * @throws TypeError for a negative or non-finite `by`, or labels other than the declared ones.
   */
  inc(labels: Labels = {}, by = 1): void {
    if (!(Number.isFinite(by) && by >= 0)) throw new TypeError(`metrics: ${this.name} can only increase, not by ${by}`)
    const key = this.key(labels)
    const current = this.values.get(key)
    if (current === undefined) this.values.set(key, { labels: { ...labels }, value: by })
    else current.value += by
  }
}

/** A value that is set (per label set). */
export class Gauge extends Metric {
  readonly type = 'gauge' as const

  /** @throws TypeError for labels other than the declared ones. */
  set(value: number, labels: Labels = {}): void {
    this.values.set(this.key(labels), { labels: { ...labels }, value })
  }

  /** Removes every series (before a collector sets the current ones). */
  clear(): void {
    this.values.clear()
  }
}

/** Called before each render to refresh gauges; a failure is reported to `onError` and the render goes on. */
export type Collector = () => void | Promise<void>

/** Metrics by name, rendered together. */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>()
  readonly #collectors: Collector[] = []
  readonly #onError: (err: unknown) => void

  /** `onError` hears about failing collectors (default: ignored; the stale values are rendered). */
  constructor(options: { onError?: (err: unknown) => void } = {}) {
    this.#onError = options.onError ?? (() => {})
  }

  /** Registers a counter. @throws TypeError for an invalid or taken name. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames))
  }

  /** Registers a gauge. @throws TypeError for an invalid or taken name. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames))
  }

  /** Adds a function run before each render (to read current values into gauges). */
  collect(collector: Collector): void {
    this.#collectors.push(collector)
  }

  /** Runs the collectors, then renders every metric in registration order. */
  async render(): Promise<string> {
    for (const collector of this.#collectors) {
      try {
        await collector()
      } catch (err) {
        this.#onError(err)
      }
    }
    return [...this.#metrics.values()].map((m) => m.render()).join('')
  }

  #add<M extends Metric>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new TypeError(`metrics: ${metric.name} is already registered`)
    this.#metrics.set(metric.name, metric)
    return metric
  }
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}
