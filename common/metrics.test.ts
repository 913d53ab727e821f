import { describe, expect, it } from 'vitest'
import { MetricsRegistry } from './metrics.js'

describe('MetricsRegistry', () => {
  it('renders counters and gauges in the Prometheus text format, in registration order', async () => {
    const registry = new MetricsRegistry()
    const signed = registry.counter('svids_signed_total', 'SVIDs signed.', ['type'])
    const entries = registry.gauge('entries', 'Registration entries.')
    signed.inc({ type: 'x509' }, 0)
    signed.inc({ type: 'jwt' })
    signed.inc({ type: 'jwt' }, 2)
    entries.set(7)
    expect(await registry.render()).toBe(
      [
        '# HELP svids_signed_total SVIDs signed.',
        '# TYPE svids_signed_total counter',
        'svids_signed_total{type="x509"} 0',
        'svids_signed_total{type="jwt"} 3',
        '# HELP entries Registration entries.',
        '# TYPE entries gauge',
        'entries 7',
        '',
      ].join('\n'),
    )
  })

  it('escapes label values and help text; writes NaN and infinities as Prometheus does', async () => {
    const registry = new MetricsRegistry()
    registry.counter('c', 'a \\ b\nc', ['l']).inc({ l: 'say "hi"\\\n' })
    const g = registry.gauge('g', 'g', ['v'])
    g.set(NaN, { v: 'nan' })
    g.set(Infinity, { v: 'inf' })
    g.set(-Infinity, { v: 'neg' })
    const text = await registry.render()
    expect(text).toContain('# HELP c a \\\\ b\\nc\n')
    expect(text).toContain('c{l="say \\"hi\\"\\\\\\n"} 1\n')
    expect(text).toContain('g{v="nan"} NaN\ng{v="inf"} +Inf\ng{v="neg"} -Inf\n')
  })

  it('runs collectors before rendering; a failing one is reported and the rest still render', async () => {
    const errors: unknown[] = []
    const registry = new MetricsRegistry({ onError: (err) => errors.push(err) })
    const g = registry.gauge('agents', 'Agents.')
    let n = 0
    registry.collect(() => {
      throw new Error('store closed')
    })
    registry.collect(async () => g.set(++n))
    expect(await registry.render()).toContain('agents 1\n')
    expect(await registry.render()).toContain('agents 2\n')
    expect(errors.map((e) => (e as Error).message)).toEqual(['store closed', 'store closed'])
  })

  it.each([
    ['a metric name with a dash', (r: MetricsRegistry) => r.counter('bad-name', 'x'), /invalid metric name "bad-name"/],
    ['a reserved label name', (r: MetricsRegistry) => r.counter('c', 'x', ['__x']), /invalid label name "__x"/],
    ['a duplicate label name', (r: MetricsRegistry) => r.counter('c', 'x', ['a', 'a']), /duplicate label name/],
    ['a name taken twice', (r: MetricsRegistry) => (r.gauge('c', 'x'), r.counter('c', 'x')), /c is already registered/],
    ['labels other than declared', (r: MetricsRegistry) => r.counter('c', 'x', ['type']).inc({ kind: 'x' }), /c takes labels \{type\}, got \{kind\}/],
    ['a decreasing counter', (r: MetricsRegistry) => r.counter('c', 'x').inc({}, -1), /c can only increase, not by -1/],
  ])('refuses %s (a bug in the caller: TypeError)', (_name, misuse, message) => {
    expect(() => misuse(new MetricsRegistry())).toThrow(TypeError)
    expect(() => misuse(new MetricsRegistry())).toThrow(message)
  })
})
