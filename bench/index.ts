/**
 * Runs every bench and prints their tables: `npm run bench` (add `-- --quick` for fewer, shorter
 * rounds, `-- --ws-direct` to also feed ws's Receiver through `_write`).
 *
 * Each bench runs in a process of its own, so that one bench's JIT feedback and heap do not shape
 * the next one's numbers. Every bench is bounded in rounds and time; a quick run takes about two minutes.
 * @module
 */
import { spawnSync } from 'node:child_process'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'

// The decoder runs twice: against ws as installed by default (its JavaScript unmask) and against
// ws with its optional native bufferutil addon, as many production users run it.
const BENCHES: { file: string; title?: string; env?: Record<string, string> }[] = [
  { file: 'decoder.ts', title: 'decoder vs ws without native addons (WS_NO_BUFFER_UTIL=1)', env: { WS_NO_BUFFER_UTIL: '1' } },
  { file: 'decoder.ts', title: 'decoder vs ws with bufferutil (native unmask)' },
  { file: 'mask.ts' },
  { file: 'echo.ts' },
  { file: 'memory.ts' },
]
const flags = process.argv.slice(2)
const started = performance.now()
const cpu = cpus()
console.log(`node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown cpu'}${flags.length > 0 ? `, ${flags.join(' ')}` : ''}`)
for (const bench of BENCHES) {
  console.log('')
  if (bench.title !== undefined) console.log(`== ${bench.title}`)
  const file = fileURLToPath(new URL(bench.file, import.meta.url))
  const result = spawnSync(process.execPath, ['--import', 'tsx', file, ...flags], { stdio: 'inherit', timeout: 5 * 60_000, env: { ...process.env, ...bench.env } })
  if (result.status !== 0) {
    console.error(`bench: ${bench.file} failed (${result.error?.message ?? `exit status ${result.status}, signal ${result.signal}`})`)
    process.exit(1)
  }
}
console.log('')
console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
