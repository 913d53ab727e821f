export { startWorkloadApi, type RunningWorkloadApi, type WorkloadApiOptions } from './server.js'
export { SECURITY_HEADER, type WorkloadAttestation } from './caller.js'
