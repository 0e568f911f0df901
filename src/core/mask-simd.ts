/**
 * Masking of large payloads with WebAssembly SIMD (RFC 6455 §5.3): a payload is copied into the
 * module's linear memory, XORed 16 bytes per lane there (src/core/mask-wasm.ts), and copied back
 * out, one window of {@link SIMD_MASK_WINDOW} bytes at a time. Portable: no `node:*`, no `Buffer`;
 * the module is compiled synchronously from embedded bytes at first use, and where WebAssembly or
 * its SIMD proposal is missing (or a Content-Security-Policy forbids compiling it) the caller falls
 * back to its pure-TypeScript loop.
 * @module
 */
import { MASK_WASM, MASK_WASM_BLOCK } from './mask-wasm.ts'

/**
 * Bytes masked per round trip through linear memory: the window is copied in, XORed and copied out
 * before the next one. A multiple of 4, so every window starts at the same key rotation.
 *
 * bench (this file's loop with the window varied, one-off, Node 20, 2-core Xeon with 48 KiB of L1d
 * and 2 MiB of L2 per core; GB/s for windows of 8 KiB / 16 KiB / 32 KiB / 64 KiB / 1 MiB): a 64 KiB
 * payload 22.2 / 25.0 / 18.6 / 17.5 / 15.7, 1 MiB 20.4 / 24.7 / 18.4 / 15.8 / 12.2, 16 MiB 12.7 /
 * 15.6 / 13.6 / 13.0 / 10.2. A 16 KiB window copied in, XORed and copied out stays in the L1 data
 * cache; larger ones spill to L2 and lose. So the memory is one 64 KiB page that never grows.
 */
export const SIMD_MASK_WINDOW = 16 * 1024

/** The part of the WebAssembly namespace used here (the ES2022 lib declares none). */
export interface WebAssemblyApi {
  /** Whether the bytes are a valid module for this engine (false where SIMD is unsupported). */
  validate(bytes: Uint8Array): boolean
  /** Compiles a module synchronously. */
  readonly Module: new (bytes: Uint8Array) => object
  /** Instantiates a compiled module synchronously. */
  readonly Instance: new (module: object, imports: object) => { readonly exports: object }
}

interface MaskExports {
  readonly memory: { readonly buffer: ArrayBuffer }
  readonly mask: (end: number, key: number) => void
}

/**
 * XORs payloads with a masking key through one instance of the SIMD module. Create one with
 * {@link createSimdMasker}; the shared one is {@link getSimdMasker}'s.
 */
export class SimdMasker {
  /** The module's memory (one page; it never grows, so the buffer is never detached). */
  readonly #memory: ArrayBuffer
  /** The first {@link SIMD_MASK_WINDOW} bytes of the memory. */
  readonly #window: Uint8Array
  /** The module's `mask(end, key)`: XORs bytes [0, end) of memory with `key` (32 bits, little-endian) repeated. */
  readonly #xor: (end: number, key: number) => void

  /** Wraps an instance's exports; see {@link createSimdMasker}. */
  constructor(exports: MaskExports) {
    this.#memory = exports.memory.buffer
    this.#window = new Uint8Array(this.#memory, 0, SIMD_MASK_WINDOW)
    this.#xor = exports.mask
  }

  /**
   * Writes `source` masked with `maskingKey` into `target` from `targetOffset`, the key rotated as
   * at position `offset` of the payload (the semantics of `mask`). `target` may be `source` itself
   * (with `targetOffset` 0) to mask in place; otherwise the two must not overlap.
   */
  mask(source: Uint8Array, maskingKey: Uint8Array, offset: number, target: Uint8Array, targetOffset: number): void {
    // Linear memory is little-endian on every platform, so the key byte for position 0 goes lowest.
    const key =
      maskingKey[offset & 3]! |
      (maskingKey[(offset + 1) & 3]! << 8) |
      (maskingKey[(offset + 2) & 3]! << 16) |
      (maskingKey[(offset + 3) & 3]! << 24)
    const window = this.#window
    const xor = this.#xor
    const length = source.length
    if (length <= SIMD_MASK_WINDOW) {
      window.set(source)
      // Rounded up to whole loop turns: the bytes past the payload are scratch and never copied out.
      xor((length + MASK_WASM_BLOCK - 1) & -MASK_WASM_BLOCK, key)
      // bench: a view made by the constructor costs ~27 ns, one made by `subarray` ~42 ns.
      target.set(new Uint8Array(this.#memory, 0, length), targetOffset)
      return
    }
    for (let position = 0; position < length; position += SIMD_MASK_WINDOW) {
      const count = Math.min(SIMD_MASK_WINDOW, length - position)
      window.set(new Uint8Array(source.buffer, source.byteOffset + position, count))
      xor((count + MASK_WASM_BLOCK - 1) & -MASK_WASM_BLOCK, key)
      target.set(count === SIMD_MASK_WINDOW ? window : new Uint8Array(this.#memory, 0, count), targetOffset + position)
    }
  }
}

/**
 * Compiles and instantiates the SIMD module synchronously with `wasm` (the global `WebAssembly` by
 * default). Returns undefined where WebAssembly is missing, where the engine rejects the module
 * (no SIMD), or where compiling fails (e.g. a Content-Security-Policy without `wasm-unsafe-eval`).
 */
export function createSimdMasker(
  wasm: WebAssemblyApi | undefined = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly,
): SimdMasker | undefined {
  try {
    if (wasm === undefined || !wasm.validate(MASK_WASM)) return undefined
    const instance = new wasm.Instance(new wasm.Module(MASK_WASM), {})
    return new SimdMasker(instance.exports as MaskExports)
  } catch {
    return undefined
  }
}

// undefined: not created yet; null: unavailable here.
let shared: SimdMasker | null | undefined

/** The shared {@link SimdMasker}, created at the first call; undefined where WebAssembly SIMD is unavailable. */
export function getSimdMasker(): SimdMasker | undefined {
  if (shared === undefined) shared = createSimdMasker() ?? null
  return shared ?? undefined
}

/**
 * Replaces the shared masker, for tests of the fallback path: `null` acts as if WebAssembly SIMD
 * were unavailable, `undefined` creates it again at the next use. Returns the previous value.
 */
export function setSimdMasker(masker: SimdMasker | null | undefined): SimdMasker | null | undefined {
  const previous = shared
  shared = masker
  return previous
}
