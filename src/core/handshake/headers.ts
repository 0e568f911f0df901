/**
 * The header fields of an HTTP head, in order, with lookups by lower-case name.
 * @module
 */

/** One header field as received: [name as sent, value with surrounding OWS removed]. */
export type HeaderField = readonly [name: string, value: string]

/**
 * The header fields of an HTTP message: the list in the order received, plus lookups by name
 * (ASCII case-insensitive, RFC 9110 §5.1).
 */
export class HttpHeaders implements Iterable<HeaderField> {
  readonly #fields: HeaderField[] = []
  readonly #byName = new Map<string, string[]>()

  /**
   * Creates the header fields from [name, value] pairs, kept in order. Names and values are
   * taken as they are (the head parser has validated them; the Node layer passes Node's
   * `rawHeaders`, already validated by llhttp).
   */
  constructor(fields: Iterable<HeaderField> = []) {
    for (const [name, value] of fields) this.append(name, value)
  }

  /** Appends one header field at the end of the list. */
  append(name: string, value: string): void {
    this.#fields.push([name, value])
    const key = name.toLowerCase()
    const values = this.#byName.get(key)
    if (values === undefined) this.#byName.set(key, [value])
    else values.push(value)
  }

  /**
   * Returns the field value for `name` (any case), or `undefined` if absent; repeated fields are
   * combined in order with ", " (RFC 9110 §5.3).
   */
  get(name: string): string | undefined {
    return this.#byName.get(name.toLowerCase())?.join(', ')
  }

  /** Returns every value of the field `name` (any case), one per field line, in order. */
  getAll(name: string): readonly string[] {
    return this.#byName.get(name.toLowerCase()) ?? []
  }

  /** Returns true if at least one field is named `name` (any case). */
  has(name: string): boolean {
    return this.#byName.has(name.toLowerCase())
  }

  /** The number of header field lines. */
  get size(): number {
    return this.#fields.length
  }

  /** The header fields as [name, value] pairs, in the order received. */
  get fields(): readonly HeaderField[] {
    return this.#fields
  }

  /** Iterates over the header fields as [name, value] pairs, in the order received. */
  [Symbol.iterator](): Iterator<HeaderField> {
    return this.#fields[Symbol.iterator]()
  }

  /**
   * Returns the fields as a plain object with lower-case names and repeated fields combined with
   * ", " (the shape of `HandshakeError.headers`).
   */
  toRecord(): Record<string, string> {
    const record: Record<string, string> = {}
    for (const [name, values] of this.#byName) {
      const value = values.length === 1 ? values[0]! : values.join(', ')
      // defineProperty: a field named "__proto__" becomes an own property, not the prototype.
      if (name === '__proto__') Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true })
      else record[name] = value
    }
    return record
  }
}
