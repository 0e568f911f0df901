/**
 * Writes src/core/mask-wasm.ts: the bytes of the tiny WebAssembly module that `mask` uses for large
 * payloads (a v128 XOR loop), assembled here by hand so that no assembler is needed.
 *
 * Usage: node --import tsx scripts/generate-mask-wasm.ts           (rewrites the file)
 *        node --import tsx scripts/generate-mask-wasm.ts --check   (exits 1 if the file is stale)
 *
 * The module, in the text format:
 *
 *   (module
 *     (memory (export "memory") 1)              ;; one 64 KiB page, never grown (16 KiB windows)
 *     (func (export "mask") (param $end i32) (param $key i32)
 *       (local $p i32) (local $k v128)
 *       (local.set $k (i32x4.splat (local.get $key)))
 *       (block $done
 *         (br_if $done (i32.eqz (local.get $end)))
 *         (loop $next                            ;; UNROLL 16-byte lanes per turn
 *           (v128.store offset=0 (local.get $p)
 *             (v128.xor (v128.load offset=0 (local.get $p)) (local.get $k)))
 *           ...                                  ;; offset=16, 32, ... (UNROLL - 1) * 16
 *           (local.set $p (i32.add (local.get $p) (i32.const BLOCK)))
 *           (br_if $next (i32.lt_u (local.get $p) (local.get $end))))))
 *
 * `mask(end, key)` XORs bytes [0, end) of the memory with the 32-bit little-endian `key` repeated;
 * `end` must be a multiple of BLOCK (= UNROLL * 16 bytes) and within the memory. The caller copies a
 * payload to address 0, rounds its length up to BLOCK (the bytes past the payload are scratch) and
 * copies the payload back out.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** 16-byte lanes per loop turn. bench: 4 and 8 run alike (XOR alone ~80 GB/s at 4 KiB); 4 wastes less when rounding up. */
export const UNROLL = 4
/** Bytes per loop turn: the caller rounds lengths up to a multiple of this. */
export const BLOCK = UNROLL * 16

/** Unsigned LEB128, as the binary format encodes sizes, counts, indices and offsets. */
function leb(value: number): number[] {
  const out: number[] = []
  do {
    let byte = value & 0x7f
    value >>>= 7
    if (value !== 0) byte |= 0x80
    out.push(byte)
  } while (value !== 0)
  return out
}

/** Signed LEB128, as `i32.const` encodes its immediate (64 would read as -64 in the unsigned form). */
function sleb(value: number): number[] {
  const out: number[] = []
  for (;;) {
    const byte = value & 0x7f
    value >>= 7
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte)
      return out
    }
    out.push(byte | 0x80)
  }
}

/** A section: its id, then its size in bytes, then its contents. */
function section(id: number, contents: readonly number[]): number[] {
  return [id, ...leb(contents.length), ...contents]
}

/** A vector: its element count, then the elements. */
function vector(items: readonly (readonly number[])[]): number[] {
  return [...leb(items.length), ...items.flat()]
}

/** A name: its length in bytes, then its UTF-8 bytes (ASCII here). */
function name(text: string): number[] {
  return [...leb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))]
}

// Value types and opcodes (WebAssembly core spec 2.0, §5.3 and §5.4; SIMD opcodes after the 0xfd prefix).
const I32 = 0x7f
const V128 = 0x7b
const EMPTY_BLOCK = 0x40
const OP = {
  block: 0x02,
  loop: 0x03,
  br_if: 0x0d,
  end: 0x0b,
  local_get: 0x20,
  local_set: 0x21,
  i32_const: 0x41,
  i32_eqz: 0x45,
  i32_lt_u: 0x49,
  i32_add: 0x6a,
  simd: 0xfd,
} as const
const SIMD = { v128_load: 0x00, v128_store: 0x0b, i32x4_splat: 0x11, v128_xor: 0x51 } as const
const ALIGN_16 = 4 // log2 of the alignment hint: every access is at a multiple of 16 from address 0

