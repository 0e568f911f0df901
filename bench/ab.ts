/**
 * Two builds of wsflow side by side, A/B in alternation: for each workload, `--pairs` times, a
 * fresh process of the working tree's build, then a fresh one of `--baseline=<git rev>`'s
 * (bench/baseline.ts), pinned as bench/server.ts pins (the driving side on core 0, the measured
 * server on core 1). Server rows: a wsflow echo server (bench/echo-server.ts) driven by the lean
 * load generator (bench/loadgen.ts). Client rows: a wsflow client (bench/client-driver.ts, core 0)
 * against the raw echo server (core 1).
 *
 * It complements the matrices (bench/server.ts, bench/client.ts), which run each contender in one
 * long-lived process for all rounds: there one process's JIT luck (bench/profile-echo.ts found a
 * bimodal first row) is repeated in every round and shows as a ratio between builds. A fresh
 * process per measurement, in alternation, spreads that luck over both builds, and the medians
 * compare the code rather than two processes. Prints each pair, then per workload the medians,
 * their ratio (this build / base), the range of the per-pair ratios, and the ratio of the measured
 * process's CPU time per message (per MB for large messages; below 1 is cheaper).
 *
 * Both builds run as users run them: src/ compiled by tsc (bench/baseline.ts `wsflowBuilds`);
 * `--source` runs both src/ trees through tsx instead. What else a process loads moves these
 * figures: while the echo server imported ws for its ws contender, a wsflow server in it (under
 * tsx) ran some 40 major GCs per 800 MiB of 1 MiB echo instead of 3, and the more modules wsflow's
 * index loaded the more it lost (the root index 0.64x of the same build imported from
 * src/server/server.ts); with each library loaded only in its own process the two are level.
 *
 * Usage: node --import tsx bench/ab.ts --baseline=<git rev> [--pairs=5] [--ms=2000] [--warmup=500]
 *   [--only=<text in the workload's name>] [--source]
 * Bounded: at most 15 pairs per workload; each job by the load generator's own bound.
 * @module
 */
import { baselineFlag, wsflowBuilds } from './baseline.ts'
import type { EchoJob, HandshakeJob } from './driver.ts'
import { median } from './harness.ts'
import { runRound } from './matrix.ts'
import { CLIENT_CORE, hasTaskset, LineProcess, SERVER_CORE, stopAll } from './processes.ts'

