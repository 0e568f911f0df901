/**
 * The server-side matrix: the lean load generator (bench/loadgen.ts, on core 0) against wsflow's,
 * ws's and the raw ceiling's echo servers (bench/echo-server.ts, each in its own process on core
 * 1), where `taskset` works. Workloads (all binary but one, one masking key per run):
 *
 * - 1 connection, 64 B binary, then 64 B text, 128 messages in flight (msg/s);
 * - 64 and 256 connections, 64 B binary, 16 in flight on each (msg/s);
 * - 1 connection, 64 KiB (4 in flight), 1 MiB and 16 MiB (2 in flight) binary (MB/s of echoed payload);
 * - handshakes per second: 16 loops of connect, upgrade, 101, close frame, server's close, end.
 *
 * Rounds interleave the servers; each row gives the median and spread of the rounds, wsflow/ws and
 * wsflow/raw, and the CPU use of load generator and server over the measured interval.
 *
 * Before the first row, every server is warmed up (matrix.ts `prewarm`: twice 500 ms of 64 B
 * binary and of 64 B text, and 300 ms of 64 KiB binary echo, on a connection each, nothing measured), so that the
 * first row is not measured during the JIT's warm-up; `--no-prewarm` skips it.
 *
 * With `--baseline=<git rev>`, that revision's wsflow (bench/baseline.ts) runs as one more server,
 * `wsflow@<short sha>`, in the same rounds, and the table gains a wsflow/base column.
 *
 * Usage: node --import tsx bench/server.ts [--quick] [--only=<part of a workload's name>] [--baseline=<git rev>] [--no-prewarm]
 *   [--source (wsflow's src/ through tsx; by default each wsflow build is compiled by tsc, as users run it)]
 * @module
 */
import { wsflowBuilds, type WsflowBuilds } from './baseline.ts'
import { type EchoJob, type HandshakeJob } from './driver.ts'
import { isQuick } from './harness.ts'
import { cpuLegend, limitCheck, prewarm, renderRows, runRow, summarizeRow, type Contender, type RowSummary, type Unit } from './matrix.ts'
import { CLIENT_CORE, hasTaskset, LineProcess, SERVER_CORE, stopAll } from './processes.ts'

const quick = isQuick()
const ROUNDS = quick ? 3 : 5
const MS = quick ? 500 : 2000
const WARMUP_MS = quick ? 200 : 500
const HANDSHAKE_MS = quick ? 500 : 1500 // short: each handshake takes an ephemeral port
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length)

interface Workload {
  readonly name: string
  readonly unit: Unit
  readonly job: (port: number) => EchoJob | HandshakeJob
}

const KiB = 1024
const echo = (name: string, connections: number, size: number, window: number, opcode = 0x2, unit: Unit = 'msg/s'): Workload => ({
  name,
  unit,
  job: (port) => ({ kind: 'echo', port, connections, size, opcode, window, warmupMs: WARMUP_MS, ms: MS }),
})

/** The workloads of the server-side matrix, in table order. */
export const WORKLOADS: readonly Workload[] = [
  echo('1 conn, 64 B binary, 128 in flight', 1, 64, 128),
  echo('1 conn, 64 B text, 128 in flight', 1, 64, 128, 0x1),
  echo('64 conns, 64 B binary, 16 in flight each', 64, 64, 16),
  echo('256 conns, 64 B binary, 16 in flight each', 256, 64, 16),
  echo('1 conn, 64 KiB binary, 4 in flight', 1, 64 * KiB, 4, 0x2, 'MB/s'),
  echo('1 conn, 1 MiB binary, 2 in flight', 1, 1024 * KiB, 2, 0x2, 'MB/s'),
  echo('1 conn, 16 MiB binary, 2 in flight', 1, 16 * 1024 * KiB, 2, 0x2, 'MB/s'),
  {
    name: 'handshakes, 16 loops',
    unit: 'handshakes/s',
    job: (port) => ({ kind: 'handshakes', port, loops: 16, max: 50_000, warmupMs: WARMUP_MS, ms: HANDSHAKE_MS }),
  },
]

const processes: LineProcess[] = []
let builds: WsflowBuilds | undefined
try {
  const made = (builds = wsflowBuilds())
  const baseline = made.baseline
  const servers = ['wsflow', ...(baseline === undefined ? [] : [baseline.name]), 'ws', 'raw']
  console.log(made.description)
  const loadgen = new LineProcess('load generator', 'loadgen.ts', [], CLIENT_CORE)
  processes.push(loadgen)
  const contenders: Contender[] = []
  for (const name of servers) {
    const args = name === baseline?.name ? ['wsflow', made.baselineIndex!] : name === 'wsflow' ? ['wsflow', made.current] : [name]
    const server = new LineProcess(`${name} server`, 'echo-server.ts', args, SERVER_CORE)
    processes.push(server)
    contenders.push({ name, driver: loadgen, server, port: Number(await server.next(20_000, 'its port')) })
  }
  console.log(`server side: the lean load generator against each server${hasTaskset ? ` (load generator on core ${CLIENT_CORE}, servers on core ${SERVER_CORE})` : ' (taskset unavailable: not pinned)'}; ${process.argv.includes('--no-prewarm') ? 'no pre-warm' : 'each server pre-warmed (6 connections, 2.6 s)'}; ${ROUNDS} rounds of ${MS} ms (handshakes ${HANDSHAKE_MS} ms) after ${WARMUP_MS} ms of warm-up`)
  const rows: RowSummary[] = []
  if (!process.argv.includes('--no-prewarm')) {
    // bench/profile-echo.ts --prewarm: about 2 s of small messages over a few connections take the JIT to its steady state.
    const short = (connections: number, size: number, opcode: number) => (port: number): EchoJob => ({ kind: 'echo', port, connections, size, opcode, window: size > 1024 ? 4 : 128, warmupMs: 100, ms: size > 1024 ? 200 : 400 })
    await prewarm(contenders, [short(1, 64, 0x2), short(1, 64, 0x1), short(1, 64 * KiB, 0x2)], 2)
  }
  for (const workload of WORKLOADS) {
    if (only !== undefined && !workload.name.includes(only)) continue
    rows.push(summarizeRow('server', workload.name, workload.unit, await runRow(contenders, ROUNDS, workload.job, workload.unit)))
  }
  console.log(renderRows(rows, servers, 'wsflow', 'ws', 'raw', baseline?.name))
  console.log('medians of the rounds, ± half their range; MB = 10^6 bytes of echoed payload')
  console.log(cpuLegend('load generator', 'server'))
  console.log(limitCheck(rows, servers, 'D', 'check: the load generator was never the limit (no D)', (cells) => `check: the load generator may be the limit (D) in: ${cells}; those figures are a floor for that server`))
} finally {
  await stopAll(processes)
  builds?.remove()
}
