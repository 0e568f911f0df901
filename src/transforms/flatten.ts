/**
 * Returns a stream of the items of a stream of batches, for a `for await` over single frames
 * (`for await (const frame of flatten(decodeFrames()(bytes)))`). Single items pass through.
 */
export async function* flatten<T>(source: AsyncIterable<T | T[]> | Iterable<T | T[]>): AsyncGenerator<T, void, undefined> {
  for await (const item of source) {
    if (Array.isArray(item)) yield* item
    else yield item
  }
}
