import { serverProgram } from './cli/index.js'

await serverProgram().parseAsync(process.argv)
