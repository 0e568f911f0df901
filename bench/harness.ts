/**
 * A small measuring harness for the benches: warm-up, then interleaved rounds of bounded work, the
 * median and the spread of each side's rate, and a plain-text table.
 *
 * Every loop here is bounded twice, by a count and by a time (milliseconds), so a slow machine
 * makes a round shorter, never a run longer than planned.
 * @module
 */

/** One contender in a comparison: `pass()` does a fixed piece of work and returns how many units it did. */
export interface Side {
  /** Short name, for messages. */
  readonly name: string
  /** Called once before each round (outside the timed region), e.g. to build a fresh decoder. */
  readonly prepare?: () => void
  /** Does one pass over the input; returns the units done (frames, bytes). Throws if the work was not all done. */
  readonly pass: () => number
}

/** How much to measure. Times in milliseconds. */
export interface MeasureOptions {
  /** Rounds per side, run interleaved (A B, B A, A B, ...). */
  readonly rounds: number
  /** Warm-up per side before the first round, in milliseconds (also bounded by `maxPasses`). */
  readonly warmupMs: number
  /** A round stops after this many milliseconds... */
  readonly maxMs: number
  /** ...or after this many passes, whichever comes first. */
  readonly maxPasses: number
}

/** The rates (units per second) of one side's rounds, with their summary. */
export interface Rates {
  readonly name: string
  readonly rates: readonly number[]
  readonly median: number
  readonly min: number
  readonly max: number
}

function now(): number {
  return performance.now()
}

/** Runs `side` for one round; returns its rate in units per second. */
function round(side: Side, maxMs: number, maxPasses: number): number {
  side.prepare?.()
  let units = 0
  let passes = 0
  const start = now()
  let elapsed = 0
  do {
    units += side.pass()
    passes++
    elapsed = now() - start
  } while (passes < maxPasses && elapsed < maxMs)
  return units / (elapsed / 1000)
}

/** The median of some values. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Measures the sides against each other: each is warmed up, then the rounds run interleaved, the
 * order flipping every round so that neither side always runs first (the machine is shared and
 * noisy; interleaving spreads its noise over both sides).
 */
export function measure(sides: readonly Side[], options: MeasureOptions): Rates[] {
  for (const side of sides) round(side, options.warmupMs, options.maxPasses)
  const rates: number[][] = sides.map(() => [])
  for (let r = 0; r < options.rounds; r++) {
    for (let k = 0; k < sides.length; k++) {
      const index = r % 2 === 0 ? k : sides.length - 1 - k
      rates[index]!.push(round(sides[index]!, options.maxMs, options.maxPasses))
    }
  }
  return sides.map((side, i) => {
    const values = rates[i]!
    return { name: side.name, rates: values, median: median(values), min: Math.min(...values), max: Math.max(...values) }
  })
}

/** Formats a rate with an SI prefix: `12.3 M`, `845 k`, `1.52 G`. */
export function formatRate(value: number): string {
  const units: [number, string][] = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ]
  for (const [scale, prefix] of units) {
    if (value >= scale) return `${formatNumber(value / scale)} ${prefix}`
  }
  return `${formatNumber(value)}  `
}

function formatNumber(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)
}

/** Summarises the rates of some rounds measured outside {@link measure}. */
export function summarize(name: string, rates: readonly number[]): Rates {
  return { name, rates, median: median(rates), min: Math.min(...rates), max: Math.max(...rates) }
}

/** The spread of a side's rounds: half the min-max range, as a percentage of the median. */
export function formatSpread(rates: Rates): string {
  const half = ((rates.max - rates.min) / 2 / rates.median) * 100
  return `±${half < 10 ? half.toFixed(1) : half.toFixed(0)}%`
}

/** Formats a rate (bytes per second) as megabytes (10^6 bytes) per second. */
export function formatMBps(value: number): string {
  const mb = value / 1e6
  return mb >= 100 ? mb.toFixed(0) : mb >= 10 ? mb.toFixed(1) : mb.toFixed(2)
}

/** Renders rows of cells as a plain table: first column left-aligned, the others right-aligned. */
export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows
    .map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ').trimEnd())
    .join('\n')
}

/** Throws when a side did not do the work it was given (so that a fast but idle side cannot win). */
export function assertCount(side: string, got: number, expected: number): void {
  if (got !== expected) throw new Error(`bench: ${side} delivered ${got} messages, expected ${expected}; aborting`)
}

/** Reads the command line: `--quick` for fewer, shorter rounds. */
export function isQuick(argv: readonly string[] = process.argv): boolean {
  return argv.includes('--quick')
}

/** Whether the native `bufferutil` addon is installed (ws uses it for masking when present). */
export async function hasBufferutil(): Promise<boolean> {
  const name = 'bufferutil' // a variable, so that the type checker does not look for the module
  if (process.env.WS_NO_BUFFER_UTIL) return false // ws then ignores the addon
  try {
    await import(name)
    return true
  } catch {
    return false
  }
}
