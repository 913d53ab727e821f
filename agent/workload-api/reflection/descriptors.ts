import type { PackageDefinition } from '@grpc/proto-loader'

/**
 * File descriptors for server reflection. @grpc/proto-loader hands out serialized
 * `google.protobuf.FileDescriptorProto`s built by protobufjs, which differ from what protoc makes in
 * ways reflection clients trip over: one file per package named after it (`root.proto`), no
 * `dependency` entries, map entry types named after the field (`Federated_bundles` instead of
 * `FederatedBundlesEntry`, which Go's protodesc refuses) and type references relative to their
 * scope instead of fully qualified. This module repairs those by editing the serialized messages:
 * fields it does not touch are copied byte for byte.
 *
 * Field numbers (descriptor.proto): FileDescriptorProto name 1, package 2, dependency 3,
 * message_type 4, enum_type 5, service 6, syntax 12; DescriptorProto name 1, field 2, nested_type 3,
 * enum_type 4, options 7 (MessageOptions map_entry 7); FieldDescriptorProto name 1, type_name 6;
 * EnumDescriptorProto name 1; ServiceDescriptorProto method 2; MethodDescriptorProto input_type 2,
 * output_type 3.
 */

/** The official name and dependencies of the file of one package. */
export interface FileNaming {
  readonly name: string
  readonly dependencies: readonly string[]
}

/** A file descriptor ready to send, with what it declares. */
export interface FileDescriptor {
  readonly name: string
  readonly packageName: string
  readonly dependencies: readonly string[]
  /** Serialized FileDescriptorProto. */
  readonly bytes: Buffer
}

const F = { name: 1, package: 2, dependency: 3, messageType: 4, enumType: 5, service: 6, syntax: 12 } as const
const M = { name: 1, field: 2, nestedType: 3, enumType: 4, options: 7 } as const
const FIELD = { name: 1, typeName: 6 } as const
const MAP_ENTRY_OPTION = 7
const SERVICE_METHOD = 2
const METHOD = { inputType: 2, outputType: 3 } as const

interface RawField {
  readonly number: number
  /** The whole field, tag included. */
  readonly bytes: Buffer
  /** For length-delimited fields, the payload. */
  readonly payload?: Buffer
  /** For varint fields, the value. */
  readonly value?: number
}

function readVarint(buf: Buffer, offset: number): { value: number; next: number } {
  let value = 0
  let shift = 0
  for (let i = offset; i < buf.length && shift < 64; i++) {
    const byte = buf[i]!
    value += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) return { value, next: i + 1 }
    shift += 7
  }
  throw new TypeError('descriptor: truncated varint')
}

function writeVarint(value: number): Buffer {
  const bytes: number[] = []
  let v = value
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  bytes.push(v)
  return Buffer.from(bytes)
}

/** The top-level fields of a serialized message, in order. */
function readFields(buf: Buffer): RawField[] {
  const fields: RawField[] = []
  let offset = 0
  while (offset < buf.length) {
    const start = offset
    const tag = readVarint(buf, offset)
    offset = tag.next
    const wireType = tag.value % 8
    let payload: Buffer | undefined
    let value: number | undefined
    switch (wireType) {
      case 0: {
        const v = readVarint(buf, offset)
        value = v.value
        offset = v.next
        break
      }
      case 1:
        offset += 8
        break
      case 2: {
        const length = readVarint(buf, offset)
        offset = length.next + length.value
        payload = buf.subarray(length.next, offset)
        break
      }
      case 5:
        offset += 4
        break
      default:
        throw new TypeError(`descriptor: unsupported wire type ${wireType}`)
    }
    if (offset > buf.length) throw new TypeError('descriptor: truncated field')
    fields.push({ number: Math.floor(tag.value / 8), bytes: buf.subarray(start, offset), ...(payload && { payload }), ...(value !== undefined && { value }) })
  }
  return fields
}

function lengthDelimited(number: number, payload: Buffer): Buffer {
  return Buffer.concat([writeVarint(number * 8 + 2), writeVarint(payload.length), payload])
}

function stringField(number: number, value: string): Buffer {
  return lengthDelimited(number, Buffer.from(value, 'utf8'))
}

const text = (f: RawField | undefined): string => f?.payload?.toString('utf8') ?? ''
const first = (fields: readonly RawField[], number: number): RawField | undefined => fields.find((f) => f.number === number)
const join = (scope: string, name: string): string => (scope === '' ? name : `${scope}.${name}`)

/** protoc's name for the entry type of map field `field`: `federated_bundles` → `FederatedBundlesEntry`. */
function mapEntryName(field: string): string {
  return field.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase()).replaceAll('_', '') + 'Entry'
}

/** Every message and enum full name (as protobufjs wrote them), and the renames of map entries. */
class TypeNames {
  readonly known = new Set<string>()
  readonly renamed = new Map<string, string>()

  addFile(fields: readonly RawField[]): void {
    const pkg = text(first(fields, F.package))
    for (const f of fields) {
      if (f.number === F.messageType) this.#addMessage(readFields(f.payload!), pkg)
      if (f.number === F.enumType) this.known.add(join(pkg, text(first(readFields(f.payload!), 1))))
    }
  }

