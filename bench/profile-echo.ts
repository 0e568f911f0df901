/**
 * Profiles wsflow's echo server on one workload of the server matrix (by default bench/server.ts's
 * first row, "1 conn, 64 B binary, 128 in flight") over several fresh server processes, to see why
 * a figure differs from one process, or one round, to the next. Each run starts a new server
 * (bench/profile-server.ts: the handler of bench/echo-server.ts, pinned to core 1 where `taskset`
 * works) and drives it with the lean load generator (bench/loadgen.ts, core 0) for some rounds, each
 * on a connection of its own as in the matrix. Per round it records the server's CPU time per
 * echoed message (user + system), its scavenges and young generation, the read and write system
 * calls per message on both sides (/proc/<pid>/io), a calibration (a fixed piece of work, timed in
 * the server just before the round: the machine's speed), optionally the same job against a
 * control server right after (`--control=raw`), and a V8 CPU profile of the measured interval only.
 *
 * It prints: the runs by CPU per message, each with its rounds in order; CPU per message by the
 * round's index in its run (the JIT's warm-up); then the self time per message of the functions,
 * two groups side by side, sorted by their difference: the fastest run against the slowest
 * (`--compare=runs`, the default) or the last round of every run against the first
 * (`--compare=rounds`). With `--trace`, each server runs under --trace-opt --trace-deopt, and the
 * optimisations and deoptimisations of the fastest and the slowest run are listed by phase (start-up
 * and warm-up, each round, between rounds).
 *
 * Usage: node --import tsx bench/profile-echo.ts [--runs=8] [--rounds=2] [--ms=1000] [--warmup=300]
 *   [--types=binary|text|binary,text|text,binary (per run, rounds of each type in that order)]
 *   [--alternate (every other run: the types in the reverse order, or the other type)]
 *   [--size=64] [--window=128] [--connections=1] [--trace] [--compare=runs|rounds]
 *   [--interval=250 (sampling, µs)] [--top=18] [--baseline=<git rev> (that revision's src/)]
 *   [--keep (keep the .cpuprofile files and traces; they open in Chrome DevTools)]
 *   [--no-profile (CPU per message only, without the profiler's own cost)]
 *   [--prewarm=N (N connections of 500 ms before the measured rounds, not counted)]
 *   [--control=raw|ws|none (default raw: the same job against that server after each round)]
 *   [--server-flags="--max-semi-space-size=1 ..." (Node/V8 flags for the server processes)]
 * Bounded: each round by its job's bound, each run by its rounds (at most 10 per type), the whole
 * by --runs (at most 20).
 *
 * For example, the JIT's warm-up of a fresh server, averaged over 10 processes:
 *   node --import tsx bench/profile-echo.ts --runs=10 --rounds=3 --ms=500 --warmup=200 \
 *     --types=binary,text --alternate --control=none --no-profile
 * and where its time goes, first rounds against last rounds, with V8's trace:
 *   node --import tsx bench/profile-echo.ts --runs=6 --rounds=5 --ms=300 --warmup=200 \
 *     --control=none --compare=rounds --trace
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { baselineFlag, CURRENT_INDEX, materializeBaseline, type Baseline } from './baseline.ts'
import { JOB_SLACK_MS, type EchoJob, type JobResult } from './driver.ts'
import { median, renderTable } from './harness.ts'
import { runRound } from './matrix.ts'
import { correlation, loadSourceMaps, selfTimes, traceEvents, type LineOf } from './profile-read.ts'
import { ServerChild } from './profile-server.ts'
import { cpuPercent, CLIENT_CORE, hasTaskset, LineProcess, SERVER_CORE, stopAll } from './processes.ts'

// ---------------------------------------------------------------------------------------------
// The runs

function option(name: string, fallback: number): number {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`))
  if (flag === undefined) return fallback
  const value = Number(flag.slice(name.length + 3))
  if (!Number.isFinite(value) || value <= 0) throw new Error(`bench: --${name} needs a positive number`)
  return value
}

/** A process's read and write system calls so far (Linux /proc/<pid>/io), or undefined elsewhere. */
function syscalls(pid: number | undefined): { reads: number; writes: number } | undefined {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8')
    return { reads: Number(/^syscr: (\d+)/m.exec(io)![1]), writes: Number(/^syscw: (\d+)/m.exec(io)![1]) }
  } catch {
    return undefined
  }
}

