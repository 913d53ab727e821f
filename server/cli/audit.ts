import { Command, InvalidArgumentError } from 'commander'
import { withClient } from './client.js'
import { action, block, emit, plural, wholeNumber, withCommonOptions, type CommonOptions } from './output.js'

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 }

/**
 * Parses `--since`: unix seconds, an RFC 3339 date-time, or a duration ago (`90s`, `30m`, `12h`,
 * `7d`), as unix seconds. `now` is injectable for tests.
 * @throws InvalidArgumentError (commander names the flag).
 */
export function parseSince(value: string, now: () => number = Date.now): number {
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text)
  const duration = /^(\d+)([smhd])$/.exec(text)
  if (duration !== null) return Math.max(0, Math.floor(now() / 1000) - Number(duration[1]) * DURATION_UNITS[duration[2]!]!)
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) {
    const ms = Date.parse(text)
    if (!Number.isNaN(ms)) return Math.max(0, Math.floor(ms / 1000))
  }
  throw new InvalidArgumentError('must be unix seconds, an RFC 3339 date-time, or a duration ago such as 30m, 12h or 7d')
}

interface AuditOptions extends CommonOptions {
  subject?: string
  actor?: string
  action?: string
  entryId?: string
  since?: number
  limit?: number
}

/** The `audit` command group: list (who got which identity, and why). */
export function auditCommand(): Command {
  const audit = new Command('audit').description('read the audit trail: who received which identity, and why')
  withCommonOptions(audit.command('list').description('list audit events, newest first'))
    .option('--subject <id>', 'only events about this SPIFFE ID or record')
    .option('--actor <actor>', 'only events by this actor (an agent ID, admin:uid:<uid>, server)')
    .option('--action <action>', 'only this action (entry.create, agent.attest, svid.x509.sign, svid.jwt.sign, …)')
    .option('--entry-id <id>', 'only events authorized by (or about) this entry')
    .option('--since <when>', 'only events since: unix seconds, RFC 3339, or a duration ago (30m, 12h, 7d)', (v: string) => parseSince(v))
    .option('--limit <n>', 'at most this many events (default 100)', wholeNumber(1, 10_000))
    .action(
      action(async (opts: AuditOptions) => {
        const { events } = await withClient(opts.socketPath, (client) =>
          client.call('ListAuditEvents', {
            subject: opts.subject ?? '',
            actor: opts.actor ?? '',
            action: opts.action ?? '',
            entry_id: opts.entryId ?? '',
            since: opts.since ?? 0,
            limit: opts.limit ?? 0,
          }),
        )
        const json = events.map((e) => ({
          at: new Date(Number(e.at_ms)).toISOString(),
          action: e.action,
          actor: e.actor,
          subject: e.subject,
          entry_id: e.entry_id,
          details: JSON.parse(e.details_json || '{}') as Record<string, unknown>,
        }))
        emit(opts.output, { events: json }, () =>
          json.length === 0
            ? 'No audit events found'
            : `Found ${plural(json.length, 'audit event')}\n\n` +
              json
                .map((e) =>
                  block([
                    ['Time', e.at],
                    ['Action', e.action],
                    ['Actor', e.actor],
                    ['Subject', e.subject],
                    ['Entry ID', e.entry_id || undefined],
                    ['Details', Object.keys(e.details).length === 0 ? undefined : JSON.stringify(e.details)],
                  ]),
                )
                .join('\n'),
        )
      }),
    )
  return audit
}
