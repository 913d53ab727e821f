import { runDataStoreSuite } from '../conformance/data-store-suite.js'
import { MemoryDataStore } from './memory-data-store.js'

// The fake must keep the same contract as the real stores, or tests built on it prove nothing.
runDataStoreSuite('memory fake', async ({ clock }) => {
  const store = new MemoryDataStore({ clock })
  return { store, cleanup: () => store.close().catch(() => {}) }
})
