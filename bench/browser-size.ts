/**
 * The size of the browser build: each entry bundled alone by esbuild (`--bundle --minify`, ES
 * module, platform browser, target es2022), and gzipped with zlib at its default level (6); in
 * bytes. `connect` alone is what a page that imports only `connect` from `wsflow` ships (the rest
 * of the entry tree-shaken away); the browser entry is everything it exports (the reconnecting
 * client, its queue and the error classes included).
 *
 * Usage: node --import tsx bench/browser-size.ts
 * @module
 */
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { renderTable } from './harness.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

/** What is measured: a name and the module's source, as a page would import it. */
const SUBJECTS: readonly { name: string; contents: string }[] = [
  { name: 'browser client: connect alone', contents: "export { connect } from './src/browser/index.ts'" },
  { name: 'browser client: connect + reconnecting + persistent', contents: "export { connect, reconnecting, persistent } from './src/browser/index.ts'" },
  { name: 'browser entry (wsflow, everything it exports)', contents: "export * from './src/browser/index.ts'" },
  { name: 'core (wsflow/core)', contents: "export * from './src/core/index.ts'" },
  { name: 'transforms (wsflow/transforms)', contents: "export * from './src/transforms/index.ts'" },
]

/** One measured bundle: minified and gzipped sizes in bytes. */
export interface SizeRow {
  readonly name: string
  readonly minified: number
  readonly gzipped: number
}

/** Bundles each subject alone and measures it. */
export async function measureSizes(): Promise<SizeRow[]> {
  const rows: SizeRow[] = []
  for (const subject of SUBJECTS) {
    const result = await build({
      stdin: { contents: subject.contents, resolveDir: root, loader: 'ts' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      legalComments: 'none',
      logLevel: 'error',
    })
    const code = result.outputFiles[0]!.contents
    rows.push({ name: subject.name, minified: code.length, gzipped: gzipSync(code).length })
  }
  return rows
}

/** Prints the sizes as a table. */
export function printSizes(rows: readonly SizeRow[]): void {
  const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB (${bytes} B)`
  console.log('browser build sizes (esbuild --bundle --minify, ESM, es2022; gzip: zlib level 6)')
  console.log(renderTable([['bundle', 'minified', 'gzipped'], ...rows.map((r) => [r.name, kb(r.minified), kb(r.gzipped)])]))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) printSizes(await measureSizes())
