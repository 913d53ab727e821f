export {
  AuthorizedEntryCache,
  type AuthorizedEntryCacheOptions,
  type CacheChange,
  type CacheChangeListener,
} from './authorized-cache.js'
export { agentId, agentIdPrefix, isAgentId, isReservedId, isServerId, serverId } from './ids.js'
export { RegistrationService, type EntryResult, type RegistrationServiceOptions } from './service.js'
export {
  ENTRY_FIELDS,
  MAX_DESCRIPTION_BYTES,
  MAX_ENTRY_ID_BYTES,
  MAX_HINT_BYTES,
  MAX_OWNER_BYTES,
  MAX_TTL_SECONDS,
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
