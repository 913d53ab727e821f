import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import type { Logger } from '../../../common/logger.js'
import { sourcePath } from '../../../common/source-path.js'
import { PROTO_LOADER_OPTIONS } from '../../../proto/index.js'
import { fileDescriptors, type FileDescriptor, type FileNaming } from './descriptors.js'

/**
 * gRPC server reflection (grpc/grpc doc/server-reflection.md), v1 and v1alpha, for the Workload API
 * socket (SPIFFE_Workload_Endpoint.md §7, WEP-16): clients such as grpcurl list the services and
 * read the descriptors of `workload.proto`. Steeple has no `@grpc/reflection` dependency; this
 * answers `list_services`, `file_by_filename` and `file_containing_symbol` (extensions do not
 * exist in these proto3 files). Reflection calls need no security header: they are not Workload
 * API calls and reveal only the public service definition.
 */

/** Official file names per package, with their dependencies. */
const NAMING: ReadonlyMap<string, FileNaming> = new Map([
  ['', { name: 'workload.proto', dependencies: ['google/protobuf/struct.proto'] }],
  ['google.protobuf', { name: 'google/protobuf/struct.proto', dependencies: [] }],
  ['grpc.reflection.v1', { name: 'grpc/reflection/v1/reflection.proto', dependencies: [] }],
  ['grpc.reflection.v1alpha', { name: 'grpc/reflection/v1alpha/reflection.proto', dependencies: [] }],
])

const VERSIONS = ['v1', 'v1alpha'] as const

interface ReflectionRequest {
  host: string
  message_request?: 'file_by_filename' | 'file_containing_symbol' | 'file_containing_extension' | 'all_extension_numbers_of_type' | 'list_services'
  file_by_filename?: string
  file_containing_symbol?: string
  all_extension_numbers_of_type?: string
}

type ReflectionResponse =
  | { file_descriptor_response: { file_descriptor_proto: Buffer[] } }
  | { all_extension_numbers_response: { base_type_name: string; extension_number: number[] } }
  | { list_services_response: { service: { name: string }[] } }
  | { error_response: { error_code: number; error_message: string } }

function loadReflectionProto(version: (typeof VERSIONS)[number]): protoLoader.PackageDefinition {
  return protoLoader.loadSync(sourcePath(import.meta.url, `./${version}.proto`), PROTO_LOADER_OPTIONS)
}

/** What reflection knows: files, the file of each symbol, and the services to list. */
export class ReflectionIndex {
  readonly #files = new Map<string, FileDescriptor>()
  readonly #symbols = new Map<string, FileDescriptor>()
  readonly #services: string[]

  constructor(definitions: readonly protoLoader.PackageDefinition[]) {
    const files = fileDescriptors(definitions, NAMING)
    for (const file of files) this.#files.set(file.name, file)
    const services: string[] = []
    for (const definition of definitions) {
      for (const [symbol, entry] of Object.entries(definition)) {
        // The longest package that prefixes the symbol is its file's ('' holds the Workload API).
        const file = files
          .filter((f) => f.packageName === '' || symbol.startsWith(f.packageName + '.'))
          .sort((a, b) => b.packageName.length - a.packageName.length)[0]
        if (file !== undefined) this.#symbols.set(symbol, file)
        // Service definitions are the entries whose values are method definitions.
        if (Object.values(entry as object).every((m) => typeof m === 'object' && m !== null && 'path' in m)) services.push(symbol)
      }
    }
    this.#services = [...new Set(services)].sort()
  }

  /** Fully qualified names of the services. */
  get services(): readonly string[] {
    return this.#services
  }

  /** The file holding `symbol` (a service, method, message, enum, field or nested type). */
  fileOfSymbol(symbol: string): FileDescriptor | undefined {
    let name = symbol.startsWith('.') ? symbol.slice(1) : symbol
    for (;;) {
      const file = this.#symbols.get(name)
      if (file !== undefined) return file
      const dot = name.lastIndexOf('.')
      if (dot < 0) return undefined
      name = name.slice(0, dot)
    }
  }

  fileByName(name: string): FileDescriptor | undefined {
    return this.#files.get(name)
  }

  /** The file first, then every file it depends on, each once. */
  withDependencies(file: FileDescriptor): Buffer[] {
    const out: FileDescriptor[] = []
    const visit = (f: FileDescriptor): void => {
      if (out.includes(f)) return
      out.push(f)
      for (const dep of f.dependencies) {
        const found = this.#files.get(dep)
        if (found !== undefined) visit(found)
      }
    }
    visit(file)
    return out.map((f) => f.bytes)
  }

  /** The answer to one reflection request. */
  answer(request: ReflectionRequest): ReflectionResponse {
    const notFound = (what: string): ReflectionResponse => ({
      error_response: { error_code: grpc.status.NOT_FOUND, error_message: `${what} not found` },
    })
    switch (request.message_request) {
      case 'list_services':
        return { list_services_response: { service: this.#services.map((name) => ({ name })) } }
      case 'file_by_filename': {
        const file = this.fileByName(request.file_by_filename ?? '')
        return file === undefined ? notFound('file') : { file_descriptor_response: { file_descriptor_proto: this.withDependencies(file) } }
      }
      case 'file_containing_symbol': {
        const file = this.fileOfSymbol(request.file_containing_symbol ?? '')
        return file === undefined ? notFound('symbol') : { file_descriptor_response: { file_descriptor_proto: this.withDependencies(file) } }
      }
      case 'all_extension_numbers_of_type': {
        const type = request.all_extension_numbers_of_type ?? ''
        if (this.fileOfSymbol(type) === undefined) return notFound('type')
        return { all_extension_numbers_response: { base_type_name: type, extension_number: [] } }
      }
      case 'file_containing_extension':
        return notFound('extension')
      default:
        return { error_response: { error_code: grpc.status.INVALID_ARGUMENT, error_message: 'no reflection request given' } }
    }
  }
}

/**
 * Adds the v1 and v1alpha reflection services to `server`, describing the services of
 * `definitions` and themselves.
 */
export function addReflection(server: grpc.Server, definitions: readonly protoLoader.PackageDefinition[], log: Logger): void {
  const own = VERSIONS.map((version) => ({ version, definition: loadReflectionProto(version) }))
  const index = new ReflectionIndex([...definitions, ...own.map((o) => o.definition)])
  for (const { version, definition } of own) {
    const service = grpc.loadPackageDefinition(definition)
    const reflection = (((service['grpc'] as grpc.GrpcObject)['reflection'] as grpc.GrpcObject)[version] as grpc.GrpcObject)[
      'ServerReflection'
    ] as grpc.ServiceClientConstructor
    server.addService(reflection.service, {
      ServerReflectionInfo: (call: grpc.ServerDuplexStream<ReflectionRequest, unknown>) => {
        call.on('data', (request: ReflectionRequest) => {
          call.write({ valid_host: request.host, original_request: request, ...index.answer(request) })
        })
        call.on('end', () => call.end())
        call.on('error', (err) => log.debug('Reflection stream failed', { err: err.message }))
      },
    })
  }
}
