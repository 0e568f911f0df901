/**
 * Where should `mask` (src/core/mask.ts) switch from its byte loop to 32-bit words, and from those to
 * WebAssembly SIMD (src/core/mask-simd.ts)? Measures the paths of `mask` on their own, at payload
 * sizes around each switch, and `mask` itself.
 *
 * The two loops below are the pure-TypeScript branches of `mask` in src/core/mask.ts, each made a
 * whole function so that either can run at any size (keep them in step with that file); `maskSimd`
 * calls the SIMD path (src/core/mask-simd.ts) directly, at any size. Payloads are
 * views at byte offset 6 of their buffer, as a payload after a 2-byte header and a 4-byte masking
 * key, so the word path pays for its unaligned lead bytes as it does in the decoder.
 *
 * Usage: node --import tsx bench/mask.ts [--quick]
 * @module
 */
import { pathToFileURL } from 'node:url'
import { mask } from '../src/core/mask.ts'
import { getSimdMasker } from '../src/core/mask-simd.ts'
import { formatMBps, formatSpread, isQuick, measure, type MeasureOptions, renderTable, type Side } from './harness.ts'
import { sameBytes } from './inputs.ts'

/** The byte path of `mask`: four bytes per step, the key in four locals. */
function maskBytes(data: Uint8Array, maskingKey: Uint8Array, offset = 0): void {
  const length = data.length
  const k0 = maskingKey[offset & 3]!
  const k1 = maskingKey[(offset + 1) & 3]!
  const k2 = maskingKey[(offset + 2) & 3]!
  const k3 = maskingKey[(offset + 3) & 3]!
  let i = 0
  const end4 = length & ~3
  for (; i < end4; i += 4) {
    data[i]! ^= k0
    data[i + 1]! ^= k1
    data[i + 2]! ^= k2
    data[i + 3]! ^= k3
  }
  if (i < length) data[i]! ^= k0
  if (i + 1 < length) data[i + 1]! ^= k1
  if (i + 2 < length) data[i + 2]! ^= k2
}

const scratchBytes = new Uint8Array(4)
const scratchWord = new Uint32Array(scratchBytes.buffer)

/** The word path of `mask`: bytes up to 4-byte alignment, a Uint32Array view for the words, then the tail (at least 4 bytes). */
function maskWords(data: Uint8Array, maskingKey: Uint8Array, offset = 0): void {
  const length = data.length
  let i = 0
  const lead = (4 - (data.byteOffset & 3)) & 3
  for (; i < lead; i++) data[i]! ^= maskingKey[(offset + i) & 3]!
  scratchBytes[0] = maskingKey[(offset + i) & 3]!
  scratchBytes[1] = maskingKey[(offset + i + 1) & 3]!
  scratchBytes[2] = maskingKey[(offset + i + 2) & 3]!
  scratchBytes[3] = maskingKey[(offset + i + 3) & 3]!
  const word = scratchWord[0]!
  const count = (length - i) >>> 2
  const words = new Uint32Array(data.buffer, data.byteOffset + i, count)
  for (let w = 0; w < count; w++) words[w]! ^= word
  i += count << 2
  for (; i < length; i++) data[i]! ^= maskingKey[(offset + i) & 3]!
}

/** The reference: one XOR per byte. */
function maskNaive(data: Uint8Array, maskingKey: Uint8Array, offset = 0): void {
  for (let i = 0; i < data.length; i++) data[i]! ^= maskingKey[(offset + i) & 3]!
}

type MaskFunction = (data: Uint8Array, maskingKey: Uint8Array, offset?: number) => void

const SIZES = [16, 64, 128, 192, 256, 512, 1024, 4096]

/** The SIMD sizes: from below `mask`'s threshold to a payload 1024 times its copy window. */
const SIMD_SIZES = [64, 128, 256, 1024, 4096, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024]

const simd = getSimdMasker()

/** The SIMD path of `mask`: copy into linear memory, v128 XOR, copy back, in windows. */
function maskSimd(data: Uint8Array, maskingKey: Uint8Array, offset = 0): void {
  simd!.mask(data, maskingKey, offset, data, 0)
}

function sizeLabel(size: number): string {
  return size >= 1024 * 1024 ? `${size / (1024 * 1024)} MiB` : size >= 1024 ? `${size / 1024} KiB` : `${size} B`
}

type Repeat = (data: Uint8Array, maskingKey: Uint8Array, calls: number) => void

