#!/usr/bin/env node
// Runs every check of `npm test` and ends with one line `N passed, N failed`:
// the uvu test cases, plus one entry for each gate (type check, docs, coverage of src/core).
// Usage: node scripts/test.mjs [uvu pattern]   (a pattern runs only the matching test files, no gates)
import { spawnSync } from 'node:child_process'

const pattern = process.argv[2]
const bin = (name) => `node_modules/.bin/${name}`
const results = []

function run(name, command, args) {
  process.stdout.write(`\n== ${name}: ${command} ${args.join(' ')}\n`)
  const child = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024 })
  process.stdout.write(child.stdout ?? '')
  return { ok: child.status === 0, stdout: child.stdout ?? '' }
}

const gate = (name, command, args) => results.push({ name, ok: run(name, command, args).ok })

if (!pattern) {
  gate('type check', bin('tsc'), ['-p', 'tsconfig.json'])
  gate('docs (every export documented)', bin('typedoc'), ['--emit', 'none'])
}
const tests = run('tests', bin('c8'), [
  '--reporter', 'text-summary', '--reporter', 'lcov', '--include', 'src/**',
  'node', '--import', 'tsx', 'node_modules/uvu/bin.js', 'test', pattern ? `${pattern}.*\\.test\\.ts$` : '\\.test\\.ts$',
])
// uvu prints "Total: N", "Passed: N", "Skipped: N"; colours are stripped first.
const plain = tests.stdout.replace(/\x1b\[[0-9;]*m/g, '')
const count = (label) => Number((plain.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm')) ?? [])[1] ?? 0)
const total = count('Total')
const passed = count('Passed')
const skipped = count('Skipped')
let failed = Math.max(0, total - passed) // uvu's Total counts the tests run; skipped ones are not in it
if (!tests.ok && failed === 0) failed = 1 // the runner itself failed (a file threw while loading)
if (!pattern) {
  gate('coverage of src/core ≥ 95% lines, branches and functions', bin('c8'), [
    'check-coverage', '--include', 'src/core/**', '--lines', '95', '--branches', '95', '--functions', '95',
  ])
  gate('coverage of src/core/protocol.ts = 100% lines, branches and functions', bin('c8'), [
    'check-coverage', '--include', 'src/core/protocol.ts', '--lines', '100', '--branches', '100', '--functions', '100',
  ])
  run('coverage of src/core per file', bin('c8'), ['report', '--reporter', 'text', '--include', 'src/core/**'])
}
const gatesFailed = results.filter((r) => !r.ok)
process.stdout.write('\n')
for (const r of results) process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}\n`)
process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped (of ${total} run)\n`)
process.stdout.write(`${passed + results.length - gatesFailed.length} passed, ${failed + gatesFailed.length} failed\n`)
process.exit(failed + gatesFailed.length > 0 ? 1 : 0)
