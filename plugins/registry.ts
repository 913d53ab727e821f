import { ConfigError } from '../common/errors.js'
import type { Logger } from '../common/logger.js'
import type { Schema } from '../common/schema.js'
import type { TrustDomain } from '../spiffe/index.js'

/** The plugin kinds a Steeple process can load. */
export type PluginKind =
  | 'DataStore'
  | 'KeyManager'
  | 'UpstreamAuthority'
  | 'NodeAttestor'
  | 'WorkloadAttestor'

/** What a plugin may use from its host process: never the host's modules themselves. */
export interface PluginHost {
  /** Tagged with `pluginKind` and `pluginName`. */
  readonly log: Logger
  readonly trustDomain: TrustDomain
  /** A directory the plugin may keep files in (absolute). */
  readonly dataDir: string
  readonly clock: () => Date
}

/** One plugin implementation: its kind, name, config schema and factory. */
export interface PluginDefinition<Kind extends PluginKind, Config, Instance> {
  readonly kind: Kind
  readonly name: string
  readonly config: Schema<Config>
  create(config: Config, host: PluginHost): Instance | Promise<Instance>
}

/** Declares a plugin (an identity function that keeps the types together). */
export function definePlugin<Kind extends PluginKind, Config, Instance>(
  def: PluginDefinition<Kind, Config, Instance>,
): PluginDefinition<Kind, Config, Instance> {
  return def
}

/** How many plugins of one kind a process needs. */
export interface KindConstraint {
  readonly min: number
  /** undefined = no upper bound. */
  readonly max: number | undefined
}

// The catalog holds definitions of every config type; each is checked by its own schema at load.
type AnyDefinition = PluginDefinition<PluginKind, any, unknown>

export interface LoadedPlugin<Instance> {
  readonly name: string
  readonly instance: Instance
}

/**
 * A process's built-in plugins and how many of each kind it needs; built once at start-up.
 * `load` validates each selected plugin's config section with its own schema before creating it.
 */
export class PluginCatalog {
  readonly #definitions = new Map<string, AnyDefinition>()
  readonly #constraints: ReadonlyMap<PluginKind, KindConstraint>

  constructor(definitions: readonly AnyDefinition[], constraints: ReadonlyMap<PluginKind, KindConstraint>) {
    for (const def of definitions) {
      const key = `${def.kind}/${def.name}`
      if (this.#definitions.has(key)) throw new TypeError(`plugin ${key} is defined twice`)
      this.#definitions.set(key, def)
    }
    this.#constraints = constraints
  }

  /** Names of the built-in plugins of one kind. */
  names(kind: PluginKind): string[] {
    return [...this.#definitions.values()].filter((d) => d.kind === kind).map((d) => d.name)
  }

  /**
   * Creates the plugins of `kind` selected in `sections` (plugin name → its config section).
   * @throws ConfigError for an unknown name, a bad section or a count outside the kind's bounds.
   */
  async load<Instance>(
    kind: PluginKind,
    sections: Readonly<Record<string, unknown>>,
    hostFor: (name: string) => PluginHost,
    configPath = `plugins.${kind}`,
  ): Promise<LoadedPlugin<Instance>[]> {
    const names = Object.keys(sections)
    const constraint = this.#constraints.get(kind) ?? { min: 0, max: undefined }
    if (names.length < constraint.min || (constraint.max !== undefined && names.length > constraint.max)) {
      const wanted =
        constraint.max === constraint.min
          ? `exactly ${constraint.min}`
          : constraint.max === undefined
            ? `at least ${constraint.min}`
            : `between ${constraint.min} and ${constraint.max}`
      throw new ConfigError(`${configPath} must configure ${wanted} plugin(s) of kind ${kind}, found ${names.length}`)
    }
    const loaded: LoadedPlugin<Instance>[] = []
    for (const name of names) {
      const def = this.#definitions.get(`${kind}/${name}`)
      if (def === undefined) {
        throw new ConfigError(`${configPath}.${name} is not a known ${kind} plugin (known: ${this.names(kind).join(', ') || 'none'})`)
      }
      const config = def.config.parse(sections[name], `${configPath}.${name}`)
      loaded.push({ name, instance: (await def.create(config, hostFor(name))) as Instance })
    }
    return loaded
  }
}

/** Closes plugins that hold resources, in reverse order of creation. */
export async function closeAll(instances: readonly unknown[], log: Logger): Promise<void> {
  for (const instance of [...instances].reverse()) {
    const close = (instance as { close?: () => unknown }).close
    if (typeof close === 'function') {
      try {
        await close.call(instance)
      } catch (err) {
        log.error('Plugin failed to close', { err: err instanceof Error ? err.message : String(err) })
      }
    }
  }
}