// One loop literal per function, so that each call site sees one callee only (a shared loop calling
// all three would be polymorphic, and would time the JIT's choices more than the functions).
const REPEAT: Record<'bytes' | 'words' | 'simd' | 'mask', Repeat> = {
  bytes: (data, maskingKey, calls) => {
    for (let i = 0; i < calls; i++) maskBytes(data, maskingKey)
  },
  words: (data, maskingKey, calls) => {
    for (let i = 0; i < calls; i++) maskWords(data, maskingKey)
  },
  simd: (data, maskingKey, calls) => {
    for (let i = 0; i < calls; i++) maskSimd(data, maskingKey)
  },
  mask: (data, maskingKey, calls) => {
    for (let i = 0; i < calls; i++) mask(data, maskingKey)
  },
}

function maskSide(name: keyof typeof REPEAT, size: number): Side {
  const backing = new Uint8Array(size + 6)
  for (let i = 0; i < backing.length; i++) backing[i] = i & 0xff
  const data = new Uint8Array(backing.buffer, 6, size)
  const key = Uint8Array.of(0x12, 0x34, 0x56, 0x78)
  const calls = Math.max(1, Math.floor((64 * 1024) / size))
  const repeat = REPEAT[name]
  return {
    name,
    pass: () => {
      repeat(data, key, calls)
      return calls * size
    },
  }
}

/** Checks each function against the naive loop at every size and alignment the bench uses, and some odd ones. */
function checkAll(functions: Record<string, MaskFunction>): void {
  const key = Uint8Array.of(0xa1, 0x02, 0xf3, 0x44)
  for (const size of [...SIZES, 0, 1, 2, 3, 5, 17, 127, 129, 1023, 16 * 1024 - 1, 16 * 1024 + 5, 40_000]) {
    for (let start = 0; start < 4; start++) {
      for (const offset of [0, 1, 2, 3, 6]) {
        const reference = new Uint8Array(size)
        for (let i = 0; i < size; i++) reference[i] = (i * 13 + 5) & 0xff
        maskNaive(reference, key, offset)
        for (const [name, fn] of Object.entries(functions)) {
          if (fn === maskWords && size < 4) continue // the word path runs from 4 bytes on only
          const backing = new Uint8Array(size + start)
          for (let i = 0; i < size; i++) backing[start + i] = (i * 13 + 5) & 0xff
          const data = backing.subarray(start)
          fn(data, key, offset)
          if (!sameBytes(data, reference)) throw new Error(`bench: ${name} masks ${size} bytes at ${start}/${offset} wrongly; aborting`)
        }
      }
    }
  }
}

/** Runs the threshold study; prints a table and returns it. */
export function runMaskBench(options: { readonly quick: boolean }): string {
  const measureOptions: MeasureOptions = options.quick
    ? { rounds: 3, warmupMs: 100, maxMs: 100, maxPasses: 10_000 }
    : { rounds: 7, warmupMs: 150, maxMs: 150, maxPasses: 20_000 }
  checkAll(simd === undefined ? { maskBytes, maskWords, mask } : { maskBytes, maskWords, maskSimd, mask })
  const rows: string[][] = [['mask path (MB/s)', 'bytes', 'words', 'words/bytes', 'mask (as built)']]
  for (const size of SIZES) {
    const [bytes, words, current] = measure(
      [maskSide('bytes', size), maskSide('words', size), maskSide('mask', size)],
      measureOptions,
    )
    rows.push([
      `${size} B`,
      `${formatMBps(bytes!.median)} ${formatSpread(bytes!)}`,
      `${formatMBps(words!.median)} ${formatSpread(words!)}`,
      `${(words!.median / bytes!.median).toFixed(2)}x`,
      `${formatMBps(current!.median)} ${formatSpread(current!)}`,
    ])
  }
  if (simd === undefined) return `${renderTable(rows)}\n\nWebAssembly SIMD: unavailable here (mask uses the loops above at every size)`
  const simdRows: string[][] = [['mask path (MB/s)', 'bytes', 'words', 'simd', 'simd/words', 'simd/bytes', 'mask (as built)']]
  for (const size of SIMD_SIZES) {
    const [bytes, words, vector, current] = measure(
      [maskSide('bytes', size), maskSide('words', size), maskSide('simd', size), maskSide('mask', size)],
      measureOptions,
    )
    simdRows.push([
      sizeLabel(size),
      `${formatMBps(bytes!.median)} ${formatSpread(bytes!)}`,
      `${formatMBps(words!.median)} ${formatSpread(words!)}`,
      `${formatMBps(vector!.median)} ${formatSpread(vector!)}`,
      `${(vector!.median / words!.median).toFixed(2)}x`,
      `${(vector!.median / bytes!.median).toFixed(2)}x`,
      `${formatMBps(current!.median)} ${formatSpread(current!)}`,
    ])
  }
  return [renderTable(rows), '', renderTable(simdRows)].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(runMaskBench({ quick: isQuick() }))
}
