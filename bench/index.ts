/**
 * Runs the benches in one command and ends with one summary table: `npm run bench` (the full run,
 * some ten minutes) or `npm run bench -- --quick` (about a minute and a half).
 *
 * The full run: the decoder against ws without and with bufferutil, the mask paths, the server-side
 * matrix (bench/server.ts: the lean load generator against wsflow, ws and the raw ceiling: 1, 64
 * and 256 connections of 64 B, 64 KiB to 16 MiB, handshakes/s), the client-side matrix
 * (bench/client.ts: wsflow's and ws's clients against the raw echo, the lean load generator as the
 * ceiling), memory per idle connection (bench/memory.ts, 5,000 connections) and the browser
 * client in Chromium against the page's plain WebSocket (bench/browser.ts: its rows put the plain
 * WebSocket in the raw column; skipped without /usr/bin/chromium) and pub/sub fan-out
 * (bench/pubsub.ts: 1,000 and 10,000 subscribers, wsflow's server.publish against ws's README loop
 * and a raw ceiling, then memory per subscribed connection). The quick run:
 * the same two matrices with 3 rounds of 500 ms, memory at 1,000 connections, no decoder or mask
 * bench (run them alone: `node --import tsx bench/decoder.ts --quick`). `--ws-direct` is passed on
 * to the decoder bench.
 *
 * `--baseline=<git rev>` adds that revision's wsflow (bench/baseline.ts) as a contender of the server
 * and client matrices and of the memory bench, `wsflow@<short sha>`, in the same interleaved rounds
 * as the others; the revision is resolved to its commit once, here, so that every bench runs the
 * same one (commits made meanwhile do not move it), and the summary gains its column and wsflow/base.
 *
 * First, bench/raw-echo-check.ts checks the raw echo that the matrices use as their ceiling.
 * Each bench runs in a process of its own (and starts its servers and load generators in processes
 * of their own), so that one bench's JIT feedback and heap do not shape the next one's numbers.
 * Every bench is bounded in rounds and time, and killed if it overruns.
 * @module
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { baselineFlag, resolveRevision } from './baseline.ts'
import { renderTable } from './harness.ts'
import { formatValue, percent, ratio, type Unit } from './matrix.ts'

const rev = baselineFlag()
const base = rev === undefined ? undefined : resolveRevision(rev)
const baseName = base === undefined ? undefined : `wsflow@${base.short}`
// Passed on to every bench, the baseline as the commit it resolved to.
const flags = process.argv.slice(2).map((flag) => (flag.startsWith('--baseline=') && base !== undefined ? `--baseline=${base.sha}` : flag))
const quick = flags.includes('--quick')

// The decoder runs twice: against ws as installed by default (its JavaScript unmask) and against
// ws with its optional native bufferutil addon, as many production users run it.
const BENCHES: { file: string; title?: string; env?: Record<string, string>; full?: boolean }[] = [
  { file: 'decoder.ts', title: 'decoder vs ws without native addons (WS_NO_BUFFER_UTIL=1)', env: { WS_NO_BUFFER_UTIL: '1' }, full: true },
  { file: 'decoder.ts', title: 'decoder vs ws with bufferutil (native unmask)', full: true },
  { file: 'mask.ts', full: true },
  { file: 'raw-echo-check.ts' },
  { file: 'server.ts' },
  { file: 'client.ts' },
  { file: 'memory.ts' },
  { file: 'browser.ts' },
  { file: 'pubsub.ts' },
]

interface Row {
  bench: string
  workload: string
  unit: string
  values: Record<string, { median: number; spread: string }>
}

const started = performance.now()
const cpu = cpus()
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ')
console.log(`node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown cpu'}, load average ${load()} (other work on the machine widens the spread)${flags.length > 0 ? `, ${flags.join(' ')}` : ''}`)
if (base !== undefined) console.log(`baseline: ${rev} = ${base.sha}, shown as ${baseName}`)
if (quick) console.log('quick: server and client matrices (3 rounds of 500 ms), memory at 1,000 connections; no decoder or mask bench')
const dir = mkdtempSync(join(tmpdir(), 'wsflow-bench-'))
const resultsFile = join(dir, 'results.jsonl')
try {
  for (const bench of BENCHES) {
    if (quick && bench.full === true) continue
    console.log('')
    if (bench.title !== undefined) console.log(`== ${bench.title}`)
    const file = fileURLToPath(new URL(bench.file, import.meta.url))
    const env = { ...process.env, ...bench.env, BENCH_RESULTS: resultsFile }
    const result = spawnSync(process.execPath, ['--import', 'tsx', file, ...flags], { stdio: 'inherit', timeout: 20 * 60_000, env })
    if (result.status !== 0) {
      console.error(`bench: ${bench.file} failed (${result.error?.message ?? `exit status ${result.status}, signal ${result.signal}`})`)
      process.exitCode = 1
      break
    }
  }
  let rows: Row[] = []
  try {
    rows = readFileSync(resultsFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Row)
  } catch {
    // no results: a failed run
  }
  console.log('')
  console.log('== summary: medians (± half the range of the rounds); raw = the ceiling (server side: the raw echo server; client side: the lean load generator against it)')
  const cell = (row: Row, name: string): string => {
    const v = row.values[name]
    if (v === undefined) return '-'
    const value = row.unit === 'KiB/conn' ? v.median.toFixed(2) : formatValue(v.median, row.unit as Unit)
    return v.spread === '' ? value : `${value} ${v.spread}`
  }
  const ceiling = (row: Row): string => (row.bench === 'client' ? 'lean' : 'raw')
  const builds = baseName === undefined ? ['wsflow'] : ['wsflow', baseName]
  const versusBase = (row: Row): string[] => (baseName === undefined ? [] : [ratio(row.values.wsflow?.median, row.values[baseName]?.median)])
  console.log(
    renderTable([
      ['workload', 'unit', ...builds, 'ws', 'raw', 'wsflow/ws', ...(baseName === undefined ? [] : ['wsflow/base']), '% of raw'],
      ...rows.map((row) => [
        row.workload,
        row.unit,
        ...builds.map((name) => cell(row, name)),
        cell(row, 'ws'),
        cell(row, ceiling(row)),
        ratio(row.values.wsflow?.median, row.values.ws?.median),
        ...versusBase(row),
        percent(row.values.wsflow?.median, row.values[ceiling(row)]?.median),
      ]),
    ]),
  )
  console.log(`wsflow/ws${baseName === undefined ? '' : ` and wsflow/base (base = ${baseName})`} above 1 mean the working tree's wsflow is faster, except in the memory rows (KiB per connection: lower is better)`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
console.log('')
console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s, load average ${load()}`)
