/**
 * Frame decoding and unmasking: wsflow's FrameDecoder + MessageAssembler against ws's own Receiver,
 * and wsflow's `mask` against ws's `unmask` and a naive byte loop, in the same run.
 *
 * Both decoders get the same pre-built chunks of masked binary frames (as a client sends them) and
 * do the same work: parse each header, check it, unmask the payload, and hand out one whole binary
 * message per frame. ws is fed through `receiver.write(chunk)`, as ws's own socket 'data' handler
 * does. Each pass over the input must deliver exactly one message per frame on both sides, or the
 * bench aborts.
 *
 * Inputs are re-used from pass to pass. Both decoders unmask a payload in place when it lies within
 * one chunk, so every pass toggles those payload bytes between masked and unmasked; headers and
 * masking keys are never touched, so every pass parses the same frames and does the same amount of
 * work on both sides (the payload values do not matter for binary messages). Payloads that straddle
 * chunks are copied first by both decoders, so the input itself stays as built. Correctness is
 * checked once, before timing, on fresh copies of the input.
 *
 * Usage: node --import tsx bench/decoder.ts [--quick] [--ws-direct]
 *   --ws-direct  also measures ws's Receiver fed through `_write` directly (no Writable.write layer)
 * @module
 */
import { pathToFileURL } from 'node:url'
import { MessageAssembler } from '../src/core/assembler.ts'
import { FrameDecoder } from '../src/core/decoder.ts'
import { mask } from '../src/core/mask.ts'
import {
  assertCount,
  formatMBps,
  formatRate,
  formatSpread,
  hasBufferutil,
  isQuick,
  measure,
  type MeasureOptions,
  type Rates,
  renderTable,
  type Side,
} from './harness.ts'
import { buildFrameInput, copyChunks, type FrameInput, sameBytes } from './inputs.ts'
import { Receiver, wsUnmask } from './ws-internals.ts'

const MAX_SIZE = 64 * 1024 * 1024 // both sides' frame and message limit, in bytes

type Feed = (chunks: readonly Buffer[], onMessage: (data: Uint8Array) => void) => void

/** Returns a function that runs wsflow's decoder and assembler over chunks (one decoder per call of the factory). */
function wsflowFeeder(): Feed {
  const decoder = new FrameDecoder({ role: 'server', maxFrameSize: MAX_SIZE })
  const assembler = new MessageAssembler({ maxMessageSize: MAX_SIZE })
  return (chunks, onMessage) => {
    for (let c = 0; c < chunks.length; c++) {
      decoder.push(chunks[c]!)
      let frame
      while ((frame = decoder.next()) !== undefined) {
        const message = assembler.push(frame)
        if (message !== undefined) onMessage(message.data)
      }
    }
  }
}

/** Returns a function that runs ws's Receiver (server side: frames must be masked) over chunks. */
function wsFeeder(direct: boolean): Feed {
  const receiver = new Receiver({ isServer: true, maxPayload: MAX_SIZE, skipUTF8Validation: false })
  let sink: (data: Uint8Array) => void = () => {}
  receiver.on('message', (data: Buffer) => sink(data))
  receiver.on('error', (error: Error) => {
    throw error
  })
  const callback = (error?: Error | null): void => {
    if (error) throw error
  }
  // `_write` is the Writable hook that `write` ends up calling; bypassing `write` isolates the parser.
  const rawWrite = receiver._write.bind(receiver)
  return (chunks, onMessage) => {
    sink = onMessage
    if (direct) for (let c = 0; c < chunks.length; c++) rawWrite(chunks[c]!, 'buffer', callback)
    else for (let c = 0; c < chunks.length; c++) receiver.write(chunks[c]!)
  }
}

/** Decodes fresh copies of the input with `feed` and checks every payload, in order. */
function check(name: string, feed: Feed, input: FrameInput): void {
  const got: Uint8Array[] = []
  feed(copyChunks(input.chunks), (data) => got.push(Uint8Array.from(data)))
  assertCount(name, got.length, input.payloads.length)
  for (let i = 0; i < got.length; i++) {
    if (!sameBytes(got[i]!, input.payloads[i]!)) throw new Error(`bench: ${name} decoded message ${i} wrongly; aborting`)
  }
}

