/**
 * The rounds of the throughput benches (bench/server.ts, bench/client.ts) and their table. A round
 * sends one job to a driver process (bench/driver.ts) and samples the server process's CPU time
 * when the driver marks the start and the end of its measured interval, so each figure comes with
 * both sides' CPU use over the same interval: a driver near 100% of its core would mean the
 * figure is the driver's limit, not the server's. Rounds run interleaved over the contenders (the
 * order reversed every round); each row reports medians, the spread and the ratios.
 *
 * With `BENCH_RESULTS=<file>` in the environment, every row is also appended to that file as a JSON
 * line, for bench/index.ts's summary.
 * @module
 */
import { appendFileSync } from 'node:fs'
import { formatMBps, formatRate, formatSpread, median, renderTable, summarize } from './harness.ts'
import { JOB_SLACK_MS, type Job, type JobResult } from './driver.ts'
import { cpuPercent, type CpuSample, type LineProcess } from './processes.ts'

/** What a row measures: messages (or handshakes) per second, or megabytes of echoed payload per second. */
export type Unit = 'msg/s' | 'MB/s' | 'handshakes/s'

/** One measured round: the rate, and the CPU % of the driver and of the server over the interval. */
export interface RoundResult {
  readonly rate: number
  readonly driverCpu: number
  readonly serverCpu: number
}

/** A contender of a row: who drives the load, against which server. */
export interface Contender {
  readonly name: string
  readonly driver: LineProcess
  readonly server: LineProcess
  readonly port: number
}

async function serverCpu(server: LineProcess): Promise<CpuSample> {
  const answer = server.next(10_000, 'cpu')
  server.send('cpu')
  return JSON.parse(await answer) as CpuSample
}

/** Runs one job through `driver` against `server`; fails if the driver reports an error. */
export async function runRound(driver: LineProcess, server: LineProcess, job: Job, unit: Unit): Promise<RoundResult> {
  const bound = job.warmupMs + job.ms + JOB_SLACK_MS
  const expectEvent = async (event: string): Promise<void> => {
    const line = await driver.next(bound, `the ${event} of a job`)
    if (line !== `{"event":"${event}"}`) throw new Error(`bench: ${driver.name}: ${line}`)
  }
  driver.send(JSON.stringify(job))
  await expectEvent('start')
  const from = await serverCpu(server)
  await expectEvent('stop')
  const to = await serverCpu(server)
  const answer = JSON.parse(await driver.next(bound, 'a job result')) as JobResult & { error?: string }
  if (typeof answer.error === 'string') throw new Error(`bench: ${driver.name}: ${answer.error}`)
  const units = unit === 'MB/s' ? answer.bytes : answer.messages
  return { rate: units / answer.seconds, driverCpu: answer.cpu, serverCpu: cpuPercent(from, to) }
}

/** The rounds of one row, per contender. */
export type RowResults = Record<string, RoundResult[]>

/** Runs `rounds` rounds of a row over the contenders, interleaved, the order reversed every round. */
export async function runRow(contenders: readonly Contender[], rounds: number, job: (port: number) => Job, unit: Unit): Promise<RowResults> {
  const results: RowResults = Object.fromEntries(contenders.map((c) => [c.name, []]))
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? contenders : [...contenders].reverse()
    for (const c of order) results[c.name]!.push(await runRound(c.driver, c.server, job(c.port), unit))
  }
  return results
}

/**
 * Warms up the contenders' processes before the first row, nothing measured: `passes` times each
 * job, over every contender in turn, each on a connection of its own. A fresh server or client
 * otherwise spends its first row in the JIT's warm-up (bench/profile-echo.ts: per-chunk functions
 * such as the socket's read and write paths are optimised seconds after the per-message ones, and
 * the first connections to close deoptimise the frame parser and Node's stream internals once),
 * so that row alone, whichever it is, comes out slower and bimodal.
 */
export async function prewarm(contenders: readonly Contender[], jobs: readonly ((port: number) => Job)[], passes: number): Promise<void> {
  for (let pass = 0; pass < passes; pass++) {
    for (const job of jobs) {
      for (const c of contenders) await runRound(c.driver, c.server, job(c.port), 'msg/s')
    }
  }
}

/** A row as summarised: medians per contender, for the table and the results file. */
export interface RowSummary {
  readonly bench: string
  readonly workload: string
  readonly unit: Unit
  /** Per contender: the median rate, the spread (± % of the median), the median CPU % of driver and server. */
  readonly values: Record<string, { median: number; spread: string; driverCpu: number; serverCpu: number }>
}

