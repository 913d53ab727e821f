import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * The module rules of the source tree, checked by reading every import with the TypeScript parser
 * (syntax only, no type checking).
 *
 * - A folder with an `index.ts` is a module, and its index names its public surface: code outside
 *   the folder imports that `index.ts`, never a file inside. proto/generated/ is the one exception:
 *   its message types are imported type-only, file by file, as the generator names them.
 * - Top-level folders import one way (LAYERS): spiffe/ uses none of ours, the Workload API client
 *   sits above it, server/ and agent/ never import each other.
 * - Domain code (GRPC_FREE: the core, plugins, the server's and the agent's services) does not
 *   import gRPC; common/grpc-status.ts maps errors to statuses at the API boundary.
 * - An `index.ts` lists what it exports: no `export *`.
 *
 * Tests (`*.test.ts`, `testdata/`, `test/`) may reach into a module to test its internals.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Which top-level folders each top-level folder may import (besides itself). */
const LAYERS: Readonly<Record<string, readonly string[]>> = {
  spiffe: [],
  common: ['spiffe'],
  proto: ['common', 'spiffe'],
  workloadapi: ['spiffe', 'proto'],
  plugins: ['common', 'spiffe'],
  server: ['common', 'spiffe', 'proto', 'plugins'],
  agent: ['common', 'spiffe', 'proto', 'plugins', 'workloadapi'],
  examples: ['spiffe', 'workloadapi'],
}

/** Domain code: it reports errors with common/errors.ts and never needs gRPC. */
const GRPC_FREE = [
  'spiffe/',
  'plugins/',
  'server/ca/',
  'server/issuance/',
  'server/node/',
  'server/registration/',
  'server/store/',
  'agent/attestor/',
  'agent/manager/',
]

/** Imported file by file, type-only, from outside proto/. */
const GENERATED = 'proto/generated/'

interface Import {
  readonly file: string
  readonly specifier: string
  /** Path from ROOT of a relative import's target (`.ts`), else undefined. */
  readonly target: string | undefined
  readonly typeOnly: boolean
}

const SKIPPED_DIRS = new Set(['node_modules', 'build', 'generated', '.git', '.steeple'])

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

function isTest(file: string): boolean {
  return file.endsWith('.test.ts') || file.includes('/testdata/') || file.startsWith('test/')
}

function allTypeOnly(elements: ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>): boolean {
  return elements.length > 0 && elements.every((e) => e.isTypeOnly)
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const found: Import[] = []
  const add = (specifier: string, typeOnly: boolean): void => {
    const target = specifier.startsWith('.')
      ? relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts')
      : undefined
    found.push({ file, specifier, target, typeOnly })
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause
      const named = clause?.namedBindings
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly || (clause.name === undefined && named !== undefined && ts.isNamedImports(named) && allTypeOnly(named.elements)))
      add(node.moduleSpecifier.text, typeOnly)
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause
      add(node.moduleSpecifier.text, node.isTypeOnly || (clause !== undefined && ts.isNamedExports(clause) && allTypeOnly(clause.elements)))
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments
      if (arg !== undefined && ts.isStringLiteral(arg)) add(arg.text, false)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

const files = Object.keys(LAYERS).flatMap((top) => sourceFiles(top))
const modules = new Set(files.filter((f) => f.endsWith('/index.ts')).map((f) => f.slice(0, -'/index.ts'.length)))
const imports = files.filter((f) => !isTest(f)).flatMap(importsOf)

/** The module folder whose internals `imp` reaches into, or undefined when it uses a public surface. */
function reachedModule(imp: Import): string | undefined {
  const { target, file } = imp
  if (target === undefined) return undefined
  if (target.startsWith(GENERATED) && !file.startsWith('proto/')) return imp.typeOnly ? undefined : 'proto'
  const parts = target.split('/')
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/')
    if (!modules.has(dir) || file.startsWith(`${dir}/`)) continue
    return target === `${dir}/index.ts` ? undefined : dir
  }
  return undefined
}

describe('module boundaries', () => {
  it('found the source tree and its modules', () => {
    expect(modules).toContain('spiffe')
    expect(modules).toContain('workloadapi')
    expect(modules).toContain('proto')
    expect(imports.length).toBeGreaterThan(500)
  })

  it('code outside a module imports only its index.ts (proto/generated/ types aside)', () => {
    const offenders = imports
      .filter((imp) => reachedModule(imp) !== undefined)
      .map((imp) => {
        const dir = reachedModule(imp)!
        const why = imp.target!.startsWith(GENERATED) ? 'generated messages are imported with `import type`' : `import ${dir}/index.js`
        return `${imp.file}: '${imp.specifier}' (${why})`
      })
    expect(offenders).toEqual([])
  })

  it('top-level folders import one way', () => {
    const offenders = imports.flatMap((imp) => {
      if (imp.target === undefined) return []
      const from = imp.file.split('/')[0]!
      const to = imp.target.split('/')[0]!
      return from === to || LAYERS[from]!.includes(to) ? [] : [`${imp.file}: '${imp.specifier}' (${from}/ may not import ${to}/)`]
    })
    expect(offenders).toEqual([])
  })

  it('domain code does not import gRPC', () => {
    const offenders = imports
      .filter((imp) => GRPC_FREE.some((dir) => imp.file.startsWith(dir)) && imp.specifier.startsWith('@grpc/'))
      .map((imp) => `${imp.file}: '${imp.specifier}'`)
    expect(offenders).toEqual([])
  })

  it('index.ts files name what they export (no export *)', () => {
    const offenders = [...modules]
      .map((dir) => `${dir}/index.ts`)
      .filter((index) => /^export \*/m.test(readFileSync(join(ROOT, index), 'utf8')))
    expect(offenders).toEqual([])
  })
})
