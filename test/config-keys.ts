import { expect } from 'vitest'
import { ConfigError } from '../common/errors.js'

/** Config keys that are also names of Object.prototype members: each must be an unknown key. */
export const BUILT_IN_KEYS = ['toString', 'constructor', '__proto__'] as const

/**
 * `[key, config text, key path]` for each of {@link BUILT_IN_KEYS}: at the top of the file, in the
 * process's own section, in `plugins`, as a plugin name of `kind`, and inside the section of the
 * plugin `kind`/`name`.
 */
export function builtInKeyCases(section: string, kind: string, name: string): [string, string, string][] {
  return BUILT_IN_KEYS.flatMap((key): [string, string, string][] => [
    [key, `${key}: 1\n`, key],
    [key, `${section}:\n  ${key}: 1\n`, `${section}.${key}`],
    [key, `plugins:\n  ${key}: {}\n`, `plugins.${key}`],
    [key, `plugins:\n  ${kind}:\n    ${key}: {}\n`, `plugins.${kind}.${key}`],
    [key, `plugins:\n  ${kind}:\n    ${name}:\n      ${key}: 1\n`, `plugins.${kind}.${name}.${key}`],
  ])
}

/** Asserts that `load` fails with a ConfigError saying that `path` is not a known key (or plugin). */
export async function expectUnknownKey(load: () => unknown, path: string): Promise<void> {
  const err = await (async () => load())().then(
    () => new Error('the config was accepted'),
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ConfigError)
  expect((err as Error).message.startsWith(`${path} is not a known `), (err as Error).message).toBe(true)
}
