import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { buildMaskWasm, renderMaskWasm } from '../../../scripts/generate-mask-wasm.ts'
import { mask, maskInto } from '../../../src/core/mask.ts'
import { createSimdMasker, getSimdMasker, setSimdMasker, SIMD_MASK_WINDOW, SimdMasker, type WebAssemblyApi } from '../../../src/core/mask-simd.ts'
import { MASK_WASM, MASK_WASM_BLOCK } from '../../../src/core/mask-wasm.ts'
import { bytes } from '../../helpers/bytes.ts'

// The ES2022 lib declares no WebAssembly namespace; Node 20 has one.
const realWebAssembly = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly!

function naive(data: Uint8Array, key: Uint8Array, offset: number): Uint8Array {
  const out = data.slice()
  for (let i = 0; i < out.length; i++) out[i] = out[i]! ^ key[(offset + i) & 3]!
  return out
}

test('RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d', () => {
  const data = new TextEncoder().encode('Hello')
  mask(data, bytes(0x37, 0xfa, 0x21, 0x3d))
  assert.equal([...data], [0x7f, 0x9f, 0x4d, 0x51, 0x58])
})

test('masking twice is the identity', () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => i * 7)
  const copy = data.slice()
  const key = bytes(1, 2, 3, 4)
  mask(data, key)
  assert.not.equal([...data], [...copy])
  mask(data, key)
  assert.equal(data, copy)
})

test('fast and byte paths equal a naive loop at every length, offset and alignment', () => {
  const key = bytes(0xde, 0xad, 0xbe, 0xef)
  const backing = Uint8Array.from({ length: 1200 }, (_, i) => (i * 31 + 7) & 0xff)
  for (const length of [0, 1, 2, 3, 4, 5, 7, 8, 63, 64, 127, 128, 129, 130, 131, 255, 256, 1000]) {
    for (let align = 0; align < 4; align++) {
      for (let offset = 0; offset < 4; offset++) {
        const data = backing.slice().subarray(align, align + length)
        const expected = naive(data, key, offset)
        mask(data, key, offset)
        assert.equal(data, expected, `length ${length} align ${align} offset ${offset}`)
      }
    }
  }
})

test('resumable: masking in pieces at running offsets equals masking at once', () => {
  const key = bytes(9, 8, 7, 6)
  const whole = Uint8Array.from({ length: 777 }, (_, i) => i & 0xff)
  const pieces = whole.slice()
  mask(whole, key)
  let offset = 0
  for (const size of [3, 200, 1, 130, 443]) {
    mask(pieces.subarray(offset, offset + size), key, offset)
    offset += size
  }
  assert.equal(pieces, whole)
})

test('maskInto leaves the source alone', () => {
  const source = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)
  const before = source.slice()
  const target = new Uint8Array(310)
  const key = bytes(1, 0x80, 0xff, 3)
  maskInto(source, key, target, 10)
  assert.equal(source, before)
  assert.equal(target.subarray(10), naive(source, key, 0))
  assert.equal([...target.subarray(0, 10)], new Array(10).fill(0))
})

/** Lengths around every edge of the SIMD path: its loop turn, `mask`'s threshold (128 B), its copy window. */
const W = SIMD_MASK_WINDOW
const EDGE_LENGTHS = [
  0, 1, 2, 3, 4, 5, 15, 16, 17, MASK_WASM_BLOCK - 1, MASK_WASM_BLOCK, MASK_WASM_BLOCK + 1, 127, 128, 129, 130, 131, 255, 256, 257,
  W - MASK_WASM_BLOCK - 1, W - 1, W, W + 1, W + 3, W + MASK_WASM_BLOCK + 1, 2 * W - 1, 2 * W, 2 * W + 1, 3 * W + 7,
]

