/**
 * Joins `chunks` into `target` (a new array of `length` bytes by default, `length` defaulting to
 * the chunks' total) and returns it: one copy, whatever the number of chunks.
 */
export function concatBytes(chunks: readonly Uint8Array[], length?: number, target?: Uint8Array): Uint8Array {
  let total = length ?? 0
  if (length === undefined) for (const chunk of chunks) total += chunk.length
  const out = target ?? new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}