/** Builds the module's bytes; `unroll` (16-byte lanes per loop turn) is a parameter for experiments. */
export function buildMaskWasm(unroll = UNROLL): Uint8Array {
  const [end, key, p, k] = [0, 1, 2, 3] // local indices: the two params, then the two locals
  const body: number[] = [
    OP.local_get, key, OP.simd, ...leb(SIMD.i32x4_splat), OP.local_set, k,
    OP.block, EMPTY_BLOCK,
    OP.local_get, end, OP.i32_eqz, OP.br_if, 0,
    OP.loop, EMPTY_BLOCK,
  ]
  for (let lane = 0; lane < unroll; lane++) {
    const offset = leb(lane * 16)
    body.push(
      OP.local_get, p,
      OP.local_get, p, OP.simd, ...leb(SIMD.v128_load), ALIGN_16, ...offset,
      OP.local_get, k, OP.simd, ...leb(SIMD.v128_xor),
      OP.simd, ...leb(SIMD.v128_store), ALIGN_16, ...offset,
    )
  }
  body.push(
    OP.local_get, p, OP.i32_const, ...sleb(unroll * 16), OP.i32_add, OP.local_set, p,
    OP.local_get, p, OP.local_get, end, OP.i32_lt_u, OP.br_if, 0,
    OP.end, // loop
    OP.end, // block
    OP.end, // function
  )
  const locals = vector([[1, I32], [1, V128]])
  const functionBody = [...locals, ...body]
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    ...section(1, vector([[0x60, ...vector([[I32], [I32]]), ...vector([])]])), // type 0: (i32, i32) -> ()
    ...section(3, vector([leb(0)])), // function 0 has type 0
    ...section(5, vector([[0x00, ...leb(1)]])), // one memory: 1 page (64 KiB) at least, no maximum
    ...section(7, vector([
      [...name('memory'), 0x02, ...leb(0)],
      [...name('mask'), 0x00, ...leb(0)],
    ])),
    ...section(10, vector([[...leb(functionBody.length), ...functionBody]])),
  ]
  return Uint8Array.from(bytes)
}

const TARGET = fileURLToPath(new URL('../src/core/mask-wasm.ts', import.meta.url))

/** The generated source file's text. */
export function renderMaskWasm(bytes: Uint8Array = buildMaskWasm()): string {
  const lines: string[] = []
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push(`  ${Array.from(bytes.subarray(i, i + 16), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')},`)
  }
  return [
    '/**',
    ' * The WebAssembly module behind `mask` for large payloads: a v128 XOR loop over linear memory.',
    ' * Generated by scripts/generate-mask-wasm.ts (which shows it in the text format); do not edit.',
    ' * @module',
    ' */',
    '',
    `/** Bytes per turn of the module's loop: lengths passed to its \`mask(end, key)\` are multiples of this. */`,
    `export const MASK_WASM_BLOCK = ${BLOCK}`,
    '',
    `/** The module's bytes (${bytes.length}); it exports \`memory\` (1 page at first) and \`mask(end: i32, key: i32)\`. */`,
    'export const MASK_WASM: Uint8Array = /* @__PURE__ */ Uint8Array.of(',
    ...lines,
    ')',
    '',
  ].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const text = renderMaskWasm()
  if (process.argv.includes('--check')) {
    let current = ''
    try {
      current = readFileSync(TARGET, 'utf8')
    } catch {}
    if (current !== text) {
      console.error(`${TARGET} is stale: run node --import tsx scripts/generate-mask-wasm.ts`)
      process.exit(1)
    }
    console.log(`${TARGET} is up to date`)
  } else {
    const wasm = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly
    if (!wasm.validate(buildMaskWasm())) throw new Error('the generated module does not validate')
    writeFileSync(TARGET, text)
    console.log(`wrote ${TARGET} (${buildMaskWasm().length} bytes of WebAssembly)`)
  }
}