/** A side that decodes the whole input once per pass; `units` says what one pass counts for. */
function decodeSide(name: string, makeFeed: () => Feed, input: FrameInput, units: number): Side {
  const expected = input.payloads.length
  let feed: Feed = makeFeed()
  let count = 0
  const onMessage = (): void => {
    count++
  }
  return {
    name,
    prepare: () => {
      feed = makeFeed()
    },
    pass: () => {
      count = 0
      feed(input.chunks, onMessage)
      assertCount(name, count, expected)
      return units
    },
  }
}

interface Workload {
  readonly label: string
  readonly unit: 'frames' | 'bytes'
  readonly build: () => FrameInput
}

const WORKLOADS: readonly Workload[] = [
  {
    label: '64 B frames, 64 KiB chunks (frames/s)',
    unit: 'frames',
    build: () => buildFrameInput(16_384, 64, 64 * 1024),
  },
  {
    label: '16 MiB frame, 64 KiB chunks (MB/s)',
    unit: 'bytes',
    build: () => buildFrameInput(1, 16 * 1024 * 1024, 64 * 1024),
  },
  {
    label: '20 B frames, 7 B chunks (frames/s)',
    unit: 'frames',
    build: () => buildFrameInput(4_096, 20, 7),
  },
]

const UNMASK_SIZES = [125, 4 * 1024, 64 * 1024, 1024 * 1024]

function sizeLabel(size: number): string {
  return size >= 1024 * 1024 ? `${size / (1024 * 1024)} MiB` : size >= 1024 ? `${size / 1024} KiB` : `${size} B`
}

/** The naive baseline: one XOR per byte, the key indexed by position. */
function naiveUnmask(data: Uint8Array, key: Uint8Array): void {
  for (let i = 0; i < data.length; i++) data[i]! ^= key[i & 3]!
}

type Unmask = (data: Buffer, key: Buffer) => void
type Repeat = (data: Buffer, key: Buffer, calls: number) => void

// One loop literal per function, so that each call site sees one callee only (a shared loop calling
// all three would be polymorphic, and would time the JIT's choices more than the functions).
const REPEAT: Record<'wsflow' | 'ws' | 'naive', Repeat> = {
  wsflow: (data, key, calls) => {
    for (let i = 0; i < calls; i++) mask(data, key)
  },
  ws: (data, key, calls) => {
    for (let i = 0; i < calls; i++) wsUnmask(data, key)
  },
  naive: (data, key, calls) => {
    for (let i = 0; i < calls; i++) naiveUnmask(data, key)
  },
}

/** A side that unmasks a buffer of `size` bytes repeatedly (about 256 KiB per pass), in place. */
function unmaskSide(name: keyof typeof REPEAT, size: number): Side {
  // A view at byte offset 6 of its buffer, as a payload after a 2-byte header and a 4-byte key.
  const backing = new Uint8Array(size + 6)
  for (let i = 0; i < backing.length; i++) backing[i] = i & 0xff
  const data = Buffer.from(backing.buffer, 6, size)
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78])
  const calls = Math.max(1, Math.floor((256 * 1024) / size))
  const repeat = REPEAT[name]
  return {
    name,
    pass: () => {
      repeat(data, key, calls)
      return calls * size
    },
  }
}

/** Checks that the unmask functions agree with the naive loop, at sizes and offsets around every edge. */
function checkUnmask(name: string, unmask: Unmask): void {
  const key = Buffer.from([0xa1, 0x02, 0xf3, 0x44])
  for (const size of [0, 1, 3, 4, 5, 7, 15, 16, 17, 125, 127, 128, 129, 255, 256, 1000, 4096, 65_537]) {
    for (let start = 0; start < 4; start++) {
      const backing = Buffer.alloc(size + start)
      for (let i = 0; i < backing.length; i++) backing[i] = (i * 13 + 5) & 0xff
      const a = backing.subarray(start)
      const b = Buffer.from(a)
      unmask(a, key)
      naiveUnmask(b, key)
      if (!sameBytes(a, b)) throw new Error(`bench: ${name} unmasks ${size} bytes at offset ${start} wrongly; aborting`)
    }
  }
}

