import { ConfigError, errorMessage } from './errors.js'
import { assertIssuableTrustDomain, parseTrustDomain } from '../spiffe/index.js'

/** For `string({ check })`: a bare trust domain name that certificates can carry. */
export function trustDomainCheck(value: string): string | undefined {
  try {
    const td = parseTrustDomain(value)
    if (value.includes(':/')) return 'must be a bare trust domain name such as "example.org", not a SPIFFE ID'
    assertIssuableTrustDomain(td)
    return undefined
  } catch (err) {
    return `must be a valid trust domain name: ${errorMessage(err).replace(/^spiffeid: /, '')}`
  }
}

/** A port given as a command-line flag. @throws ConfigError naming the flag. */
export function portFlag(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new ConfigError(`${flag} must be a port number (0-65535), not ${JSON.stringify(value)}`)
  return Number(value)
}

/** The `server`/`agent` section of a config file, as a mutable copy for flag overrides. */
export function sectionOf(raw: unknown, section: string): { raw: Record<string, unknown>; section: Record<string, unknown> } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`config file must be a section with "${section}" and "plugins" keys`)
  }
  const obj = raw as Record<string, unknown>
  return { raw: obj, section: { ...((obj[section] as Record<string, unknown> | undefined) ?? {}) } }
}

/** Sets `section[key]` when a flag was given. */
export function override(section: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) section[key] = value
}

/** A schema value that accepts anything (plugin sections are checked by the plugin itself). */
export const anyValue = { describe: 'any', parse: (v: unknown): unknown => v }
