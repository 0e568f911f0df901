/**
 * Two builds of wsflow's echo server side by side, A/B in alternation: for each workload, `--pairs`
 * times, a fresh server process of the working tree, then a fresh one of `--baseline=<git rev>`
 * (bench/baseline.ts), each driven by the lean load generator (bench/loadgen.ts) for one interval
 * after a warm-up, pinned as bench/server.ts pins (load generator on core 0, servers on core 1).
 *
 * It complements the matrix (bench/server.ts), which runs each contender in one long-lived process
 * for all rounds: there one process's JIT luck (bench/profile-echo.ts found a bimodal first row)
 * is repeated in every round and shows as a ratio between builds. A fresh process per
 * measurement, in alternation, spreads that luck over both builds, and the medians compare the
 * code rather than two processes. Prints each pair, then per workload the medians, their ratio
 * (this build / base), the range of the per-pair ratios, and the ratio of the server's CPU time per
 * message (per MB for large messages; below 1 is cheaper).
 *
 * Both builds run as users run them: src/ compiled by tsc (bench/baseline.ts `buildWsflow`), the
 * server importing the build's index.js. `--source` runs both src/ trees through tsx instead, as the
 * matrix does. The two differ: under tsx every module of the index is transformed and kept, and at
 * 1 MiB a server process holding more modules ran twice the major GCs (V8's old-generation limit
 * sits just above the live heap of a small process); a build imported through the root index then
 * measured 0.64x of the same build imported from src/server/server.ts, where compiled builds are level.
 *
 * Usage: node --import tsx bench/ab.ts --baseline=<git rev> [--pairs=5] [--ms=2000] [--warmup=500]
 *   [--only=<text in the workload's name>] [--source]
 * Bounded: at most 15 pairs per workload; each job by the load generator's own bound.
 * @module
 */
import { rmSync } from 'node:fs'
import { CURRENT_INDEX, baselineFlag, buildWsflow, materializeBaseline, writeBaselineTsconfig } from './baseline.ts'
import type { EchoJob, HandshakeJob } from './driver.ts'
import { runRound } from './matrix.ts'
import { CLIENT_CORE, hasTaskset, LineProcess, SERVER_CORE, stopAll } from './processes.ts'

