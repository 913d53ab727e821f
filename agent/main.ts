import { agentProgram } from './cli/index.js'

await agentProgram().parseAsync(process.argv)