/** Asserts byte equality without building arrays of numbers (the payloads here reach 48 KiB). */
function assertSame(actual: Uint8Array, expected: Uint8Array, message: string): void {
  assert.is(actual.length, expected.length, `${message}: length`)
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) assert.unreachable(`${message}: byte ${i} is ${actual[i]}, expected ${expected[i]}`)
  }
}

function pattern(length: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 7 + 11) & 0xff)
}

/** Runs `body` with `mask` and `maskInto` on their pure-TypeScript loops, as where WebAssembly SIMD is missing. */
function withoutSimd(body: () => void): void {
  const previous = setSimdMasker(null)
  try {
    body()
  } finally {
    setSimdMasker(previous)
  }
}

test('the embedded WebAssembly module is what scripts/generate-mask-wasm.ts builds, and it validates', () => {
  assert.equal([...MASK_WASM], [...buildMaskWasm()])
  assert.is(readFileSync(new URL('../../../src/core/mask-wasm.ts', import.meta.url), 'utf8'), renderMaskWasm())
  assert.ok(realWebAssembly.validate(MASK_WASM))
  assert.ok(getSimdMasker() instanceof SimdMasker, 'Node 20 has WebAssembly SIMD, so mask uses it')
})

test('SIMD path equals a naive loop at every offset, alignment and edge length, in place', () => {
  const simd = createSimdMasker()!
  const key = bytes(0xde, 0xad, 0xbe, 0xef)
  for (const length of EDGE_LENGTHS) {
    for (let align = 0; align < 4; align++) {
      for (let offset = 0; offset < 6; offset++) {
        const backing = pattern(length + 8, length)
        const data = backing.subarray(align, align + length)
        const expected = naive(data, key, offset)
        const before = backing.slice()
        simd.mask(data, key, offset, data, 0)
        assertSame(data, expected, `length ${length} align ${align} offset ${offset}`)
        assertSame(backing.subarray(0, align), before.subarray(0, align), 'bytes before the view')
        assertSame(backing.subarray(align + length), before.subarray(align + length), 'bytes after the view')
      }
    }
  }
})

test('SIMD path into another buffer: source untouched, target written only where asked', () => {
  const simd = createSimdMasker()!
  const key = bytes(0x01, 0x80, 0xff, 0x7f)
  for (const length of EDGE_LENGTHS) {
    for (const [sourceAlign, targetOffset] of [[0, 0], [1, 3], [3, 6], [2, 17]] as const) {
      const source = pattern(length + 4, 3).subarray(sourceAlign, sourceAlign + length)
      const sourceBefore = source.slice()
      const target = new Uint8Array(length + 40).fill(0xaa)
      simd.mask(source, key, 1, target, targetOffset)
      assertSame(source, sourceBefore, `length ${length}: source`)
      assertSame(target.subarray(targetOffset, targetOffset + length), naive(source, key, 1), `length ${length}: masked`)
      for (let i = 0; i < target.length; i++) {
        if ((i < targetOffset || i >= targetOffset + length) && target[i] !== 0xaa) assert.unreachable(`length ${length}: target byte ${i} written`)
      }
    }
  }
})

test('scratch bytes past a payload in linear memory never reach the next payload', () => {
  const simd = createSimdMasker()!
  const key = bytes(9, 8, 7, 6)
  simd.mask(pattern(W, 1), key, 0, new Uint8Array(W), 0) // fills the whole window
  for (const length of [1, MASK_WASM_BLOCK + 1, 1000, W + 1]) {
    const data = pattern(length, 2)
    const expected = naive(data, key, 2)
    simd.mask(data, key, 2, data, 0)
    assertSame(data, expected, `length ${length}`)
  }
})

