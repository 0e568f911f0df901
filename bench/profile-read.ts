/**
 * What bench/profile-echo.ts reads back: V8 CPU profiles (.cpuprofile JSON) summed into self time
 * per function, with positions mapped to source lines through the inline source maps tsx emits
 * (Source Map v3, base64 VLQ); V8's --trace-opt / --trace-deopt lines, placed in the phases of a run
 * by the marks the bench wrote between them; and a correlation coefficient.
 * @module
 */
import { readFileSync } from 'node:fs'
import { MARK } from './profile-server.ts'

// ---------------------------------------------------------------------------------------------
// .cpuprofile files: self time per function

/** A node of a .cpuprofile's call tree. */
interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Maps a generated position (0-based line and column) to its source line (1-based). */
export type LineOf = (line: number, column: number) => number | undefined

/** Decodes a source map's mappings (base64 VLQ, Source Map v3) into a {@link LineOf}. */
function decodeSourceMap(map: { mappings: string }): LineOf {
  const lines: { column: number; sourceLine: number }[][] = []
  let sourceLine = 0
  for (const text of map.mappings.split(';')) {
    const segments: { column: number; sourceLine: number }[] = []
    let column = 0
    for (const segment of text.split(',')) {
      if (segment === '') continue
      const fields: number[] = []
      let value = 0
      let shift = 0
      for (const char of segment) {
        const digit = BASE64.indexOf(char)
        value += (digit & 31) << shift
        if ((digit & 32) !== 0) shift += 5
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1)
          value = shift = 0
        }
      }
      column += fields[0]!
      if (fields.length >= 4) {
        sourceLine += fields[2]!
        segments.push({ column, sourceLine })
      }
    }
    lines.push(segments)
  }
  return (line, column) => {
    const segments = lines[line] ?? []
    let found: number | undefined
    for (const s of segments) {
      if (s.column > column) break
      found = s.sourceLine + 1
    }
    return found
  }
}

/** The source maps a server reported (see `source-maps`), by script URL. */
export function loadSourceMaps(file: string): Map<string, LineOf> {
  const maps = new Map<string, LineOf>()
  for (const [url, dataUrl] of Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>)) {
    const comma = dataUrl.indexOf(',')
    const body = dataUrl.slice(comma + 1)
    const json = dataUrl.slice(0, comma).endsWith(';base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body)
    maps.set(url, decodeSourceMap(JSON.parse(json) as { mappings: string }))
  }
  return maps
}

/** The place of a function, short: `name file:line` (paths relative to src/ or bench/; source lines where a map is known). */
function frameName(frame: ProfileNode['callFrame'], maps: Map<string, LineOf>): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName
  if (frame.url === '') return name
  const path = frame.url.replace(/^file:\/\//, '').replace(/^.*?\/(src|bench|node_modules)\//, '$1/')
  const lineOf = maps.get(frame.url)
  const line = lineOf === undefined ? frame.lineNumber + 1 : (lineOf(frame.lineNumber, frame.columnNumber) ?? `?${frame.columnNumber}`)
  return `${name} ${path}:${line}`
}

/** Self time per function in a profile, in µs (each sample counts the time until the next). */
export function selfTimes(file: string, maps: Map<string, LineOf>): Map<string, number> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const names = new Map(profile.nodes.map((node) => [node.id, frameName(node.callFrame, maps)]))
  const times = new Map<string, number>()
  const { samples, timeDeltas } = profile
  for (let i = 0; i < samples.length; i++) {
    const name = names.get(samples[i]!)!
    const delta = timeDeltas[i + 1] ?? timeDeltas[i] ?? 0
    times.set(name, (times.get(name) ?? 0) + delta)
  }
  return times
}

// ---------------------------------------------------------------------------------------------
// --trace-opt / --trace-deopt output, placed in time by the marks the bench wrote into it

/** One line of V8's trace: a function optimised (TurboFan done) or deoptimised (with the reason), in a phase of the run. */
export interface TraceEvent {
  /** `start-up and warm-up` (before the first round), `round <k>`, or `after round <k>`. */
  readonly phase: string
  readonly kind: 'optimized' | 'deopt'
  readonly name: string
  readonly reason: string
}

/** The optimisations and deoptimisations in a trace, each with its phase. */
export function traceEvents(file: string): TraceEvent[] {
  const events: TraceEvent[] = []
  let phase = 'start-up and warm-up'
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith(MARK)) {
      const [, round, edge] = /^### round (\d+) (start|stop)/.exec(line) ?? []
      if (round !== undefined) phase = edge === 'start' ? `round ${round}` : `after round ${round}`
      continue
    }
    // [bailout (kind: deopt-eager, reason: wrong map): begin. deoptimizing 0x... <JSFunction name (sfi = ...)>, ...
    const bailout = /\[bailout \(kind: ([^,]+), reason: ([^)]*)\): begin\. deoptimizing 0x[0-9a-f]+ <JSFunction ([^ >]*)/.exec(line)
    if (bailout !== null) events.push({ phase, kind: 'deopt', name: bailout[3] || '(anonymous)', reason: `${bailout[2]} (${bailout[1]})` })
    const done = /^\[completed optimizing 0x[0-9a-f]+ <JSFunction ([^ >]*)/.exec(line)
    if (done !== null) events.push({ phase, kind: 'optimized', name: done[1] || '(anonymous)', reason: '' })
  }
  return events
}

/** Pearson's correlation coefficient of two series. */
export function correlation(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length
  const mx = xs.reduce((s, x) => s + x, 0) / n
  const my = ys.reduce((s, y) => s + y, 0) / n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my)
    sxx += (xs[i]! - mx) ** 2
    syy += (ys[i]! - my) ** 2
  }
  return sxy / Math.sqrt(sxx * syy)
}
