import { expect } from 'vitest'
import { SpiffeError } from '../errors.js'

/** The SpiffeError `fn` throws; fails the test when it throws something else or nothing. */
export function thrown(fn: () => unknown): SpiffeError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(SpiffeError)
    return err as SpiffeError
  }
  throw new Error('expected a SpiffeError, nothing was thrown')
}
