#!/usr/bin/env node
// The browser build: esbuild bundles wsflow's browser client (src/browser/index.ts), the core
// (src/core/index.ts) and the transforms (src/transforms/index.ts) into dist/browser/ as ES
// modules, minified, with source maps. The three entries share their code through chunks
// (splitting), so a page importing `wsflow`, `wsflow/core` and `wsflow/transforms` gets one copy
// of Message and of the error classes. package.json's `browser` conditions point here; the
// declarations come from `tsc -p tsconfig.build.json` (dist/browser/index.d.ts and the others).
//
//   node scripts/build-browser.mjs [outdir]      (default dist/browser)
import { build } from 'esbuild'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/** The entries of the browser build: output name -> source file. */
export const BROWSER_ENTRIES = {
  wsflow: 'src/browser/index.ts',
  core: 'src/core/index.ts',
  transforms: 'src/transforms/index.ts',
}

/**
 * Builds the browser bundles into `outdir` (absolute, or relative to the repository) and returns
 * esbuild's result (its metafile lists every output and its size in bytes).
 */
export async function buildBrowser(outdir = 'dist/browser', { minify = true, sourcemap = true, entries = BROWSER_ENTRIES } = {}) {
  // Chunks are named by their content: those of an earlier build are removed, not left to pile up.
  const dir = isAbsolute(outdir) ? outdir : join(root, outdir)
  if (existsSync(dir)) {
    for (const file of readdirSync(dir)) if (/^chunk-[A-Z0-9]+\.js(\.map)?$/.test(file)) rmSync(join(dir, file))
  }
  return build({
    absWorkingDir: root,
    entryPoints: entries,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap,
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = process.argv[2] ?? 'dist/browser'
  const result = await buildBrowser(outdir)
  for (const [file, { bytes }] of Object.entries(result.metafile.outputs)) {
    if (!file.endsWith('.map')) console.log(`${file}  ${bytes} bytes`)
  }
}
