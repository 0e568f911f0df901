/**
 * The conformance peer's own permessage-deflate (RFC 7692), independent of wsflow's codec: the
 * Sec-WebSocket-Extensions syntax (RFC 6455 §9.1), the judging of a server's response against the
 * client's offers (RFC 7692 §5, §7.1), a codec over node:zlib's one-shot raw deflate/inflate (a
 * preset dictionary of the last window of earlier messages stands for context takeover), and a
 * small DEFLATE walker (RFC 1951) that checks every back-reference of wsflow's compressed messages
 * against the window and the context takeover the handshake agreed.
 * @module
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib'

/** The extension token of RFC 7692 §7. */
export const PMD = 'permessage-deflate'

/** One element of a Sec-WebSocket-Extensions list: the token and its parameters in order (`true`: no value). */
export interface ExtElement {
  name: string
  params: [string, string | true][]
}

/** The agreed parameters of RFC 7692 §7.1 (window bits 8-15, 15 when not negotiated). */
export interface PmceParams {
  serverNoContextTakeover: boolean
  clientNoContextTakeover: boolean
  serverMaxWindowBits: number
  clientMaxWindowBits: number
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * Parses a Sec-WebSocket-Extensions value (RFC 6455 §9.1: `1#( token *( ";" token [ "=" ( token |
 * quoted-string ) ] ) )`, with optional whitespace around separators). Throws on bad syntax.
 */
export function parseExtensionList(value: string): ExtElement[] {
  const out: ExtElement[] = []
  let i = 0
  const ws = (): void => {
    while (value[i] === ' ' || value[i] === '\t') i++
  }
  const token = (what: string): string => {
    const start = i
    while (i < value.length && TOKEN.test(value[i]!)) i++
    if (i === start) throw new Error(`expected ${what} at offset ${start} of ${JSON.stringify(value)}`)
    return value.slice(start, i)
  }
  const quoted = (): string => {
    i++
    let text = ''
    while (i < value.length) {
      const c = value[i++]!
      if (c === '"') return text
      text += c === '\\' ? (value[i++] ?? '') : c
    }
    throw new Error(`unterminated quoted-string in ${JSON.stringify(value)}`)
  }
  for (;;) {
    ws()
    if (i >= value.length) break
    if (value[i] === ',') {
      i++
      continue
    }
    const element: ExtElement = { name: token('an extension token'), params: [] }
    for (;;) {
      ws()
      if (value[i] !== ';') break
      i++
      ws()
      const name = token('a parameter name')
      ws()
      if (value[i] !== '=') {
        element.params.push([name, true])
        continue
      }
      i++
      ws()
      const v = value[i] === '"' ? quoted() : token('a parameter value')
      element.params.push([name, v])
    }
    out.push(element)
    ws()
    if (i < value.length && value[i] !== ',') throw new Error(`unexpected ${JSON.stringify(value[i])} at offset ${i} of ${JSON.stringify(value)}`)
  }
  return out
}

/** The parameters of one offer or response, read strictly; `problems` lists what RFC 7692 forbids. */
interface Read {
  snct: boolean
  cnct: boolean
  smwb: number | undefined
  /** true: client_max_window_bits without a value (an offer only). */
  cmwb: number | true | undefined
  problems: string[]
}

function windowBits(value: string | true): number | undefined {
  // RFC 7692 §7.1.2: 1*DIGIT, an integer 8-15 with no leading zeros.
  return value !== true && /^(?:[89]|1[0-5])$/.test(value) ? Number(value) : undefined
}

function read(e: ExtElement, side: 'offer' | 'response'): Read {
  const r: Read = { snct: false, cnct: false, smwb: undefined, cmwb: undefined, problems: [] }
  const seen = new Set<string>()
  for (const [name, value] of e.params) {
    // RFC 7692 §5.1 / §5: a parameter given twice makes the element invalid.
    if (seen.has(name)) r.problems.push(`${side} has ${name} twice (§7)`)
    seen.add(name)
    if (name === 'server_no_context_takeover' || name === 'client_no_context_takeover') {
      // §7.1.1.1, §7.1.1.2: no value.
      if (value !== true) r.problems.push(`${side}: ${name} has a value (§7.1.1)`)
      if (name === 'server_no_context_takeover') r.snct = true
      else r.cnct = true
    } else if (name === 'server_max_window_bits') {
      // §7.1.2.1: always a value, 8-15.
      const bits = windowBits(value)
      if (bits === undefined) r.problems.push(`${side}: server_max_window_bits=${String(value)} is not 8-15 (§7.1.2.1)`)
      r.smwb = bits
    } else if (name === 'client_max_window_bits') {
      // §7.1.2.2: valueless in an offer; a response MUST give 8-15.
      if (value === true && side === 'offer') r.cmwb = true
      else {
        const bits = windowBits(value)
        if (bits === undefined) r.problems.push(`${side}: client_max_window_bits${value === true ? ' without a value' : `=${value}`} (§7.1.2.2)`)
        r.cmwb = bits
      }
    } else {
      r.problems.push(`${side}: unknown parameter ${name} (§7)`)
    }
  }
  return r
}

/** RFC 7692 problems of the permessage-deflate offers a client sent (wsflow's client is judged with it). */
export function offerProblems(offers: readonly ExtElement[]): string[] {
  return offers.filter((o) => o.name === PMD).flatMap((o) => read(o, 'offer').problems)
}

/**
 * Judges a server's Sec-WebSocket-Extensions response against the client's offers (RFC 7692 §5,
 * §7.1) and returns the agreed parameters (undefined when permessage-deflate was not accepted) and
 * every rule the response breaks. The response must honour at least one offer:
 * - §5: at most one permessage-deflate element, and none unless offered (RFC 6455 §4.1: nothing
 *   the client did not ask for);
 * - §7.1.1.1: an offer with server_no_context_takeover is accepted only with it in the response;
 * - §7.1.2.1: an offer with server_max_window_bits=N is accepted only with server_max_window_bits
 *   of at most N;
 * - §7.1.2.2: client_max_window_bits in a response only if the offer had it, with a value, and not
 *   above the offered value.
 */
export function judgeResponse(offers: readonly ExtElement[], response: readonly ExtElement[]): { params: PmceParams | undefined; problems: string[] } {
  const problems: string[] = []
  const offered = new Set(offers.map((o) => o.name))
  for (const e of response) if (!offered.has(e.name)) problems.push(`the response has extension ${e.name}, which was not offered (RFC 6455 §9.1)`)
  const accepted = response.filter((e) => e.name === PMD)
  if (accepted.length === 0) return { params: undefined, problems }
  if (accepted.length > 1) problems.push(`the response accepts permessage-deflate ${accepted.length} times (§5)`)
  const r = read(accepted[0]!, 'response')
  problems.push(...r.problems)
  const pmdOffers = offers.filter((o) => o.name === PMD).map((o) => read(o, 'offer')).filter((o) => o.problems.length === 0)
  let best: { offer: Read; misses: string[] } | undefined
  for (const o of pmdOffers) {
    const misses: string[] = []
    if (o.snct && !r.snct) misses.push('server_no_context_takeover was offered and is missing from the response (§7.1.1.1)')
    if (o.smwb !== undefined && (r.smwb === undefined || r.smwb > o.smwb)) {
      misses.push(`server_max_window_bits=${o.smwb} was offered; the response has ${r.smwb === undefined ? 'none' : `server_max_window_bits=${r.smwb}`} (§7.1.2.1)`)
    }
    if (r.cmwb !== undefined && o.cmwb === undefined) misses.push('client_max_window_bits in the response, not in the offer (§7.1.2.2)')
    if (typeof r.cmwb === 'number' && typeof o.cmwb === 'number' && r.cmwb > o.cmwb) misses.push(`client_max_window_bits=${r.cmwb} above the ${o.cmwb} offered (§7.1.2.2)`)
    if (best === undefined || misses.length < best.misses.length) best = { offer: o, misses }
    if (misses.length === 0) break
  }
  if (best === undefined) return { params: undefined, problems: [...problems, 'no valid permessage-deflate offer to accept'] }
  problems.push(...best.misses)
  const o = best.offer
  return {
    params: {
      serverNoContextTakeover: r.snct,
      // §7.1.1.2: an offered client_no_context_takeover is the client's promise, answered or not.
      clientNoContextTakeover: r.cnct || o.cnct,
      serverMaxWindowBits: r.smwb ?? 15,
      clientMaxWindowBits: typeof r.cmwb === 'number' ? r.cmwb : typeof o.cmwb === 'number' ? o.cmwb : 15,
    },
    problems,
  }
}

// ---------------------------------------------------------------------------------------------
// The codec

const TRAILER = Uint8Array.of(0x00, 0x00, 0xff, 0xff)
const HISTORY = 32 * 1024

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

function tail(bytes: Uint8Array, n: number): Uint8Array {
  return bytes.length <= n ? bytes : bytes.subarray(bytes.length - n)
}

/** What the peer learns from one compressed message wsflow sent. */
export interface Inflated {
  data: Uint8Array
  /** Rules the compressed bytes break (window, context takeover), from {@link walkDeflate}. */
  problems: string[]
}

/**
 * One side of permessage-deflate for the peer. Compression: one-shot raw deflate with Z_SYNC_FLUSH,
 * the trailing 00 00 ff ff removed (§7.2.1); with context takeover, the last window of the
 * messages compressed before is the preset dictionary, which is exactly what a compressor that
 * kept its window could refer to. Decompression the same way, with 00 00 ff ff appended (§7.2.2).
 */
export class PeerCodec {
  readonly params: PmceParams
  readonly role: 'client' | 'server'
  #sent: Uint8Array = new Uint8Array(0)
  #received: Uint8Array = new Uint8Array(0)

