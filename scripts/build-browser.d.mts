// Types of scripts/build-browser.mjs, for the tests and benches that build the browser bundles.
import type { BuildResult, Metafile } from 'esbuild'

/** The entries of the browser build: output name -> source file. */
export declare const BROWSER_ENTRIES: Readonly<Record<string, string>>

/** Builds the browser bundles into `outdir`; esbuild's result, with its metafile. */
export declare function buildBrowser(
  outdir?: string,
  options?: { minify?: boolean; sourcemap?: boolean; entries?: Record<string, string> },
): Promise<BuildResult & { metafile: Metafile }>
