// The page's side of the shared behaviour suite: bundled by esbuild with the browser client and
// uvu/assert, it runs a case of ./cases.ts by name with the browser's `connect`.
import * as assert from 'uvu/assert'
import { connect, type BrowserConnectOptions } from '../../../src/browser/index.ts'
import { CASES, type SuiteConnect } from './cases.ts'

/** The names of the cases, in order. */
export const names: string[] = CASES.map((c) => c.name)

/** Runs the case `name` against the server at `base` (ws://host:port), with `options` for every connect. */
export async function runCase(name: string, base: string, options: BrowserConnectOptions): Promise<string> {
  const found = CASES.find((c) => c.name === name)
  if (found === undefined) throw new Error(`no case named ${name}`)
  const browserConnect = ((url: string, more?: BrowserConnectOptions) => connect(url, { ...options, ...more })) as unknown as SuiteConnect
  try {
    await found.run({ connect: browserConnect, assert, url: (path) => base + path })
  } catch (error) {
    // uvu's Assertion keeps the values apart from its message: put them in, for the Node side to print.
    const e = error as { message?: string; actual?: unknown; expects?: unknown; operator?: string }
    if (e.operator !== undefined) throw new Error(`${e.message ?? 'assertion'}: got ${show(e.actual)}, expected ${show(e.expects)}`)
    throw error
  }
  return 'ok'
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}