  constructor(params: PmceParams, role: 'client' | 'server') {
    this.params = params
    this.role = role
  }

  /** The window (bits) and context takeover this peer compresses with. */
  get send(): { bits: number; noContextTakeover: boolean } {
    const p = this.params
    return this.role === 'client' ? { bits: p.clientMaxWindowBits, noContextTakeover: p.clientNoContextTakeover } : { bits: p.serverMaxWindowBits, noContextTakeover: p.serverNoContextTakeover }
  }

  /** The window (bits) and context takeover wsflow compresses with. */
  get receive(): { bits: number; noContextTakeover: boolean } {
    const p = this.params
    return this.role === 'client' ? { bits: p.serverMaxWindowBits, noContextTakeover: p.serverNoContextTakeover } : { bits: p.clientMaxWindowBits, noContextTakeover: p.clientNoContextTakeover }
  }

  /**
   * Compresses one message. `final` ends the DEFLATE stream with a BFINAL block (RFC 7692 §7.2.3.4:
   * allowed; the 4 trailing bytes are then kept, and the next message starts a new stream).
   */
  compress(data: Uint8Array, final = false): Uint8Array {
    const { bits, noContextTakeover } = this.send
    // zlib cannot compress with a 256-byte window and uses 512; its matches stay within 250 bytes.
    const dictionary = noContextTakeover || this.#sent.length === 0 ? undefined : tail(this.#sent, 1 << bits)
    const out = deflateRawSync(data, { windowBits: Math.max(9, bits), finishFlush: final ? constants.Z_FINISH : constants.Z_SYNC_FLUSH, ...(dictionary === undefined ? {} : { dictionary }) })
    if (final) {
      this.#sent = new Uint8Array(0)
      return new Uint8Array(out)
    }
    if (!noContextTakeover) this.#sent = tail(join(this.#sent, data), HISTORY).slice()
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.length)
    if (!endsWithTrailer(bytes)) throw new Error('peer: a sync flush did not end with 00 00 ff ff')
    return bytes.slice(0, bytes.length - 4)
  }

