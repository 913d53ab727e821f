import { afterEach, beforeEach, describe } from 'vitest'
import { bundleTests } from './data-store/bundles.js'
import { entryTests } from './data-store/entries.js'
import { eventTests } from './data-store/events.js'
import { TestClock, type DataStoreFactory, type DataStoreHarness, type SuiteContext } from './data-store/fixtures.js'
import { nodeTests } from './data-store/nodes.js'
import { sharedDatabaseTests } from './data-store/shared.js'
import { auditTests, closeTests, joinTokenTests } from './data-store/tokens-audit.js'

export type { DataStoreFactory, DataStoreHarness, DataStoreSuiteOptions } from './data-store/fixtures.js'

export interface DataStoreSuiteCapabilities {
  /** Several stores can open one database (the harness provides `another()`): run the shared tests. */
  readonly sharedDatabase?: boolean
}

/**
 * The contract of plugins/data-store/types.ts, run against one implementation (as SPIRE's
 * datastore sqltest suite runs against each SQL dialect). `factory` gives a fresh, empty store per
 * test, wired to the clock it is handed; the suite calls `cleanup()` after each test.
 */
export function runDataStoreSuite(name: string, factory: DataStoreFactory, capabilities: DataStoreSuiteCapabilities = {}): void {
  describe(`DataStore conformance: ${name}`, () => {
    let current: SuiteContext | undefined

    beforeEach(async () => {
      const clock = new TestClock()
      const harness: DataStoreHarness = await factory({ clock: clock.now })
      current = { store: harness.store, clock, harness }
    })

    afterEach(async () => {
      const done = current
      current = undefined
      await done?.harness.cleanup()
    })

    const ctx = (): SuiteContext => {
      if (current === undefined) throw new TypeError('data store suite: no store outside a test')
      return current
    }

    entryTests(ctx)
    nodeTests(ctx)
    bundleTests(ctx)
    eventTests(ctx)
    joinTokenTests(ctx)
    auditTests(ctx)
    closeTests(ctx)
    if (capabilities.sharedDatabase === true) sharedDatabaseTests(ctx)
  })
}
