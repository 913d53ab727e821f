import { Command, Option } from 'commander'
import type { EntryResults__Output } from '../../proto/generated/steeple/admin/v1/EntryResults.js'
import type { ListEntriesRequest } from '../../proto/generated/steeple/admin/v1/ListEntriesRequest.js'
import type { RegistrationEntry, RegistrationEntry__Output } from '../../proto/generated/steeple/common/v1/RegistrationEntry.js'
import { parseTrustDomain } from '../../spiffe/index.js'
import { serverId } from '../registration/index.js'
import { withClient, type AdminClient } from './client.js'
import { entriesFromDocument, entryToJson, idsFromDocument, selectorFromInput, type EntryJson } from './entry-input.js'
import {
  CliError,
  INT32_MAX,
  action,
  block,
  collect,
  emit,
  fail,
  formatUnixTime,
  plural,
  readJsonFile,
  wholeNumber,
  withCommonOptions,
  type CommonOptions,
  type OutputFormat,
} from './output.js'

/** Unix seconds of 9999-12-31T23:59:59Z, the last instant with an RFC 3339 form. */
const MAX_UNIX_SECONDS = 253402300799
/** Entries fetched per ListEntries call by `entry show`. */
const PAGE_SIZE = 1000

interface EntryFlags extends CommonOptions {
  entryId?: string
  spiffeId?: string
  parentId?: string
  node?: boolean
  selector?: string[]
  x509SvidTtl?: number
  jwtSvidTtl?: number
  dns?: string[]
  federatesWith?: string[]
  admin?: boolean
  downstream?: boolean
  storeSvid?: boolean
  entryExpiry?: number
  hint?: string
  owner?: string
  description?: string
  data?: string
}

interface FilterFlags extends CommonOptions {
  entryId?: string
  spiffeId?: string
  parentId?: string
  selector?: string[]
  match?: string
  hint?: string
  owner?: string
  federatesWith?: string
}

/** Flags that describe an entry (everything but --entry-id, --data and the common ones). */
const ENTRY_FLAG_NAMES: readonly (keyof EntryFlags)[] = [
  'spiffeId',
  'parentId',
  'node',
  'selector',
  'x509SvidTtl',
  'jwtSvidTtl',
  'dns',
  'federatesWith',
  'admin',
  'downstream',
  'storeSvid',
  'entryExpiry',
  'hint',
  'owner',
  'description',
]

function addEntryFlags(command: Command): Command {
  return withCommonOptions(command)
    .option('--spiffe-id <id>', 'SPIFFE ID of the workload (or node alias) the entry identifies')
    .option('--parent-id <id>', 'parent: an agent ID, a node alias ID, or the server ID')
    .addOption(new Option('--node', 'node entry: the parent is the server ID; aliases the agents whose node selectors include all --selector values').conflicts('parentId'))
    .option('--selector <type:value>', 'selector the workload (or node) must have; repeatable', collect)
    .option('--x509-svid-ttl <seconds>', 'X.509-SVID lifetime (0 = the server default)', wholeNumber(0, INT32_MAX, 'seconds'))
    .option('--jwt-svid-ttl <seconds>', 'JWT-SVID lifetime (0 = the server default)', wholeNumber(0, INT32_MAX, 'seconds'))
    .option('--dns <name>', 'DNS name added to X.509-SVIDs; repeatable', collect)
    .option('--federates-with <trust-domain>', 'trust domain whose bundle the workload receives; repeatable', collect)
    .option('--admin', 'the workload may use the admin API')
    .option('--downstream', 'the workload may act as a downstream CA')
    .option('--store-svid', 'the SVID is stored by an SVIDStore plugin instead of served')
    .option('--entry-expiry <unix-seconds>', 'when the entry stops authorizing anything (0 = never)', wholeNumber(0, MAX_UNIX_SECONDS, 'unix seconds'))
    .option('--hint <hint>', 'label returned with the SVID so workloads can tell several apart')
    .option('--owner <owner>', 'who answers for this identity (team, user, system)')
    .option('--description <text>', 'why this identity exists')
    .option('--data <file>', 'JSON file with a batch: {"entries": [...]} with snake_case fields')
}