  /**
   * Decompresses one message wsflow sent and checks its back-references; throws when the bytes are
   * not DEFLATE (a violation on wsflow's part). `limit` caps the output.
   */
  inflate(payload: Uint8Array, limit = 64 * 1024 * 1024): Inflated {
    const { bits, noContextTakeover } = this.receive
    const history = noContextTakeover ? new Uint8Array(0) : tail(this.#received, 1 << bits)
    const input = join(payload, TRAILER)
    const walk = walkDeflate(input, 1 << bits, history.length)
    const out = inflateRawSync(input, { windowBits: bits, finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: limit, ...(history.length === 0 ? {} : { dictionary: history }) })
    const data = new Uint8Array(out.buffer, out.byteOffset, out.length)
    const problems = [...walk.problems]
    if (walk.problems.length === 0 && walk.produced !== data.length) problems.push(`the DEFLATE walk counts ${walk.produced} bytes, zlib inflated ${data.length}`)
    if (walk.final) this.#received = new Uint8Array(0)
    else if (!noContextTakeover) this.#received = tail(join(this.#received, data), HISTORY).slice()
    return { data, problems }
  }
}

function endsWithTrailer(b: Uint8Array): boolean {
  const n = b.length
  return n >= 4 && b[n - 4] === 0 && b[n - 3] === 0 && b[n - 2] === 0xff && b[n - 1] === 0xff
}

// ---------------------------------------------------------------------------------------------
// A DEFLATE walker (RFC 1951 §3.2) that counts output and checks distances, producing no data

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

/** A canonical Huffman code (RFC 1951 §3.2.2) as counts per length and symbols in code order. */
interface Huffman {
  counts: Int32Array
  symbols: Int32Array
}

function huffman(lengths: ArrayLike<number>): Huffman {
  const counts = new Int32Array(16)
  for (let i = 0; i < lengths.length; i++) counts[lengths[i]!]!++
  counts[0] = 0
  const offsets = new Int32Array(16)
  for (let len = 1; len < 15; len++) offsets[len + 1] = offsets[len]! + counts[len]!
  const symbols = new Int32Array(lengths.length)
  for (let s = 0; s < lengths.length; s++) if (lengths[s] !== 0) symbols[offsets[lengths[s]!]!++] = s
  return { counts, symbols }
}

let fixed: { lit: Huffman; dist: Huffman } | undefined
function fixedCodes(): { lit: Huffman; dist: Huffman } {
  if (fixed === undefined) {
    const lit = new Array<number>(288)
    for (let s = 0; s < 288; s++) lit[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8
    fixed = { lit: huffman(lit), dist: huffman(new Array<number>(30).fill(5)) }
  }
  return fixed
}

class OutOfInput extends Error {}

/**
 * Walks a raw DEFLATE stream (here: a message's payload with 00 00 ff ff appended) and reports the
 * bytes it inflates to, whether it ended with a BFINAL block, and every rule broken: a distance
 * farther than the `window` the sender declared (RFC 7692 §7.1.2), or farther back than the
 * message's own output plus the `history` bytes of earlier messages the receiver holds (0 without
 * context takeover, §7.1.1), invalid codes, or a stream cut in the middle of a block.
 */
export function walkDeflate(data: Uint8Array, window: number, history: number): { produced: number; final: boolean; maxDistance: number; problems: string[] } {
  let pos = 0 // byte
  let bit = 0 // bits consumed in data[pos]
  const bits = (n: number): number => {
    let v = 0
    for (let i = 0; i < n; i++) {
      if (pos >= data.length) throw new OutOfInput()
      v |= ((data[pos]! >> bit) & 1) << i
      if (++bit === 8) {
        bit = 0
        pos++
      }
    }
    return v
  }
  const decode = (h: Huffman): number => {
    let code = 0
    let first = 0
    let index = 0
    for (let len = 1; len <= 15; len++) {
      code |= bits(1)
      const count = h.counts[len]!
      if (code - count < first) return h.symbols[index + (code - first)]!
      index += count
      first = (first + count) << 1
      code <<= 1
    }
    throw new Error('invalid Huffman code')
  }
  let produced = 0
  let maxDistance = 0
  const problems: string[] = []
  let final = false
  try {
    while (!final) {
      if (pos >= data.length) break // the stream ends at a block boundary (after the sync flush)
      final = bits(1) === 1
      const type = bits(2)
      if (type === 0) {
        if (bit !== 0) {
          bit = 0
          pos++
        }
        if (pos + 4 > data.length) throw new OutOfInput()
        const len = data[pos]! | (data[pos + 1]! << 8)
        const nlen = data[pos + 2]! | (data[pos + 3]! << 8)
        if ((len ^ 0xffff) !== nlen) throw new Error('stored block LEN and NLEN disagree')
        pos += 4
        if (pos + len > data.length) throw new OutOfInput()
        pos += len
        produced += len
        continue
      }
      if (type === 3) throw new Error('reserved block type 3')
      let lit: Huffman
      let dist: Huffman
      if (type === 1) ({ lit, dist } = fixedCodes())
      else {
        const hlit = bits(5) + 257
        const hdist = bits(5) + 1
        const hclen = bits(4) + 4
        const cl = new Array<number>(19).fill(0)
        for (let i = 0; i < hclen; i++) cl[CODE_LENGTH_ORDER[i]!] = bits(3)
        const clCode = huffman(cl)
        const lengths: number[] = []
        while (lengths.length < hlit + hdist) {
          const sym = decode(clCode)
          if (sym < 16) lengths.push(sym)
          else if (sym === 16) {
            if (lengths.length === 0) throw new Error('code length repeat with nothing to repeat')
            const prev = lengths[lengths.length - 1]!
            for (let n = 3 + bits(2); n > 0; n--) lengths.push(prev)
          } else for (let n = sym === 17 ? 3 + bits(3) : 11 + bits(7); n > 0; n--) lengths.push(0)
        }
        if (lengths.length > hlit + hdist) throw new Error('code lengths overrun')
        if (lengths[256] === 0) throw new Error('no end-of-block code')
        lit = huffman(lengths.slice(0, hlit))
        dist = huffman(lengths.slice(hlit))
      }
      for (;;) {
        const sym = decode(lit)
        if (sym < 256) {
          produced++
          continue
        }
        if (sym === 256) break
        const li = sym - 257
        if (li >= 29) throw new Error(`invalid length symbol ${sym}`)
        const length = LENGTH_BASE[li]! + bits(LENGTH_EXTRA[li]!)
        const di = decode(dist)
        if (di >= 30) throw new Error(`invalid distance symbol ${di}`)
        const distance = DIST_BASE[di]! + bits(DIST_EXTRA[di]!)
        if (distance > maxDistance) maxDistance = distance
        if (distance > window && problems.length < 5) problems.push(`a back-reference ${distance} bytes back, beyond the ${window}-byte window agreed (RFC 7692 §7.1.2)`)
        if (distance > produced + history && problems.length < 5) {
          problems.push(`a back-reference ${distance} bytes back at offset ${produced}, before ${history === 0 ? 'the start of the message (no context takeover, RFC 7692 §7.1.1)' : `the ${history} bytes of history`}`)
        }
        produced += length
      }
    }
  } catch (error) {
    problems.push(error instanceof OutOfInput ? 'the DEFLATE data ends in the middle of a block' : `invalid DEFLATE data: ${(error as Error).message}`)
  }
  return { produced, final, maxDistance, problems }
}