/** Summarises a row; appends it to the BENCH_RESULTS file when set. */
export function summarizeRow(bench: string, workload: string, unit: Unit, results: RowResults): RowSummary {
  const values: RowSummary['values'] = {}
  for (const [name, rounds] of Object.entries(results)) {
    const rates = rounds.map((r) => r.rate)
    values[name] = {
      median: median(rates),
      spread: formatSpread(summarize(name, rates)),
      driverCpu: median(rounds.map((r) => r.driverCpu)),
      serverCpu: median(rounds.map((r) => r.serverCpu)),
    }
  }
  const row: RowSummary = { bench, workload, unit, values }
  const file = process.env.BENCH_RESULTS
  if (file !== undefined && file !== '') appendFileSync(file, `${JSON.stringify(row)}\n`)
  return row
}

/** Formats a rate in its unit (MB/s as MB, the others with an SI prefix). */
export function formatValue(value: number, unit: Unit): string {
  return unit === 'MB/s' ? formatMBps(value) : formatRate(value).trim()
}

/** A ratio as `1.23x`, a share of the ceiling as `45%`; `-` when either side is missing. */
export function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined ? '-' : `${(a / b).toFixed(2)}x`
}
export function percent(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined ? '-' : `${((a / b) * 100).toFixed(0)}%`
}

/** A server at this % of its core or more is saturated... */
export const SERVER_BUSY = 90
/** ...and a driver (load generator, client) at this % or more may be. */
export const DRIVER_BUSY = 80

/** What limits a figure, by the CPU use of both sides: `S` the server, `D` the driver (not the server), `-` neither (the window in flight: round trips). */
export function limitOf(driverCpu: number, serverCpu: number): 'S' | 'D' | '-' {
  return serverCpu >= SERVER_BUSY ? 'S' : driverCpu >= DRIVER_BUSY ? 'D' : '-'
}

/** The legend of {@link renderRows}'s CPU columns. */
export function cpuLegend(driver: string, server: string): string {
  return `cpu% = ${driver}/${server}, % of one core over the measured interval (medians); S: the ${server} at ${SERVER_BUSY}% or more (the figure is its limit), D: the ${driver} at ${DRIVER_BUSY}% or more and the ${server} not (the figure is the ${driver}'s limit), -: neither saturated (the messages in flight, i.e. round trips, limit it)`
}

/**
 * The check line after a table: the cells where the side that is not being measured was the one
 * saturated (`marker`), so that their figure is only a floor for the side being measured.
 */
export function limitCheck(rows: readonly RowSummary[], names: readonly string[], marker: 'S' | 'D', none: string, some: (cells: string) => string): string {
  const cells = rows.flatMap((row) => names.filter((n) => limitOf(row.values[n]!.driverCpu, row.values[n]!.serverCpu) === marker).map((n) => `${row.workload} (${n})`))
  return cells.length === 0 ? none : some(cells.join('; '))
}

/**
 * The table of some rows: per contender the median and spread, then `first` against `versus` (ratio),
 * against `baseline` when given (ratio, headed `<first>/base`) and against `ceiling` (%), then the
 * CPU % (driver/server) of each contender and what limits it.
 */
export function renderRows(rows: readonly RowSummary[], names: readonly string[], first: string, versus: string, ceiling: string, baseline?: string): string {
  const header = ['workload', 'unit', ...names, `${first}/${versus}`, ...(baseline === undefined ? [] : [`${first}/base`]), `${first}/${ceiling}`, ...names.map((n) => `cpu% ${n}`)]
  const lines = rows.map((row) => {
    const v = row.values
    return [
      row.workload,
      row.unit,
      ...names.map((n) => (v[n] === undefined ? '-' : `${formatValue(v[n].median, row.unit)} ${v[n].spread}`)),
      ratio(v[first]?.median, v[versus]?.median),
      ...(baseline === undefined ? [] : [ratio(v[first]?.median, v[baseline]?.median)]),
      percent(v[first]?.median, v[ceiling]?.median),
      ...names.map((n) => (v[n] === undefined ? '-' : `${v[n].driverCpu.toFixed(0)}/${v[n].serverCpu.toFixed(0)} ${limitOf(v[n].driverCpu, v[n].serverCpu)}`)),
    ]
  })
  return renderTable([header, ...lines])
}