  #addMessage(fields: readonly RawField[], scope: string): void {
    const full = join(scope, text(first(fields, M.name)))
    this.known.add(full)
    const mapEntries = new Set<string>()
    for (const f of fields) {
      if (f.number === M.nestedType) {
        const nested = readFields(f.payload!)
        this.#addMessage(nested, full)
        const options = first(nested, M.options)
        if (options !== undefined && readFields(options.payload!).some((o) => o.number === MAP_ENTRY_OPTION && o.value === 1)) {
          mapEntries.add(join(full, text(first(nested, M.name))))
        }
      }
      if (f.number === M.enumType) this.known.add(join(full, text(first(readFields(f.payload!), 1))))
    }
    for (const f of fields) {
      if (f.number !== M.field) continue
      const field = readFields(f.payload!)
      const target = this.resolve(text(first(field, FIELD.typeName)), full)
      if (target !== undefined && mapEntries.has(target)) this.renamed.set(target, join(full, mapEntryName(text(first(field, FIELD.name)))))
    }
  }

  /** The full name `name` refers to from inside `scope` (protobuf scoping: innermost first). */
  resolve(name: string, scope: string): string | undefined {
    if (name === '') return undefined
    if (name.startsWith('.')) return name.slice(1)
    for (let s = scope; ; s = s.includes('.') ? s.slice(0, s.lastIndexOf('.')) : '') {
      const candidate = join(s, name)
      if (this.known.has(candidate)) return candidate
      if (s === '') return undefined
    }
  }

  /** `.full.Name` as protoc writes references, after renames; unresolvable names are kept. */
  qualified(name: string, scope: string): string {
    const target = this.resolve(name, scope)
    if (target === undefined) return name
    return '.' + (this.renamed.get(target) ?? target)
  }
}

/**
 * protobufjs bundles the well-known types with lowerCamelCase field names (`nullValue`); the
 * official files, which reflection clients may hold too, use snake_case (`null_value`).
 */
function wellKnownFieldName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())
}

function rewriteMessage(bytes: Buffer, scope: string, pkg: string, names: TypeNames): Buffer {
  const fields = readFields(bytes)
  const full = join(scope, text(first(fields, M.name)))
  const renamed = names.renamed.get(full)
  return Buffer.concat(
    fields.map((f) => {
      if (f.number === M.name && renamed !== undefined) return stringField(M.name, renamed.slice(renamed.lastIndexOf('.') + 1))
      if (f.number === M.nestedType) return lengthDelimited(M.nestedType, rewriteMessage(f.payload!, full, pkg, names))
      if (f.number === M.field) return lengthDelimited(M.field, rewriteField(f.payload!, full, pkg, names))
      return f.bytes
    }),
  )
}

function rewriteField(bytes: Buffer, scope: string, pkg: string, names: TypeNames): Buffer {
  return Buffer.concat(
    readFields(bytes).map((f) => {
      if (f.number === FIELD.typeName) return stringField(f.number, names.qualified(text(f), scope))
      if (f.number === FIELD.name && pkg === 'google.protobuf') return stringField(f.number, wellKnownFieldName(text(f)))
      return f.bytes
    }),
  )
}

/** Qualifies the input and output types of each method of a service. */
function rewriteMethod(bytes: Buffer, pkg: string, names: TypeNames): Buffer {
  return Buffer.concat(
    readFields(bytes).map((f) =>
      f.number === METHOD.inputType || f.number === METHOD.outputType ? stringField(f.number, names.qualified(text(f), pkg)) : f.bytes,
    ),
  )
}

function rewriteService(bytes: Buffer, pkg: string, names: TypeNames): Buffer {
  return Buffer.concat(
    readFields(bytes).map((f) =>
      f.number === SERVICE_METHOD ? lengthDelimited(SERVICE_METHOD, rewriteMethod(f.payload!, pkg, names)) : f.bytes,
    ),
  )
}

/** Name, package and dependencies of a serialized FileDescriptorProto. */
export function readFileHeader(bytes: Uint8Array): { name: string; packageName: string; dependencies: string[] } {
  const fields = readFields(Buffer.from(bytes))
  return {
    name: text(first(fields, F.name)),
    packageName: text(first(fields, F.package)),
    dependencies: fields.filter((f) => f.number === F.dependency).map(text),
  }
}

/** Full names of the messages and enums a serialized FileDescriptorProto declares, nested ones included. */
export function declaredTypes(bytes: Uint8Array): string[] {
  const names = new TypeNames()
  names.addFile(readFields(Buffer.from(bytes)))
  return [...names.known].sort()
}

/**
 * Every distinct file of the package definitions (one per package), repaired as described above
 * and named through `naming` (a package missing from it keeps protobufjs's name, no dependencies).
 * Files are marked proto3, as all of ours are.
 */
export function fileDescriptors(definitions: readonly PackageDefinition[], naming: ReadonlyMap<string, FileNaming>): FileDescriptor[] {
  const files = new Map<string, RawField[]>()
  for (const definition of definitions) {
    for (const entry of Object.values(definition)) {
      for (const raw of (entry as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos ?? []) {
        const fields = readFields(Buffer.from(raw))
        const pkg = text(first(fields, F.package))
        if (!files.has(pkg)) files.set(pkg, fields)
      }
    }
  }
  const names = new TypeNames()
  for (const fields of files.values()) names.addFile(fields)
  return [...files].map(([pkg, fields]) => {
    const given = naming.get(pkg)
    const name = given?.name ?? text(first(fields, F.name))
    const dependencies = given?.dependencies ?? []
    const body = fields.flatMap((f) => {
      switch (f.number) {
        case F.name:
        case F.dependency:
        case F.syntax:
          return []
        case F.messageType:
          return [lengthDelimited(F.messageType, rewriteMessage(f.payload!, pkg, pkg, names))]
        case F.service:
          return [lengthDelimited(F.service, rewriteService(f.payload!, pkg, names))]
        default:
          return [f.bytes]
      }
    })
    const bytes = Buffer.concat([stringField(F.name, name), ...dependencies.map((d) => stringField(F.dependency, d)), ...body, stringField(F.syntax, 'proto3')])
    return { name, packageName: pkg, dependencies, bytes }
  })
}