function addFilterFlags(command: Command): Command {
  return withCommonOptions(command)
    .option('--spiffe-id <id>', 'only entries with this SPIFFE ID')
    .option('--parent-id <id>', 'only entries with this parent ID')
    .option('--selector <type:value>', 'selector to match; repeatable', collect)
    .addOption(
      new Option('--match <how>', 'superset: entries with at least these selectors; exact, subset, any')
        .choices(['exact', 'subset', 'superset', 'any'])
        .default('superset'),
    )
    .option('--hint <hint>', 'only entries with this hint')
    .option('--owner <owner>', 'only entries with this owner')
    .option('--federates-with <trust-domain>', 'only entries federating with this trust domain')
}

/** The `entry` command group: create, show, update, delete, count. */
export function entryCommand(): Command {
  const entry = new Command('entry').description('manage registration entries')

  addEntryFlags(entry.command('create').description('create registration entries (from flags, or a batch with --data)'))
    .option('--entry-id <id>', 'ID for the new entry (default: a new UUID)')
    .action(
      action(async (opts: EntryFlags) => {
        await withClient(opts.socketPath, async (client) => {
          const batch = opts.data !== undefined
          const entries = batch ? await entriesFromData(opts) : [await entryFromFlags(opts, client)]
          reportResults(opts.output, await client.call('CreateEntries', { entries }), 'created', batch ? 'entries' : undefined)
        })
      }),
    )

  addEntryFlags(entry.command('update').description('replace registration entries (every field: flags left out take their defaults)'))
    .option('--entry-id <id>', 'ID of the entry to replace')
    .action(
      action(async (opts: EntryFlags) => {
        await withClient(opts.socketPath, async (client) => {
          const batch = opts.data !== undefined
          if (!batch && opts.entryId === undefined) throw new CliError('--entry-id: is required (or give a batch with --data)')
          const entries = batch ? await entriesFromData(opts) : [await entryFromFlags(opts, client)]
          reportResults(opts.output, await client.call('UpdateEntries', { entries }), 'updated', batch ? 'entries' : undefined)
        })
      }),
    )

  withCommonOptions(entry.command('delete').description('delete registration entries'))
    .option('--entry-id <id>', 'ID of the entry to delete; repeatable', collect)
    .option('--data <file>', 'JSON file {"ids": [...]}')
    .action(
      action(async (opts: CommonOptions & { entryId?: string[]; data?: string }) => {
        if ((opts.data === undefined) === (opts.entryId === undefined)) throw new CliError('give either --entry-id or --data')
        const ids = opts.data !== undefined ? idsFromDocument(await readJsonFile('--data', opts.data)) : opts.entryId!
        await withClient(opts.socketPath, async (client) => {
          reportResults(opts.output, await client.call('DeleteEntries', { ids }), 'deleted', ids.length > 1 ? 'ids' : undefined)
        })
      }),
    )

  addFilterFlags(entry.command('show').description('show registration entries (all, one by ID, or those matching filters)'))
    .option('--entry-id <id>', 'only the entry with this ID')
    .action(
      action(async (opts: FilterFlags) => {
        const entries = await withClient(opts.socketPath, async (client) => {
          if (opts.entryId === undefined) return listAll(client, filterFromFlags(opts))
          if (hasFilter(opts)) throw new CliError('--entry-id cannot be combined with filters')
          return [await client.call('GetEntry', { id: opts.entryId })]
        })
        const json = entries.map(entryToJson)
        emit(opts.output, { entries: json }, () =>
          json.length === 0 ? 'No entries found' : `Found ${plural(json.length, 'entry', 'entries')}\n\n${json.map(entryBlock).join('\n')}`,
        )
      }),
    )

  addFilterFlags(entry.command('count').description('count registration entries (all, or those matching filters)')).action(
    action(async (opts: FilterFlags) => {
      const { count } = await withClient(opts.socketPath, (client) => client.call('CountEntries', filterFromFlags(opts)))
      const n = Number(count)
      emit(opts.output, { count: n }, () => plural(n, 'registration entry', 'registration entries'))
    }),
  )
  return entry
}

