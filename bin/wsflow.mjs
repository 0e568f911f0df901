#!/usr/bin/env node
// The `wsflow` executable. Installed from npm it runs dist/cli/main.js (built by `npm run build`,
// which `npm pack` runs). Inside a checkout without dist/ (or with WSFLOW_CLI_SOURCE=1) it runs
// the TypeScript sources through tsx, a devDependency.
import { existsSync } from 'node:fs'

const built = new URL('../dist/cli/main.js', import.meta.url)
const source = new URL('../src/cli/main.ts', import.meta.url)
let entry = built
if (process.env.WSFLOW_CLI_SOURCE === '1' || !existsSync(built)) {
  if (!existsSync(source)) {
    process.stderr.write('wsflow: dist/cli/main.js is missing: run npm run build\n')
    process.exit(1)
  }
  try {
    const { register } = await import('tsx/esm/api')
    register()
  } catch {
    process.stderr.write('wsflow: dist/cli/main.js is missing and tsx is not installed: run npm run build\n')
    process.exit(1)
  }
  entry = source
}
const { run } = await import(entry.href)
run()
