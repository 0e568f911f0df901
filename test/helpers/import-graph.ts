/**
 * The import graph of a source tree, read with the TypeScript compiler's own pre-processor (every
 * `import`, `import type`, `export … from` and dynamic `import()`), and the architecture's rules
 * checked on it: which folder may import which, who may import `node:*`, and no cycles between files.
 */
import { builtinModules } from 'node:module'
import { dirname, join, normalize } from 'node:path'
import ts from 'typescript'

/** One folder's rule: the folders it may import from (itself included), and whether it may import Node's modules. */
export interface LayerRule {
  readonly mayImport: readonly string[]
  readonly nodeBuiltins: boolean
}

/** The layers of src/ (arrows point down only); `.` is a top-level file of src/. */
export const LAYERS: Readonly<Record<string, LayerRule>> = {
  core: { mayImport: ['core'], nodeBuiltins: false },
  internal: { mayImport: ['core', 'internal'], nodeBuiltins: false },
  transforms: { mayImport: ['core', 'transforms'], nodeBuiltins: false },
  node: { mayImport: ['core', 'internal', 'node'], nodeBuiltins: true },
  connection: { mayImport: ['core', 'internal', 'transforms', 'connection'], nodeBuiltins: false },
  browser: { mayImport: ['core', 'internal', 'transforms', 'connection', 'reconnect', 'streams', 'browser'], nodeBuiltins: false },
  // The server and the client reach Node's platform through node/ (node/platform.ts).
  server: { mayImport: ['core', 'internal', 'transforms', 'connection', 'node', 'pubsub', 'server'], nodeBuiltins: false },
  // The reconnecting client runs in browsers too: no Node modules; client/ and browser/ bind it to their connect.
  reconnect: { mayImport: ['core', 'internal', 'connection', 'reconnect'], nodeBuiltins: false },
  // The WHATWG stream pair too (the Node Duplex, which needs node:stream, is in node/).
  streams: { mayImport: ['core', 'internal', 'connection', 'streams'], nodeBuiltins: false },
  client: { mayImport: ['core', 'internal', 'transforms', 'connection', 'node', 'reconnect', 'client'], nodeBuiltins: false },
  legacy: { mayImport: ['core', 'internal', 'transforms', 'connection', 'node', 'pubsub', 'server', 'legacy'], nodeBuiltins: false },
  bridge: { mayImport: ['core', 'internal', 'transforms', 'connection', 'node', 'server', 'client', 'bridge'], nodeBuiltins: true },
  // Pub/sub sits below the server, which owns a hub: the hub needs only connections (connection/)
  // and prepared frames (core/); its brokers may reach Node (node:cluster) and packages (Redis).
  pubsub: { mayImport: ['core', 'internal', 'transforms', 'connection', 'node', 'pubsub'], nodeBuiltins: true },
  // The command-line tool is thin over the public API: it may import the root (src/index.ts).
  cli: { mayImport: ['*'], nodeBuiltins: true },
  '.': { mayImport: ['*'], nodeBuiltins: true },
}

/** A broken rule: the file, what it imports, and why that is not allowed. */
export interface Violation {
  readonly file: string
  readonly specifier: string
  readonly rule: string
}

/** The layer of a file of src/ (its first folder, or `.` for a top-level file). */
export function layerOf(file: string): string {
  const parts = file.split('/')
  return parts.length > 2 ? parts[1]! : '.'
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!)
}

/** The specifiers a file imports, as the compiler's pre-processor finds them. */
export function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName)
}

/** Checks `files` (path under `src/` → source text) against `layers`; returns the violations and the cycles. */
export function checkArchitecture(files: ReadonlyMap<string, string>, layers: Readonly<Record<string, LayerRule>> = LAYERS): { violations: Violation[]; cycles: string[][] } {
  const violations: Violation[] = []
  const edges = new Map<string, string[]>()
  for (const [file, text] of files) {
    const layer = layerOf(file)
    const rule = layers[layer]
    const targets: string[] = []
    for (const specifier of importsOf(text)) {
      if (isBuiltin(specifier)) {
        if (rule === undefined || !rule.nodeBuiltins) violations.push({ file, specifier, rule: `${layer}/ may not import Node's modules (node/ may, and the tools above the library: bridge/, pubsub/, cli/)` })
        continue
      }
      if (!specifier.startsWith('.')) continue // a package
      const target = normalize(join(dirname(file), specifier))
      targets.push(target)
      const targetLayer = layerOf(target)
      if (rule === undefined) {
        violations.push({ file, specifier, rule: `${layer}/ is not a known layer` })
      } else if (targetLayer === '.' && !rule.mayImport.includes('*')) {
        violations.push({ file, specifier, rule: `${layer}/ may not import a top-level file of src/` })
      } else if (!rule.mayImport.includes('*') && !rule.mayImport.includes(targetLayer)) {
        violations.push({ file, specifier, rule: `${layer}/ may import only ${rule.mayImport.join(', ')} (not ${targetLayer}/)` })
      }
    }
    edges.set(file, targets)
  }
  return { violations, cycles: findCycles(edges) }
}

/** The cycles of a graph, each as the list of files around it (one per strongly connected component of more than one file, or a self-import). */
export function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's strongly connected components.
  let index = 0
  const indexes = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (node: string): void => {
    indexes.set(node, index)
    low.set(node, index)
    index++
    stack.push(node)
    onStack.add(node)
    for (const next of edges.get(node) ?? []) {
      if (!edges.has(next)) continue
      if (!indexes.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indexes.get(next)!))
      }
    }
    if (low.get(node) === indexes.get(node)) {
      const component: string[] = []
      let member: string
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      if (component.length > 1 || (edges.get(node) ?? []).includes(node)) cycles.push(component.sort())
    }
  }
  for (const node of edges.keys()) if (!indexes.has(node)) visit(node)
  return cycles
}