/** An entry as a labelled block, one `Selector` line per selector (as SPIRE's `entry show`). */
export function entryBlock(e: EntryJson): string {
  const ttl = (seconds: number) => (seconds === 0 ? 'default' : `${seconds}s`)
  return block([
    ['Entry ID', e.id],
    ['SPIFFE ID', e.spiffe_id],
    ['Parent ID', e.parent_id],
    ['Revision', String(e.revision_number)],
    ['X509-SVID TTL', ttl(e.x509_svid_ttl)],
    ['JWT-SVID TTL', ttl(e.jwt_svid_ttl)],
    ...e.selectors.map((s): [string, string] => ['Selector', `${s.type}:${s.value}`]),
    ...e.dns_names.map((d): [string, string] => ['DNS name', d]),
    ...e.federates_with.map((t): [string, string] => ['Federates with', t]),
    ['Admin', e.admin ? 'true' : undefined],
    ['Downstream', e.downstream ? 'true' : undefined],
    ['Store SVID', e.store_svid ? 'true' : undefined],
    ['Expires at', e.expires_at === 0 ? undefined : formatUnixTime(e.expires_at)],
    ['Hint', e.hint || undefined],
    ['Owner', e.owner || undefined],
    ['Description', e.description || undefined],
    ['Created at', formatUnixTime(e.created_at)],
  ])
}

async function entriesFromData(opts: EntryFlags): Promise<RegistrationEntry[]> {
  const given = ENTRY_FLAG_NAMES.filter((name) => opts[name] !== undefined)
  if (given.length > 0 || opts.entryId !== undefined) {
    throw new CliError('--data cannot be combined with entry flags: put every field in the file')
  }
  return entriesFromDocument(await readJsonFile('--data', opts.data!))
}

async function entryFromFlags(opts: EntryFlags, client: AdminClient): Promise<RegistrationEntry> {
  let parentId = opts.parentId ?? ''
  if (opts.node === true) {
    // The server ID depends on the trust domain, which only the server knows.
    const health = await client.call('Health', {})
    parentId = serverId(parseTrustDomain(health.trust_domain)).toString()
  }
  return {
    id: opts.entryId ?? '',
    spiffe_id: opts.spiffeId ?? '',
    parent_id: parentId,
    selectors: (opts.selector ?? []).map((s) => selectorFromInput(s, '--selector')),
    x509_svid_ttl: opts.x509SvidTtl ?? 0,
    jwt_svid_ttl: opts.jwtSvidTtl ?? 0,
    dns_names: opts.dns ?? [],
    federates_with: opts.federatesWith ?? [],
    admin: opts.admin ?? false,
    downstream: opts.downstream ?? false,
    expires_at: opts.entryExpiry ?? 0,
    hint: opts.hint ?? '',
    store_svid: opts.storeSvid ?? false,
    owner: opts.owner ?? '',
    description: opts.description ?? '',
  }
}

function hasFilter(opts: FilterFlags): boolean {
  return [opts.spiffeId, opts.parentId, opts.selector, opts.hint, opts.owner, opts.federatesWith].some((v) => v !== undefined)
}

function filterFromFlags(opts: FilterFlags): ListEntriesRequest {
  return {
    spiffe_id: opts.spiffeId ?? '',
    parent_id: opts.parentId ?? '',
    selectors: (opts.selector ?? []).map((s) => selectorFromInput(s, '--selector')),
    match: opts.match ?? 'superset',
    hint: opts.hint ?? '',
    owner: opts.owner ?? '',
    federates_with: opts.federatesWith ?? '',
  }
}

async function listAll(client: AdminClient, filter: ListEntriesRequest): Promise<RegistrationEntry__Output[]> {
  const entries: RegistrationEntry__Output[] = []
  let pageToken = ''
  do {
    const page = await client.call('ListEntries', { ...filter, page_size: PAGE_SIZE, page_token: pageToken })
    entries.push(...page.entries)
    pageToken = page.next_page_token
  } while (pageToken !== '')
  return entries
}

/**
 * Prints per-item results: the entries written to stdout, each failure to stderr as
 * `Error: <list>[i]: <message>` (just the message for a single item); exit code 1 if any failed.
 */
function reportResults(format: OutputFormat, response: EntryResults__Output, verb: string, list: 'entries' | 'ids' | undefined): void {
  const results = response.results.map((r) => ({
    index: r.index,
    status: { code: r.status?.code ?? 0, message: r.status?.message ?? '' },
    ...(r.entry != null && { entry: entryToJson(r.entry) }),
  }))
  const done = results.filter((r) => r.status.code === 0 && r.entry !== undefined)
  if (format === 'json' || done.length > 0) {
    emit(format, { results }, () =>
      verb === 'deleted'
        ? done.map((r) => `Deleted entry ${r.entry!.id}`).join('\n')
        : done.map((r) => `Entry ${verb}\n${entryBlock(r.entry!)}`).join('\n'),
    )
  }
  for (const r of results) {
    if (r.status.code !== 0) fail(list === undefined ? r.status.message : `${list}[${r.index}]: ${r.status.message}`)
  }
}
