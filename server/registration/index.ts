export {
  AuthorizedEntryCache,
  type AuthorizedEntryCacheOptions,
  type CacheChange,
  type CacheChangeListener,
} from './authorized-cache.js'
export { agentId, agentIdPrefix, isAgentId, isReservedId, isServerId, serverId } from './ids.js'
export { RegistrationService, type EntryResult, type RegistrationServiceOptions } from './service.js'
export { LIMITS, checkAudience, checkCount, checkText, type Limit } from './limits.js'
export {
  ENTRY_FIELDS,
  MAX_TTL_SECONDS,
  validateDnsNames,
  validateEntryFilter,
  validateEntryId,
  validateEntryUpdate,
  validateNewEntry,
  type EntryFilterInput,
  type EntryInput,
  type EntryUpdate,
  type EntryValidationContext,
  type SelectorInput,
} from './validate.js'
