/**
 * The client-side matrix: wsflow's client and ws's client (bench/client-driver.ts, each in its own
 * process on core 0) against the raw echo server (bench/raw-echo.ts, in its own process on core 1),
 * where `taskset` works. The ceiling is the lean load generator (bench/loadgen.ts) against the same
 * server, measured in the same rounds. Workloads, on one connection: 64 B binary with 128 in flight
 * (msg/s), 64 KiB (4 in flight), 1 MiB and 16 MiB (2 in flight) binary (MB/s of echoed payload).
 *
 * Before the first row, every client is warmed up (matrix.ts `prewarm`: twice 500 ms of 64 B and
 * 300 ms of 64 KiB binary echo, on a connection each, nothing measured); `--no-prewarm` skips it.
 *
 * With `--baseline=<git rev>`, that revision's wsflow client (bench/baseline.ts) runs as one more
 * client, `wsflow@<short sha>`, in the same rounds, and the table gains a wsflow/base column.
 *
 * Usage: node --import tsx bench/client.ts [--quick] [--only=<part of a workload's name>] [--baseline=<git rev>] [--no-prewarm]
 *   [--source (wsflow's src/ through tsx; by default each wsflow build is compiled by tsc, as users run it)]
 * @module
 */
import { wsflowBuilds, type WsflowBuilds } from './baseline.ts'
import type { EchoJob } from './driver.ts'
import { isQuick } from './harness.ts'
import { cpuLegend, limitCheck, prewarm, renderRows, runRow, summarizeRow, type Contender, type RowSummary, type Unit } from './matrix.ts'
import { CLIENT_CORE, hasTaskset, LineProcess, SERVER_CORE, stopAll } from './processes.ts'

const quick = isQuick()
const ROUNDS = quick ? 3 : 5
const MS = quick ? 500 : 2000
const WARMUP_MS = quick ? 200 : 500
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length)

const KiB = 1024
const WORKLOADS: readonly { name: string; unit: Unit; size: number; window: number }[] = [
  { name: 'client: 1 conn, 64 B binary, 128 in flight', unit: 'msg/s', size: 64, window: 128 },
  { name: 'client: 1 conn, 64 KiB binary, 4 in flight', unit: 'MB/s', size: 64 * KiB, window: 4 },
  { name: 'client: 1 conn, 1 MiB binary, 2 in flight', unit: 'MB/s', size: 1024 * KiB, window: 2 },
  { name: 'client: 1 conn, 16 MiB binary, 2 in flight', unit: 'MB/s', size: 16 * 1024 * KiB, window: 2 },
]

const processes: LineProcess[] = []
let builds: WsflowBuilds | undefined
try {
  const made = (builds = wsflowBuilds())
  const baseline = made.baseline
  const clients = ['wsflow', ...(baseline === undefined ? [] : [baseline.name]), 'ws', 'lean']
  console.log(made.description)
  const server = new LineProcess('raw server', 'echo-server.ts', ['raw'], SERVER_CORE)
  processes.push(server)
  const port = Number(await server.next(20_000, 'its port'))
  const contenders: Contender[] = clients.map((name) => {
    const args = name === baseline?.name ? ['wsflow', made.baselineIndex!] : name === 'wsflow' ? ['wsflow', made.current] : [name]
    const driver = name === 'lean' ? new LineProcess('load generator', 'loadgen.ts', [], CLIENT_CORE) : new LineProcess(`${name} client`, 'client-driver.ts', args, CLIENT_CORE)
    processes.push(driver)
    return { name, driver, server, port }
  })
  console.log(`client side: each client against the raw echo server${hasTaskset ? ` (clients on core ${CLIENT_CORE}, server on core ${SERVER_CORE})` : ' (taskset unavailable: not pinned)'}; lean = the load generator (the ceiling); ${process.argv.includes('--no-prewarm') ? 'no pre-warm' : 'each client pre-warmed (4 connections, 1.6 s)'}; ${ROUNDS} rounds of ${MS} ms after ${WARMUP_MS} ms of warm-up`)
  const rows: RowSummary[] = []
  if (!process.argv.includes('--no-prewarm')) {
    // bench/profile-echo.ts --prewarm: about 2 s of small messages over a few connections take the JIT to its steady state.
    const short = (size: number) => (port: number): EchoJob => ({ kind: 'echo', port, connections: 1, size, opcode: 0x2, window: size > 1024 ? 4 : 128, warmupMs: 100, ms: size > 1024 ? 200 : 400 })
    await prewarm(contenders, [short(64), short(64 * KiB)], 2)
  }
  for (const w of WORKLOADS) {
    if (only !== undefined && !w.name.includes(only)) continue
    const job = (p: number): EchoJob => ({ kind: 'echo', port: p, connections: 1, size: w.size, opcode: 0x2, window: w.window, warmupMs: WARMUP_MS, ms: MS })
    rows.push(summarizeRow('client', w.name, w.unit, await runRow(contenders, ROUNDS, job, w.unit)))
  }
  console.log(renderRows(rows, clients, 'wsflow', 'ws', 'lean', baseline?.name))
  console.log('medians of the rounds, ± half their range; MB = 10^6 bytes of echoed payload')
  console.log(cpuLegend('client', 'raw server'))
  console.log(limitCheck(rows, clients, 'S', 'check: the raw server was never the limit (no S): each figure is the client\'s', (cells) => `check: the raw server may be the limit (S) in: ${cells}; those figures are a floor for that client`))
} finally {
  await stopAll(processes)
  builds?.remove()
}
