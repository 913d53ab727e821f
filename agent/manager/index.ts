export { AgentManager, type AgentManagerOptions } from './manager.js'
export { DEFAULT_MANAGER_TIMING, type ManagerTiming } from './timing.js'
export { systemClock, type Clock, type ClockTimer } from './clock.js'
export type { AgentEntry, CachedX509Svid, IdentityCache, MissingSvid, SvidShortage, WorkloadIdentities } from './types.js'
