/**
 * A first-in first-out queue over an array with a head index: no `Array#shift` per item (which is
 * linear), and no array at all while empty (the shared empty one), so an idle owner holds none.
 * @module
 */

const NONE: never[] = []

/** A FIFO queue; `shift()` is O(1) amortised. */
export class Fifo<T> {
  #items: T[] = NONE
  #head = 0

  /** Items queued. */
  get length(): number {
    return this.#items.length - this.#head
  }

  /** Adds an item at the end. */
  push(item: T): void {
    if (this.#items === NONE) this.#items = [item]
    else this.#items.push(item)
  }

  /** The first item, without removing it. */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined
  }

  /** Removes and returns the first item (`undefined` when empty). */
  shift(): T | undefined {
    const items = this.#items
    if (this.#head >= items.length) return undefined
    const item = items[this.#head]!
    items[this.#head++] = undefined as T // not kept alive by the array
    if (this.#head === items.length) {
      this.#items = NONE
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= items.length) {
      // Long-lived queues that never empty give back what is behind the head.
      this.#items = items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  /** Removes `item` (the first equal one), wherever it is; returns whether it was there. */
  remove(item: T): boolean {
    const index = this.#items.indexOf(item, this.#head)
    if (index < 0) return false
    this.#items.splice(index, 1)
    if (this.#head === this.#items.length) {
      this.#items = NONE
      this.#head = 0
    }
    return true
  }

  /** Removes and returns every item, in order. */
  drain(): T[] {
    const items = this.#items.slice(this.#head)
    this.#items = NONE
    this.#head = 0
    return items
  }
}