test('mask and maskInto equal a naive loop at every edge length, with SIMD and on the fallback loops', () => {
  const key = bytes(0x37, 0xfa, 0x21, 0x3d)
  const check = (label: string): void => {
    for (const length of EDGE_LENGTHS) {
      for (let align = 0; align < 4; align++) {
        for (let offset = 0; offset < 4; offset++) {
          const data = pattern(length + 4, align).subarray(align, align + length)
          const expected = naive(data, key, offset)
          mask(data, key, offset)
          assertSame(data, expected, `${label} mask length ${length} align ${align} offset ${offset}`)
        }
        const source = pattern(length, align)
        const target = new Uint8Array(length + align)
        maskInto(source, key, target, align)
        assertSame(target.subarray(align), naive(source, key, 0), `${label} maskInto length ${length} at ${align}`)
        for (let offset = 1; offset < 4; offset++) {
          const rotated = new Uint8Array(length + align)
          maskInto(source, key, rotated, align, offset)
          assertSame(rotated.subarray(align), naive(source, key, offset), `${label} maskInto length ${length} at ${align}, key offset ${offset}`)
        }
      }
    }
  }
  check('simd')
  withoutSimd(() => check('fallback'))
})

test('every length from 0 to 300 bytes, at every offset and alignment, with SIMD and without', () => {
  const key = bytes(0xa1, 0x02, 0xf3, 0x44)
  const check = (label: string): void => {
    for (let length = 0; length <= 300; length++) {
      for (let align = 0; align < 4; align++) {
        for (let offset = 0; offset < 4; offset++) {
          const data = pattern(length + 4, length).subarray(align, align + length)
          const expected = naive(data, key, offset)
          mask(data, key, offset)
          assertSame(data, expected, `${label} length ${length} align ${align} offset ${offset}`)
        }
      }
    }
  }
  check('simd')
  withoutSimd(() => check('fallback'))
})

test('property: SIMD path, mask and the fallback equal a naive loop, payloads up to three windows, resumed at any cut', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: W - 300, max: W + 300 }), fc.integer({ min: 0, max: 3 * W + 64 })),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.nat(7),
      fc.nat(3),
      fc.nat(),
      fc.boolean(),
      (length, key, offset, align, cutAt, simd) => {
        const backing = pattern(length + 4, offset)
        const data = backing.subarray(align, align + length)
        const expected = naive(data, key, offset)
        const run = (): void => {
          // In two pieces at running offsets, as a payload that arrives in two chunks.
          const cut = length === 0 ? 0 : cutAt % (length + 1)
          mask(data.subarray(0, cut), key, offset)
          mask(data.subarray(cut), key, offset + cut)
        }
        if (simd) run()
        else withoutSimd(run)
        assertSame(data, expected, `length ${length} offset ${offset} align ${align}`)
      },
    ),
    { numRuns: 300 },
  )
})

test('without WebAssembly, without SIMD, or where compiling is forbidden, there is no SIMD masker', () => {
  const real = realWebAssembly
  const noSimd: WebAssemblyApi = { validate: () => false, Module: real.Module, Instance: real.Instance }
  const forbidden: WebAssemblyApi = {
    validate: (b) => real.validate(b),
    Module: class {
      constructor() {
        throw new Error('WebAssembly.Module(): Refused to compile or instantiate WebAssembly module because neither \'wasm-eval\' nor \'unsafe-eval\' is an allowed source')
      }
    },
    Instance: real.Instance,
  }
  assert.is(createSimdMasker(noSimd), undefined)
  assert.is(createSimdMasker(forbidden), undefined)
  assert.ok(createSimdMasker(real) instanceof SimdMasker)
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly')!
  const previous = setSimdMasker(undefined)
  try {
    Reflect.deleteProperty(globalThis, 'WebAssembly')
    assert.is(createSimdMasker(), undefined)
    assert.is(getSimdMasker(), undefined)
    const data = pattern(5000)
    const expected = naive(data, bytes(1, 2, 3, 4), 3)
    mask(data, bytes(1, 2, 3, 4), 3)
    assertSame(data, expected, 'mask without WebAssembly')
  } finally {
    Object.defineProperty(globalThis, 'WebAssembly', descriptor)
    setSimdMasker(previous)
  }
  assert.ok(getSimdMasker() instanceof SimdMasker)
})

test.run()
