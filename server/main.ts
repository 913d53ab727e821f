// @peculiar/x509 needs the Reflect metadata polyfill before it is first imported.
import 'reflect-metadata'
import { serverProgram } from './cli/index.js'

await serverProgram().parseAsync(process.argv)