interface Round {
  run: number
  opcode: number
  round: number
  /** The server's fixed calibration work just before the round, in µs of CPU time (machine speed). */
  calibration: number
  /** The control server's CPU per message in a round of the same job right after, in µs (NaN without one). */
  controlUs: number
  rate: number
  serverCpu: number
  driverCpu: number
  /** Server CPU time per echoed message, in µs. */
  usPerMessage: number
  messages: number
  /** Collections over the interval: scavenges per 1,000 messages, GC pause per message (µs), major GCs; the new space's size at the end (bytes). */
  gc: { minorPer1k: number; usPerMessage: number; major: number; newSpace: number }
  /** Messages per read and per write system call, server and load generator (NaN without /proc). */
  perRead: number
  perWrite: number
  loadgenPerRead: number
  loadgenPerWrite: number
  profile: string
}

async function main(): Promise<void> {
  const RUNS = Math.min(option('runs', 8), 20)
  const ROUNDS = Math.min(option('rounds', 2), 10)
  const MS = Math.min(option('ms', 1000), 5000)
  const WARMUP_MS = Math.min(option('warmup', 300), 5000)
  const INTERVAL = option('interval', 250)
  const TOP = option('top', 18)
  const PREWARM = Math.min(process.argv.some((a) => a.startsWith('--prewarm=')) ? option('prewarm', 1) : 0, 10)
  // --types=binary,text: each run echoes binary for its rounds, then text (in the same process);
  // --alternate: every other run takes the types in the reverse order, or (one type) the other type.
  const typeName = (op: number): string => (op === 0x1 ? 'text' : 'binary')
  const types = (process.argv.find((a) => a.startsWith('--types='))?.slice('--types='.length) ?? (process.argv.includes('--text') ? 'text' : 'binary')).split(',')
  const sequence = types.map((t) => (t === 'text' ? 0x1 : t === 'binary' ? 0x2 : NaN))
  if (sequence.some(Number.isNaN) || sequence.length > 2) throw new Error('bench: --types is binary, text, binary,text or text,binary')
  const opcode = sequence[0]!
  const alternate = process.argv.includes('--alternate')
  const sequenceOf = (run: number): number[] => (!alternate || run % 2 === 0 ? sequence : sequence.length === 1 ? [opcode ^ 0x3] : [...sequence].reverse())
  const opcodes = [...new Set([...sequenceOf(0), ...sequenceOf(1)])]
  const size = option('size', 64)
  const window = option('window', 128)
  const connections = option('connections', 1)
  const trace = process.argv.includes('--trace')
  const keep = process.argv.includes('--keep')
  const profiling = !process.argv.includes('--no-profile')
  // --control=raw|ws|none: after each round, the same job against that server (bench/echo-server.ts,
  // one process for the whole run): wsflow's CPU per message over the control's, from rounds a
  // second apart, cancels most of what the machine does to both.
  const control = process.argv.find((a) => a.startsWith('--control='))?.slice('--control='.length) ?? 'raw'
  if (!['raw', 'ws', 'none'].includes(control)) throw new Error('bench: --control is raw, ws or none')
  const serverFlags = process.argv.find((a) => a.startsWith('--server-flags='))?.slice('--server-flags='.length).split(' ').filter(Boolean) ?? []
  const rev = baselineFlag()

  const dir = mkdtempSync(join(tmpdir(), 'wsflow-profile-'))
  const processes: (LineProcess | ServerChild)[] = []
  let baseline: Baseline | undefined
  try {
    baseline = rev === undefined ? undefined : materializeBaseline(rev)
    const module = baseline?.index ?? CURRENT_INDEX
    const what = `${connections} conn, ${size} B ${sequenceOf(0).map(typeName).join(' then ')}${alternate ? ` (every other run ${sequenceOf(1).map(typeName).join(' then ')})` : ''}, ${window} in flight`
    console.log(`profile of the wsflow echo server (${baseline === undefined ? 'the working tree' : baseline.name}), ${what}: ${RUNS} fresh server processes x ${ROUNDS} rounds of ${MS} ms after ${WARMUP_MS} ms of warm-up, ${profiling ? `profiles sampled every ${INTERVAL} µs` : 'no profiler'}${serverFlags.length > 0 ? `, server flags ${serverFlags.join(' ')}` : ''}${trace ? ', under --trace-opt --trace-deopt' : ''}${hasTaskset ? ` (server on core ${SERVER_CORE}, load generator on core ${CLIENT_CORE})` : ''}`)
    const loadgen = new LineProcess('load generator', 'loadgen.ts', [], CLIENT_CORE)
    processes.push(loadgen)
    const controlServer = control === 'none' ? undefined : new LineProcess(`${control} server`, 'echo-server.ts', [control], SERVER_CORE)
    if (controlServer !== undefined) processes.push(controlServer)
    const controlPort = controlServer === undefined ? 0 : Number(await controlServer.next(20_000, 'its port'))
    const rounds: Round[] = []
    for (let run = 0; run < RUNS; run++) {
      const server = new ServerChild(module, trace ? join(dir, `run-${run}.trace`) : undefined, serverFlags)
      processes.push(server)
      const port = (await server.next(30_000, 'its port')).port as number
      // --prewarm=N: N connections of the run's first type, 500 ms each, not measured (the JIT's warm-up).
      for (let w = 0; w < PREWARM; w++) {
        loadgen.send(JSON.stringify({ kind: 'echo', port, connections, size, opcode: sequenceOf(run)[0]!, window, warmupMs: 100, ms: 400 } satisfies EchoJob))
        const lines = [await loadgen.next(JOB_SLACK_MS, 'a warm-up start'), await loadgen.next(JOB_SLACK_MS, 'a warm-up stop'), await loadgen.next(JOB_SLACK_MS, 'a warm-up result')]
        if (lines[0] !== '{"event":"start"}' || lines[1] !== '{"event":"stop"}' || lines[2]!.includes('"error"')) throw new Error(`bench: warm-up: ${lines.join(' ')}`)
      }
      for (let r = 0; r < ROUNDS * sequenceOf(run).length; r++) {
        const op = sequenceOf(run)[Math.floor(r / ROUNDS)]!
        const job: EchoJob = { kind: 'echo', port, connections, size, opcode: op, window, warmupMs: WARMUP_MS, ms: MS }
        const bound = job.warmupMs + job.ms + JOB_SLACK_MS
        const expect = async (event: string): Promise<void> => {
          const line = await loadgen.next(bound, `the ${event} of a job`)
          if (line !== `{"event":"${event}"}`) throw new Error(`bench: load generator: ${line}`)
        }
        const calibration = (await server.request({ cmd: 'calibrate' })).calibration as number
        loadgen.send(JSON.stringify(job))
        await expect('start')
        const profile = join(dir, `run-${run}-round-${r}.cpuprofile`)
        const from = await server.command({ ...(profiling ? { cmd: 'profile-start', interval: INTERVAL } as const : { cmd: 'cpu' } as const), mark: `round ${r} start` })
        const io = [syscalls(server.child.pid), syscalls(loadgen.child.pid)]
        await expect('stop')
        const io2 = [syscalls(server.child.pid), syscalls(loadgen.child.pid)]
        const to = await server.command({ ...(profiling ? { cmd: 'profile-stop', file: profile } as const : { cmd: 'cpu' } as const), mark: `round ${r} stop` }, 30_000)
        const result = JSON.parse(await loadgen.next(bound, 'a job result')) as JobResult & { error?: string }
        if (typeof result.error === 'string') throw new Error(`bench: load generator: ${result.error}`)
        const serverCpu = cpuPercent(from.cpu, to.cpu)
        const rate = result.messages / result.seconds
        // µs of server CPU (user + system) per message.
        const usPerMessage = (to.cpu.cpu - from.cpu.cpu) / result.messages
        const minorGcs = to.gc.minor - from.gc.minor
        const gc = { minorPer1k: (minorGcs / result.messages) * 1000, usPerMessage: ((to.gc.ms - from.gc.ms) * 1000) / result.messages, major: to.gc.major - from.gc.major, newSpace: to.newSpace }
        let controlUs = NaN
        if (controlServer !== undefined) {
          const c = await runRound(loadgen, controlServer, { ...job, port: controlPort, warmupMs: 100 }, 'msg/s')
          controlUs = (c.serverCpu / 100 / c.rate) * 1e6
        }
        const per = (i: number, key: 'reads' | 'writes'): number => result.messages / ((io2[i]?.[key] ?? NaN) - (io[i]?.[key] ?? NaN))
        rounds.push({ run, opcode: op, round: r, calibration, controlUs, rate, serverCpu, driverCpu: result.cpu, usPerMessage, messages: result.messages, gc, perRead: per(0, 'reads'), perWrite: per(0, 'writes'), loadgenPerRead: per(1, 'reads'), loadgenPerWrite: per(1, 'writes'), profile })
        console.log(`run ${run} (${typeName(op)}) round ${r}: calibration ${(calibration / 1000).toFixed(2)} ms, ${(rate / 1000).toFixed(0)} k msg/s, server ${serverCpu.toFixed(0)}% of a core, ${usPerMessage.toFixed(2)} µs CPU/msg (${control}: ${controlUs.toFixed(2)}), new space ${(gc.newSpace / 2 ** 20).toFixed(0)} MiB, ${gc.minorPer1k.toFixed(2)} scavenges/1k msg (${(gc.usPerMessage * 1000).toFixed(0)} ns/msg), ${gc.major} major, ${per(0, 'reads').toFixed(1)} msg/read, ${per(0, 'writes').toFixed(1)} msg/write; load generator ${result.cpu.toFixed(0)}%, ${per(1, 'reads').toFixed(1)} msg/read, ${per(1, 'writes').toFixed(1)} msg/write`)
      }
      await server.command({ cmd: 'source-maps', file: join(dir, `run-${run}.maps.json`) }, 30_000)
      await server.stop()
    }

    // The runs, by CPU per message (the median of each run's rounds).
    // A run's rounds of one type (a run of --types=binary,text counts twice), with their place in the run.
    const perRun = Array.from({ length: RUNS }, (_, run) => sequenceOf(run).map((op, place) => {
      const own = rounds.filter((r) => r.run === run && r.opcode === op)
      return { run, opcode: op, place, rounds: own, us: median(own.map((r) => r.usPerMessage)) }
    })).flat().sort((a, b) => a.opcode - b.opcode || a.us - b.us)
    console.log('')
    console.log('runs by type, then by server CPU per message (the median of its rounds, fastest first); each cell lists the rounds of the run in order')
    console.log(renderTable([
      ['run', 'type', ...(sequence.length > 1 ? ['place'] : []), 'µs CPU/msg (rounds)', `${control} µs/msg`, `wsflow/${control}`, 'calibration ms', 'new space MiB', 'scavenges/1k msg', 'GC ns/msg', 'k msg/s', 'server cpu%', 'msg/read', 'msg/write', 'load gen cpu%', 'msg/read', 'msg/write'],
      ...perRun.map((p) => [
        String(p.run),
        typeName(p.opcode),
        ...(sequence.length > 1 ? [p.place === 0 ? 'first' : 'second'] : []),
        p.rounds.map((r) => r.usPerMessage.toFixed(2)).join(' '),
        p.rounds.map((r) => r.controlUs.toFixed(2)).join(' '),
        p.rounds.map((r) => (r.usPerMessage / r.controlUs).toFixed(2)).join(' '),
        p.rounds.map((r) => (r.calibration / 1000).toFixed(2)).join(' '),
        p.rounds.map((r) => (r.gc.newSpace / 2 ** 20).toFixed(0)).join(' '),
        p.rounds.map((r) => r.gc.minorPer1k.toFixed(2)).join(' '),
        p.rounds.map((r) => (r.gc.usPerMessage * 1000).toFixed(0)).join(' '),
        p.rounds.map((r) => (r.rate / 1000).toFixed(0)).join(' '),
        p.rounds.map((r) => r.serverCpu.toFixed(0)).join(' '),
        p.rounds.map((r) => r.perRead.toFixed(1)).join(' '),
        p.rounds.map((r) => r.perWrite.toFixed(1)).join(' '),
        p.rounds.map((r) => r.driverCpu.toFixed(0)).join(' '),
        p.rounds.map((r) => r.loadgenPerRead.toFixed(1)).join(' '),
        p.rounds.map((r) => r.loadgenPerWrite.toFixed(1)).join(' '),
      ]),
    ]))

    for (const op of opcodes) {
      const us = perRun.filter((p) => p.opcode === op).map((p) => p.us)
      const own = rounds.filter((r) => r.opcode === op)
      const ratios = own.map((r) => r.usPerMessage / r.controlUs).sort((a, b) => a - b)
      console.log(`${typeName(op)}: µs CPU/msg per run (medians of its rounds), sorted: ${us.map((u) => u.toFixed(2)).join(' ')}; over its rounds, correlation with the calibration time ${correlation(own.map((r) => r.usPerMessage), own.map((r) => r.calibration)).toFixed(2)}${control === 'none' ? '' : `, with the ${control} control ${correlation(own.map((r) => r.usPerMessage), own.map((r) => r.controlUs)).toFixed(2)}; wsflow/${control} per round, sorted: ${ratios.map((x) => x.toFixed(2)).join(' ')}`}`)
    }

    // The JIT's warm-up, averaged over the runs: CPU per message by the round's index in its run.
    console.log('')
    console.log('µs CPU/msg by round index (median over the runs; a round is one connection, opened after the previous one closed)')
    const places = sequence.length > 1 ? [0, 1] : [0]
    console.log(renderTable([
      ['type', 'place', ...Array.from({ length: ROUNDS }, (_, k) => `round ${k}`)],
      ...opcodes.flatMap((op) => places.map((place) => {
        const own = perRun.filter((p) => p.opcode === op && p.place === place)
        return [typeName(op), sequence.length > 1 ? (place === 0 ? 'first' : 'second') : '-', ...Array.from({ length: ROUNDS }, (_, k) => {
          const values = own.map((p) => p.rounds[k]?.usPerMessage).filter((v): v is number => v !== undefined)
          return values.length === 0 ? '-' : `${median(values).toFixed(2)} (${values.length})`
        })]
      })),
    ]))

    if (!profiling) return
    // Self time per message, fastest run against slowest run of the first type (each: the sum over its rounds).
    const primary = perRun.filter((p) => p.opcode === opcode)
    const fast = primary[0]!
    const slow = primary[primary.length - 1]!
    // --compare=runs: the fastest run's rounds against the slowest run's; --compare=rounds: the last
    // round of every run against the first round of every run (the JIT's warm-up, machine noise averaged).
    const byRounds = process.argv.includes('--compare=rounds')
    const ofType = rounds.filter((r) => r.opcode === opcode)
    const lastRound = Math.max(...ofType.map((r) => r.round))
    const firstRound = Math.min(...ofType.map((r) => r.round))
    const groupA = byRounds ? ofType.filter((r) => r.round === lastRound) : fast.rounds
    const groupB = byRounds ? ofType.filter((r) => r.round === firstRound) : slow.rounds
    const labelA = byRounds ? `round ${lastRound}` : `run ${fast.run}`
    const labelB = byRounds ? `round ${firstRound}` : `run ${slow.run}`
    const usOf = (group: readonly Round[]): number => group.reduce((sum, r) => sum + r.usPerMessage * r.messages, 0) / group.reduce((sum, r) => sum + r.messages, 0)
    const mapsOf = new Map<number, Map<string, LineOf>>()
    const perMessage = (group: readonly Round[]): Map<string, number> => {
      const sum = new Map<string, number>()
      let messages = 0
      for (const round of group) {
        let maps = mapsOf.get(round.run)
        if (maps === undefined) mapsOf.set(round.run, (maps = loadSourceMaps(join(dir, `run-${round.run}.maps.json`))))
        messages += round.messages
        for (const [name, us] of selfTimes(round.profile, maps)) sum.set(name, (sum.get(name) ?? 0) + us)
      }
      for (const [name, us] of sum) sum.set(name, us / messages)
      return sum
    }
    const a = perMessage(groupA)
    const b = perMessage(groupB)
    const total = (m: Map<string, number>): number => [...m].filter(([name]) => name !== '(idle)').reduce((s, [, us]) => s + us, 0)
    const names = [...new Set([...a.keys(), ...b.keys()])].filter((n) => n !== '(idle)')
    names.sort((x, y) => Math.abs((b.get(y) ?? 0) - (a.get(y) ?? 0)) - Math.abs((b.get(x) ?? 0) - (a.get(x) ?? 0)))
    console.log('')
    const compared = byRounds ? `the last round of each run (${labelA}, ${usOf(groupA).toFixed(2)} µs CPU/msg) against the first (${labelB}, ${usOf(groupB).toFixed(2)})` : `fastest run ${fast.run} (${usOf(groupA).toFixed(2)} µs CPU/msg) against slowest run ${slow.run} (${usOf(groupB).toFixed(2)})`
    console.log(`self time per message (ns) of ${typeName(opcode)} echoes, ${compared}; sampled on the main thread: ${(total(a) * 1000).toFixed(0)} and ${(total(b) * 1000).toFixed(0)} ns/msg; by difference`)
    const ns = (us: number | undefined): string => (us === undefined ? '-' : (us * 1000).toFixed(0))
    console.log(renderTable([
      ['function', labelA, labelB, `${labelB} - ${labelA}`],
      ...names.slice(0, TOP).map((n) => [n.slice(0, 90), ns(a.get(n)), ns(b.get(n)), ns((b.get(n) ?? 0) - (a.get(n) ?? 0))]),
    ]))
    console.log('')
    console.log(`top self time per message (ns) in ${labelB}`)
    const topSlow = [...b].filter(([n]) => n !== '(idle)').sort((x, y) => y[1] - x[1]).slice(0, TOP)
    console.log(renderTable([['function', labelB, labelA], ...topSlow.map(([n, us]) => [n.slice(0, 90), ns(us), ns(a.get(n))])]))

    if (trace) {
      for (const [label, run] of [['fastest', fast], ['slowest', slow]] as const) {
        const events = traceEvents(join(dir, `run-${run.run}.trace`))
        const phases = [...new Set(events.map((e) => e.phase))]
        console.log('')
        console.log(`V8 trace of the ${label} run ${run.run}: per phase, functions optimised / deoptimised: ${phases.map((p) => `${p} ${events.filter((e) => e.phase === p && e.kind === 'optimized').length}/${events.filter((e) => e.phase === p && e.kind === 'deopt').length}`).join(', ')}`)
        // The calibration is the bench's own code: its deopts are left out.
        const late = events.filter((e) => e.phase !== 'start-up and warm-up' && e.name !== 'calibrate')
        const counted = new Map<string, number>()
        for (const e of late) counted.set(`${e.phase}: ${e.kind} ${e.name}${e.reason === '' ? '' : `: ${e.reason}`}`, (counted.get(`${e.phase}: ${e.kind} ${e.name}${e.reason === '' ? '' : `: ${e.reason}`}`) ?? 0) + 1)
        for (const [event, count] of [...counted].slice(0, 3 * TOP)) console.log(`  ${event}${count > 1 ? ` (x${count})` : ''}`)
        const warm = new Map<string, number>()
        for (const e of events.filter((e) => e.phase === 'start-up and warm-up' && e.kind === 'deopt')) warm.set(`${e.name}: ${e.reason}`, (warm.get(`${e.name}: ${e.reason}`) ?? 0) + 1)
        console.log(`  deopts in start-up and warm-up: ${[...warm].map(([k, c]) => `${k}${c > 1 ? ` x${c}` : ''}`).join('; ')}`)
      }
    }
    if (keep) console.log(`\nprofiles${trace ? ' and traces' : ''} kept in ${dir}`)
  } finally {
    await stopAll(processes.filter((p): p is LineProcess => p instanceof LineProcess))
    await Promise.allSettled(processes.filter((p): p is ServerChild => p instanceof ServerChild).map((p) => p.stop()))
    baseline?.remove()
    if (!keep) rmSync(dir, { recursive: true, force: true })
  }
}

await main()