const option = (name: string, fallback: number): number => {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`))
  return flag === undefined ? fallback : Number(flag.slice(name.length + 3))
}
const rev = baselineFlag()
if (rev === undefined) throw new Error('bench/ab.ts needs --baseline=<git rev>')
const PAIRS = Math.min(Math.max(option('pairs', 5), 1), 15)
const MS = option('ms', 2000)
const WARMUP = option('warmup', 500)
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length)

interface Workload {
  readonly name: string
  readonly unit: 'msg/s' | 'MB/s' | 'handshakes/s'
  readonly job: (port: number) => EchoJob | HandshakeJob
}

const echo = (name: string, connections: number, size: number, window: number, opcode = 0x2, unit: Workload['unit'] = 'msg/s'): Workload => ({
  name,
  unit,
  job: (port) => ({ kind: 'echo', port, connections, size, opcode, window, warmupMs: WARMUP, ms: MS }),
})

const WORKLOADS: readonly Workload[] = [
  echo('1 conn, 64 B binary, 128 in flight', 1, 64, 128),
  echo('1 conn, 64 B text, 128 in flight', 1, 64, 128, 0x1),
  echo('64 conns, 64 B binary, 16 in flight each', 64, 64, 16),
  echo('256 conns, 64 B binary, 16 in flight each', 256, 64, 16),
  echo('1 conn, 64 KiB binary, 4 in flight', 1, 64 * 1024, 4, 0x2, 'MB/s'),
  echo('1 conn, 1 MiB binary, 2 in flight', 1, 1024 * 1024, 2, 0x2, 'MB/s'),
  { name: 'handshakes, 16 loops', unit: 'handshakes/s', job: (port) => ({ kind: 'handshakes', port, loops: 16, max: 20_000, warmupMs: WARMUP, ms: Math.min(MS, 1500) }) },
]

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

const format = (value: number, unit: Workload['unit']): string => (unit === 'MB/s' ? value.toFixed(0) : value >= 1e3 ? `${(value / 1e3).toFixed(1)} k` : value.toFixed(0))

/** One measurement on a fresh server process: the rate, and the server's CPU (µs) per message or per MB. */
async function measure(index: string, workload: Workload, loadgen: LineProcess): Promise<{ rate: number; cpu: number }> {
  const server = new LineProcess('server', 'echo-server.ts', ['wsflow', index], SERVER_CORE)
  try {
    const port = Number(await server.next(30_000, 'its port'))
    const round = await runRound(loadgen, server, workload.job(port), workload.unit).catch((error: unknown) => {
      throw new Error(`${index === currentIndex ? 'the working tree' : base.name}, ${workload.name}: ${String(error)}`)
    })
    const rate = workload.unit === 'MB/s' ? round.rate / 1e6 : round.rate
    return { rate, cpu: (round.serverCpu / 100) * 1e6 / rate }
  } finally {
    await server.stop()
  }
}

const fromSource = process.argv.includes('--source')
const base = materializeBaseline(rev)
const builds = fromSource ? undefined : { current: buildWsflow(), base: buildWsflow(writeBaselineTsconfig(base)) }
const currentIndex = builds?.current.index ?? CURRENT_INDEX
const baseIndex = builds?.base.index ?? base.index
const loadgen = new LineProcess('load generator', 'loadgen.ts', [], CLIENT_CORE)
console.log(`A/B: the working tree against ${base.name} (${fromSource ? 'src/ through tsx' : 'compiled by tsc'}), ${PAIRS} pairs of fresh server processes per workload, ${WARMUP} ms warm-up + ${MS} ms each${hasTaskset ? ` (load generator on core ${CLIENT_CORE}, servers on core ${SERVER_CORE})` : ' (taskset unavailable: not pinned)'}`)
const summary: string[] = []
try {
  for (const workload of WORKLOADS) {
    if (only !== undefined && !workload.name.includes(only)) continue
    const current: number[] = []
    const baseline: number[] = []
    const currentCpu: number[] = []
    const baselineCpu: number[] = []
    for (let pair = 0; pair < PAIRS; pair++) {
      // Alternate which build goes first, so neither always follows the other.
      const order = pair % 2 === 0 ? ['current', 'base'] : ['base', 'current']
      for (const which of order) {
        const { rate, cpu } = await measure(which === 'current' ? currentIndex : baseIndex, workload, loadgen)
        ;(which === 'current' ? current : baseline).push(rate)
        ;(which === 'current' ? currentCpu : baselineCpu).push(cpu)
      }
      console.log(`  ${workload.name}, pair ${pair + 1}: wsflow ${format(current.at(-1)!, workload.unit)} (${currentCpu.at(-1)!.toFixed(2)} µs CPU), ${base.name} ${format(baseline.at(-1)!, workload.unit)} (${baselineCpu.at(-1)!.toFixed(2)} µs CPU) ${workload.unit}`)
    }
    const ratios = current.map((value, i) => value / baseline[i]!)
    const cpuRatio = median(currentCpu) / median(baselineCpu)
    summary.push(`${workload.name.padEnd(44)} ${workload.unit.padEnd(13)} ${format(median(current), workload.unit).padStart(9)} ${format(median(baseline), workload.unit).padStart(9)}   ${(median(current) / median(baseline)).toFixed(2)}x   pairs ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x   server CPU per ${workload.unit === 'MB/s' ? 'MB' : 'message'} ${cpuRatio.toFixed(2)}x`)
  }
} finally {
  await stopAll([loadgen])
  base.remove()
  for (const build of builds === undefined ? [] : [builds.current, builds.base]) rmSync(build.dir, { recursive: true, force: true })
}
console.log(`\n${'workload'.padEnd(44)} ${'unit'.padEnd(13)} ${'wsflow'.padStart(9)} ${'base'.padStart(9)}   ratio   (medians of the pairs; range of the per-pair ratios)`)
for (const line of summary) console.log(line)
