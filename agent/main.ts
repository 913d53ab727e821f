// @peculiar/x509 needs the Reflect metadata polyfill before it is first imported.
import 'reflect-metadata'
import { agentProgram } from './cli/index.js'

await agentProgram().parseAsync(process.argv)
