import { ConfigError } from '../common/errors.js'
import type { Logger } from '../common/logger.js'
import type { Schema } from '../common/schema.js'
import { CONFIG_SECTION, type HostOf, type PluginInstance, type PluginKind } from './kinds.js'

export type { PluginHost } from './host.js'
export type { HostOf, PluginInstance, PluginKind, PluginKinds } from './kinds.js'

/** One plugin implementation: its kind, name, config schema and factory. */
export interface PluginDefinition<Kind extends PluginKind, Config> {
  readonly kind: Kind
  readonly name: string
  readonly config: Schema<Config>
  create(config: Config, host: HostOf<Kind>): PluginInstance<Kind> | Promise<PluginInstance<Kind>>
}

/** Declares a plugin; its factory is checked against the kind's instance and host types. */
export function definePlugin<Kind extends PluginKind, Config>(def: PluginDefinition<Kind, Config>): PluginDefinition<Kind, Config> {
  return def
}

/** How many plugins of one kind a process needs. */
export interface KindConstraint {
  readonly min: number
  /** undefined = no upper bound. */
  readonly max: number | undefined
}

/**
 * A definition of any kind and config type, as the catalog holds them. Each config is checked by
 * its own schema at load, and `load` only hands a definition the host of its own kind.
 */
type AnyDefinition = { [K in PluginKind]: PluginDefinition<K, any> }[PluginKind]

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
  async load<K extends PluginKind>(
    kind: K,
    sections: Readonly<Record<string, unknown>>,
    hostFor: (name: string) => HostOf<K>,
    configPath = `plugins.${CONFIG_SECTION[kind]}`,
  ): Promise<LoadedPlugin<PluginInstance<K>>[]> {
    const names = Object.keys(sections)
    const constraint = this.#constraints.get(kind) ?? { min: 0, max: undefined }
    if (names.length < constraint.min || (constraint.max !== undefined && names.length > constraint.max)) {
      const wanted =
        constraint.max === constraint.min
          ? `exactly ${constraint.min}`
          : constraint.max === undefined
            ? `at least ${constraint.min}`
            : `between ${constraint.min} and ${constraint.max}`
      throw new ConfigError(`${configPath} must configure ${wanted} plugin(s) of kind ${CONFIG_SECTION[kind]}, found ${names.length}`)
    }
    const loaded: LoadedPlugin<PluginInstance<K>>[] = []
    for (const name of names) {
      const def = this.#definitions.get(`${kind}/${name}`) as PluginDefinition<K, unknown> | undefined
      if (def === undefined) {
        throw new ConfigError(`${configPath}.${name} is not a known ${CONFIG_SECTION[kind]} plugin (known: ${this.names(kind).join(', ') || 'none'})`)
      }
      const config = def.config.parse(sections[name], `${configPath}.${name}`)
      loaded.push({ name, instance: await def.create(config, hostFor(name)) })
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