const option = (name: string, fallback: number): number => {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`))
  return flag === undefined ? fallback : Number(flag.slice(name.length + 3))
}
if (baselineFlag() === undefined) throw new Error('bench/ab.ts needs --baseline=<git rev>')
const PAIRS = Math.min(Math.max(option('pairs', 5), 1), 15)
const MS = option('ms', 2000)
const WARMUP = option('warmup', 500)
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length)

interface Workload {
  readonly name: string
  readonly unit: 'msg/s' | 'MB/s' | 'handshakes/s'
  /** Whose build is measured: the server's (against the lean load generator), or the client's (bench/client-driver.ts against the raw echo). */
  readonly side: 'server' | 'client'
  readonly job: (port: number) => EchoJob | HandshakeJob
}

const echo = (name: string, connections: number, size: number, window: number, opcode = 0x2, unit: Workload['unit'] = 'msg/s', side: Workload['side'] = 'server'): Workload => ({
  name,
  unit,
  side,
  job: (port) => ({ kind: 'echo', port, connections, size, opcode, window, warmupMs: WARMUP, ms: MS }),
})

const WORKLOADS: readonly Workload[] = [
  echo('1 conn, 64 B binary, 128 in flight', 1, 64, 128),
  echo('1 conn, 64 B text, 128 in flight', 1, 64, 128, 0x1),
  echo('64 conns, 64 B binary, 16 in flight each', 64, 64, 16),
  echo('256 conns, 64 B binary, 16 in flight each', 256, 64, 16),
  echo('1 conn, 64 KiB binary, 4 in flight', 1, 64 * 1024, 4, 0x2, 'MB/s'),
  echo('1 conn, 1 MiB binary, 2 in flight', 1, 1024 * 1024, 2, 0x2, 'MB/s'),
  // The load generator's bound counts the warm-up's handshakes too: room for 10,000 a second of it.
  { name: 'handshakes, 16 loops', unit: 'handshakes/s', side: 'server', job: (port) => ({ kind: 'handshakes', port, loops: 16, max: 20_000 + Math.ceil(WARMUP / 1000) * 10_000, warmupMs: WARMUP, ms: Math.min(MS, 1500) }) },
  echo('client: 1 conn, 64 B binary, 128 in flight', 1, 64, 128, 0x2, 'msg/s', 'client'),
  echo('client: 1 conn, 64 KiB binary, 4 in flight', 1, 64 * 1024, 4, 0x2, 'MB/s', 'client'),
  echo('client: 1 conn, 1 MiB binary, 2 in flight', 1, 1024 * 1024, 2, 0x2, 'MB/s', 'client'),
]

const format = (value: number, unit: Workload['unit']): string => (unit === 'MB/s' ? value.toFixed(0) : value >= 1e3 ? `${(value / 1e3).toFixed(1)} k` : value.toFixed(0))

/**
 * One measurement on a fresh process of the build: the rate, and that process's CPU (µs) per
 * message or per MB. A server row starts a server of the build for the lean load generator; a
 * client row starts a client of the build (bench/client-driver.ts) against the raw echo server.
 */
async function measure(index: string, workload: Workload, loadgen: LineProcess, raw: { server: LineProcess; port: number }): Promise<{ rate: number; cpu: number }> {
  const client = workload.side === 'client'
  const child = client ? new LineProcess('client', 'client-driver.ts', ['wsflow', index], CLIENT_CORE) : new LineProcess('server', 'echo-server.ts', ['wsflow', index], SERVER_CORE)
  try {
    const port = client ? raw.port : Number(await child.next(30_000, 'its port'))
    const round = await (client ? runRound(child, raw.server, workload.job(port), workload.unit) : runRound(loadgen, child, workload.job(port), workload.unit)).catch((error: unknown) => {
      throw new Error(`${index === currentIndex ? 'the working tree' : base.name}, ${workload.name}: ${String(error)}`)
    })
    const rate = workload.unit === 'MB/s' ? round.rate / 1e6 : round.rate
    return { rate, cpu: ((client ? round.driverCpu : round.serverCpu) / 100) * 1e6 / rate }
  } finally {
    await child.stop()
  }
}

const builds = wsflowBuilds()
const base = builds.baseline!
const currentIndex = builds.current
const baseIndex = builds.baselineIndex!
const loadgen = new LineProcess('load generator', 'loadgen.ts', [], CLIENT_CORE)
const rawServer = new LineProcess('raw server', 'echo-server.ts', ['raw'], SERVER_CORE)
const raw = { server: rawServer, port: Number(await rawServer.next(30_000, 'the raw server\'s port')) }
console.log(`A/B: the working tree against ${base.name} (${builds.fromSource ? 'src/ through tsx' : 'compiled by tsc'}), ${PAIRS} pairs of fresh server processes per workload, ${WARMUP} ms warm-up + ${MS} ms each${hasTaskset ? ` (load generator on core ${CLIENT_CORE}, servers on core ${SERVER_CORE})` : ' (taskset unavailable: not pinned)'}`)
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
        const { rate, cpu } = await measure(which === 'current' ? currentIndex : baseIndex, workload, loadgen, raw)
        ;(which === 'current' ? current : baseline).push(rate)
        ;(which === 'current' ? currentCpu : baselineCpu).push(cpu)
      }
      console.log(`  ${workload.name}, pair ${pair + 1}: wsflow ${format(current.at(-1)!, workload.unit)} (${currentCpu.at(-1)!.toFixed(2)} µs CPU), ${base.name} ${format(baseline.at(-1)!, workload.unit)} (${baselineCpu.at(-1)!.toFixed(2)} µs CPU) ${workload.unit}`)
    }
    const ratios = current.map((value, i) => value / baseline[i]!)
    const cpuRatio = median(currentCpu) / median(baselineCpu)
    summary.push(`${workload.name.padEnd(44)} ${workload.unit.padEnd(13)} ${format(median(current), workload.unit).padStart(9)} ${format(median(baseline), workload.unit).padStart(9)}   ${(median(current) / median(baseline)).toFixed(2)}x   pairs ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x   ${workload.side} CPU per ${workload.unit === 'MB/s' ? 'MB' : 'message'} ${cpuRatio.toFixed(2)}x`)
  }
} finally {
  await stopAll([loadgen, rawServer])
  builds.remove()
}
console.log(`\n${'workload'.padEnd(44)} ${'unit'.padEnd(13)} ${'wsflow'.padStart(9)} ${'base'.padStart(9)}   ratio   (medians of the pairs; range of the per-pair ratios)`)
for (const line of summary) console.log(line)
