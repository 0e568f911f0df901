/** Test helpers: byte literals and chunking. */
import * as assert from 'uvu/assert'

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values)
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let total = 0
  for (const p of parts) total += p.length
  const out = new Uint8Array(total)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

/** Cuts `data` into copies at the given cut points (sorted, within range). */
export function cut(data: Uint8Array, points: number[]): Uint8Array[] {
  const out: Uint8Array[] = []
  let start = 0
  for (const p of [...points].sort((a, b) => a - b)) {
    if (p <= start || p >= data.length) continue
    out.push(data.slice(start, p))
    start = p
  }
  out.push(data.slice(start))
  return out
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

/** Asserts that `fn` throws an error of class `cls` with the given `code` and, if given, `closeCode`. */
export function throwsError(fn: () => unknown, cls: new (...args: never[]) => Error, code: string, closeCode?: number): void {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  assert.ok(caught !== undefined, `expected ${cls.name} ${code} to be thrown`)
  assert.instance(caught, cls)
  assert.is((caught as { code?: unknown }).code, code)
  if (closeCode !== undefined) assert.is((caught as { closeCode?: unknown }).closeCode, closeCode)
}

/** Same as {@link throwsError} for a promise. */
export async function rejectsError(promise: Promise<unknown>, cls: new (...args: never[]) => Error, code: string, closeCode?: number): Promise<void> {
  let caught: unknown
  try {
    await promise
  } catch (error) {
    caught = error
  }
  assert.ok(caught !== undefined, `expected ${cls.name} ${code} to be rejected`)
  assert.instance(caught, cls)
  assert.is((caught as { code?: unknown }).code, code)
  if (closeCode !== undefined) assert.is((caught as { closeCode?: unknown }).closeCode, closeCode)
}