/** Options of one run of this bench. */
export interface DecoderBenchOptions {
  readonly quick: boolean
  /** Also measure ws's Receiver through `_write` (no Writable.write layer). */
  readonly wsDirect: boolean
}

/** A table row: wsflow, ws and their ratio, then each further side with wsflow's ratio to it. */
function row(label: string, results: readonly Rates[], format: (value: number) => string): string[] {
  const first = results[0]!
  const cells = [label, `${format(first.median)} ${formatSpread(first)}`]
  for (const other of results.slice(1)) {
    cells.push(`${format(other.median)} ${formatSpread(other)}`, `${(first.median / other.median).toFixed(2)}x`)
  }
  return cells
}

/** Runs every workload; prints a table and returns it. */
export async function runDecoderBench(options: DecoderBenchOptions): Promise<string> {
  const frameOptions: MeasureOptions = options.quick
    ? { rounds: 3, warmupMs: 200, maxMs: 200, maxPasses: 2_000 }
    : { rounds: 7, warmupMs: 400, maxMs: 400, maxPasses: 5_000 }
  const unmaskOptions: MeasureOptions = options.quick
    ? { rounds: 3, warmupMs: 100, maxMs: 100, maxPasses: 5_000 }
    : { rounds: 7, warmupMs: 200, maxMs: 200, maxPasses: 10_000 }

  const native = await hasBufferutil()
  const header = ['workload', 'wsflow', options.wsDirect ? 'ws (write)' : 'ws', 'ratio']
  if (options.wsDirect) header.push('ws (_write)', 'ratio')
  const rows: string[][] = [header]

  for (const workload of WORKLOADS) {
    const input = workload.build()
    check('wsflow', wsflowFeeder(), input)
    check('ws', wsFeeder(false), input)
    if (options.wsDirect) check('ws _write', wsFeeder(true), input)
    const units = workload.unit === 'frames' ? input.payloads.length : input.payloads.reduce((n, p) => n + p.length, 0)
    const sides = [
      decodeSide('wsflow', wsflowFeeder, input, units),
      decodeSide('ws', () => wsFeeder(false), input, units),
    ]
    if (options.wsDirect) sides.push(decodeSide('ws _write', () => wsFeeder(true), input, units))
    const results = measure(sides, frameOptions)
    const format = workload.unit === 'frames' ? formatRate : formatMBps
    rows.push(row(workload.label, results, format))
  }

  checkUnmask('wsflow mask', mask)
  checkUnmask('ws unmask', wsUnmask)
  const unmaskRows: string[][] = [['unmask (MB/s)', 'wsflow', 'ws', 'ratio', 'naive loop', 'ratio']]
  for (const size of UNMASK_SIZES) {
    const results = measure(
      [unmaskSide('wsflow', size), unmaskSide('ws', size), unmaskSide('naive', size)],
      unmaskOptions,
    )
    unmaskRows.push(row(`unmask ${sizeLabel(size)}`, results, formatMBps))
  }

  const notes = [
    `bufferutil: ${native ? 'present (ws unmasks natively from 32 bytes)' : 'absent (ws unmasks with its JS byte loop)'}`,
    `rounds: ${frameOptions.rounds} per side, interleaved; each value is the median; ± is half the min-max range over the rounds, relative to the median`,
    'ratio: wsflow median / ws median (above 1 means wsflow is faster); MB = 10^6 bytes; frames are binary and masked',
  ]
  return [renderTable(rows), '', renderTable(unmaskRows), '', ...notes].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await runDecoderBench({ quick: isQuick(), wsDirect: process.argv.includes('--ws-direct') }))
}
