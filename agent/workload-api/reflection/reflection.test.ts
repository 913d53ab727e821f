import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { afterEach, describe, expect, it } from 'vitest'
import { PROTO_LOADER_OPTIONS } from '../../../proto/index.js'
import { Harness } from '../testdata/harness.js'
import { declaredTypes, readFileHeader } from './descriptors.js'

const harnesses: Harness[] = []
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop()
})

interface ReflectionResponse {
  valid_host: string
  original_request: Record<string, unknown>
  message_response: string
  file_descriptor_response?: { file_descriptor_proto: Buffer[] }
  list_services_response?: { service: { name: string }[] }
  all_extension_numbers_response?: { base_type_name: string; extension_number: number[] }
  error_response?: { error_code: number; error_message: string }
}

/** A reflection client of one version, as grpcurl would use it over the Workload API socket. */
function reflectionClient(h: Harness, version: 'v1' | 'v1alpha'): grpc.Client {
  const definition = protoLoader.loadSync(fileURLToPath(new URL(`./${version}.proto`, import.meta.url)), PROTO_LOADER_OPTIONS)
  const pkg = grpc.loadPackageDefinition(definition)
  const Ctor = (((pkg['grpc'] as grpc.GrpcObject)['reflection'] as grpc.GrpcObject)[version] as grpc.GrpcObject)['ServerReflection'] as grpc.ServiceClientConstructor
  return new Ctor(h.address, grpc.credentials.createInsecure())
}

/** Sends the requests on one reflection stream (no security header) and collects the answers. */
function ask(client: grpc.Client, requests: object[]): Promise<ReflectionResponse[]> {
  return new Promise((resolve, reject) => {
    const call = (client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, ReflectionResponse> }).ServerReflectionInfo()
    const responses: ReflectionResponse[] = []
    call.on('data', (response: ReflectionResponse) => responses.push(response))
    call.on('error', reject)
    call.on('end', () => {
      client.close()
      resolve(responses)
    })
    for (const request of requests) call.write(request)
    call.end()
  })
}

/** A FileDescriptorSet of the files (field 1, repeated), loaded the way a reflection client would. */
function loadFiles(files: readonly Buffer[]): protoLoader.PackageDefinition {
  const set = Buffer.concat(files.flatMap((file) => [Buffer.from([0x0a]), varint(file.length), file]))
  return protoLoader.loadFileDescriptorSetFromBuffer(set, PROTO_LOADER_OPTIONS)
}

function varint(n: number): Buffer {
  const bytes: number[] = []
  for (; n >= 0x80; n = Math.floor(n / 0x80)) bytes.push((n % 0x80) | 0x80)
  bytes.push(n)
  return Buffer.from(bytes)
}

const WORKLOAD_METHODS = [
  'FetchX509SVID',
  'FetchX509Bundles',
  'FetchJWTSVID',
  'FetchJWTBundles',
  'ValidateJWTSVID',
  'FetchWITSVID',
  'FetchWITBundles',
]

describe.each([['v1'], ['v1alpha']] as const)('gRPC server reflection %s', (version) => {
  it('WEP-16: lists SpiffeWorkloadAPI (and the reflection services), without the security header', async () => {
    const h = await Harness.start()
    harnesses.push(h)
    const [answer] = await ask(reflectionClient(h, version), [{ host: 'localhost', list_services: '*' }])
    expect(answer!.valid_host).toBe('localhost')
    expect(answer!.original_request).toMatchObject({ list_services: '*' })
    expect(answer!.list_services_response!.service.map((s) => s.name)).toEqual([
      'SpiffeWorkloadAPI',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
    ])
    expect(h.attested).toEqual([])
  })

  it('WEP-15, WEP-16, INTEROP-01, WAPI-02, WX-01, WX-12, WJ-01, WJ-06: the descriptors of workload.proto rebuild exactly the 7 official methods at /SpiffeWorkloadAPI/<Method>', async () => {
    const h = await Harness.start()
    harnesses.push(h)
    const [bySymbol, byMethod, byFile] = await ask(reflectionClient(h, version), [
      { file_containing_symbol: 'SpiffeWorkloadAPI' },
      { file_containing_symbol: 'SpiffeWorkloadAPI.FetchJWTSVID' },
      { file_by_filename: 'workload.proto' },
    ])
    for (const answer of [bySymbol!, byMethod!, byFile!]) {
      const files = answer.file_descriptor_response!.file_descriptor_proto
      expect(files.map((f) => readFileHeader(f))).toEqual([
        { name: 'workload.proto', packageName: '', dependencies: ['google/protobuf/struct.proto'] },
        { name: 'google/protobuf/struct.proto', packageName: 'google.protobuf', dependencies: [] },
      ])
    }
    const rebuilt = loadFiles(bySymbol!.file_descriptor_response!.file_descriptor_proto)
    const service = rebuilt['SpiffeWorkloadAPI'] as protoLoader.ServiceDefinition
    expect(Object.keys(service).sort()).toEqual([...WORKLOAD_METHODS].sort())
    for (const method of WORKLOAD_METHODS) expect(service[method]!.path).toBe(`/SpiffeWorkloadAPI/${method}`)
    const streaming = new Set(['FetchX509SVID', 'FetchX509Bundles', 'FetchJWTBundles', 'FetchWITSVID', 'FetchWITBundles'])
    for (const method of WORKLOAD_METHODS) {
      expect([method, service[method]!.requestStream, service[method]!.responseStream]).toEqual([method, false, streaming.has(method)])
    }
    // Map entry types carry protoc's names (WORKLOAD_API_WIRE.md §3), which Go's protodesc insists on.
    const [workload, struct] = bySymbol!.file_descriptor_response!.file_descriptor_proto
    expect(declaredTypes(workload!).filter((name) => name.endsWith('Entry'))).toEqual([
      'JWTBundlesResponse.BundlesEntry',
      'WITBundlesResponse.BundlesEntry',
      'X509BundlesResponse.BundlesEntry',
      'X509SVIDResponse.FederatedBundlesEntry',
    ])
    expect(declaredTypes(struct!)).toEqual([
      'google.protobuf.ListValue',
      'google.protobuf.NullValue',
      'google.protobuf.Struct',
      'google.protobuf.Struct.FieldsEntry',
      'google.protobuf.Value',
    ])
  })

  it('finds nested and dependency symbols, and answers unknown ones with NOT_FOUND', async () => {
    const h = await Harness.start()
    harnesses.push(h)
    const [nested, struct, unknown, extension, numbers] = await ask(reflectionClient(h, version), [
      { file_containing_symbol: 'X509SVIDResponse.FederatedBundlesEntry' },
      { file_containing_symbol: '.google.protobuf.Struct' },
      { file_containing_symbol: 'steeple.Secret' },
      { file_containing_extension: { containing_type: 'X509SVID', extension_number: 100 } },
      { all_extension_numbers_of_type: 'X509SVID' },
    ])
    expect(readFileHeader(nested!.file_descriptor_response!.file_descriptor_proto[0]!).name).toBe('workload.proto')
    expect(struct!.file_descriptor_response!.file_descriptor_proto.map((f) => readFileHeader(f).name)).toEqual(['google/protobuf/struct.proto'])
    expect(unknown!.error_response).toEqual({ error_code: grpc.status.NOT_FOUND, error_message: 'symbol not found' })
    expect(extension!.error_response!.error_code).toBe(grpc.status.NOT_FOUND)
    expect(numbers!.all_extension_numbers_response).toEqual({ base_type_name: 'X509SVID', extension_number: [] })
  })
})
