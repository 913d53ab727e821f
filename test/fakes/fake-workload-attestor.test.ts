import { runWorkloadAttestorSuite } from '../conformance/workload-attestor-suite.js'
import { FakeWorkloadAttestor } from './fake-workload-attestor.js'

// The fake must keep the same contract as the real attestors, or tests built on it prove nothing.
runWorkloadAttestorSuite({
  name: 'fake',
  make: async () => new FakeWorkloadAttestor({ kind: 'answer', values: ['b:2', 'a:1', 'b:2'] }),
  expectSelectors: true,
})

runWorkloadAttestorSuite({
  name: 'fake',
  variant: 'slow',
  make: async () => new FakeWorkloadAttestor({ kind: 'answer', values: ['a:1'], delayMs: 5 }),
  expectSelectors: true,
})
