import { Command } from 'commander'
import type { Agent__Output } from '../../proto/generated/steeple/admin/v1/Agent.js'
import { withClient } from './client.js'
import { selectorFromInput } from './entry-input.js'
import { CliError, action, block, collect, emit, formatUnixTime, plural, withCommonOptions, type CommonOptions } from './output.js'

/** An attested agent in the CLI's JSON form. */
export interface AgentJson {
  spiffe_id: string
  attestation_type: string
  selectors: { type: string; value: string }[]
  cert_serial: string
  cert_expires_at: number
  banned: boolean
  can_reattest: boolean
  created_at: number
  last_seen_at: number
}

function agentToJson(a: Agent__Output): AgentJson {
  return {
    spiffe_id: a.spiffe_id,
    attestation_type: a.attestation_type,
    selectors: a.selectors.map((s) => ({ type: s.type, value: s.value })),
    cert_serial: a.cert_serial,
    cert_expires_at: Number(a.cert_expires_at),
    banned: a.banned,
    can_reattest: a.can_reattest,
    created_at: Number(a.created_at),
    last_seen_at: Number(a.last_seen_at),
  }
}

/** An agent as a labelled block. */
export function agentBlock(a: AgentJson): string {
  return block([
    ['SPIFFE ID', a.spiffe_id],
    ['Attestation type', a.attestation_type],
    ['SVID serial', a.cert_serial],
    ['SVID expires at', formatUnixTime(a.cert_expires_at)],
    ['Can re-attest', String(a.can_reattest)],
    ['Banned', String(a.banned)],
    ...a.selectors.map((s): [string, string] => ['Selector', `${s.type}:${s.value}`]),
    ['Attested at', formatUnixTime(a.created_at)],
    ['Last seen at', a.last_seen_at === 0 ? undefined : formatUnixTime(a.last_seen_at)],
  ])
}

type AgentIdOptions = CommonOptions & { spiffeId?: string }

function requireId(opts: AgentIdOptions): string {
  if (opts.spiffeId === undefined || opts.spiffeId === '') throw new CliError('--spiffe-id: is required')
  return opts.spiffeId
}

/** The `agent` command group: list, show, evict, ban. */
export function agentCommand(): Command {
  const agent = new Command('agent').description('manage attested agents')

  withCommonOptions(agent.command('list').description('list attested agents'))
    .option('--attestation-type <name>', 'only agents attested with this node attestor (join_token, x509pop)')
    .option('--banned', 'only banned agents')
    .option('--selector <type:value>', 'only agents with this node selector; repeatable', collect)
    .action(
      action(async (opts: CommonOptions & { attestationType?: string; banned?: boolean; selector?: string[] }) => {
        const selectors = (opts.selector ?? []).map((s) => selectorFromInput(s, '--selector'))
        const { agents } = await withClient(opts.socketPath, (client) =>
          client.call('ListAgents', { attestation_type: opts.attestationType ?? '', banned: opts.banned === true ? 'true' : '', selectors }),
        )
        const json = agents.map(agentToJson)
        emit(opts.output, { agents: json }, () =>
          json.length === 0 ? 'No attested agents found' : `Found ${plural(json.length, 'attested agent')}\n\n${json.map(agentBlock).join('\n')}`,
        )
      }),
    )

  const single = (name: string, method: 'GetAgent' | 'EvictAgent' | 'BanAgent', description: string, done?: string) =>
    withCommonOptions(agent.command(name).description(description))
      .option('--spiffe-id <id>', 'the agent\'s SPIFFE ID')
      .action(
        action(async (opts: AgentIdOptions) => {
          const spiffeId = requireId(opts)
          const node = await withClient(opts.socketPath, (client) => client.call(method, { spiffe_id: spiffeId }))
          const json = agentToJson(node)
          emit(opts.output, json, () => (done === undefined ? agentBlock(json) : `${done}: ${json.spiffe_id}`))
        }),
      )
  single('show', 'GetAgent', 'show one attested agent')
  single('evict', 'EvictAgent', 'remove an agent: its SVID stops working and it must attest again', 'Agent evicted')
  single('ban', 'BanAgent', 'ban an agent: its SVID stops working and it may not attest again until evicted', 'Agent banned')
  return agent
}
