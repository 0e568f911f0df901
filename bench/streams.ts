/**
 * The stream adapters' cost: bytes piped out through a connection to an echo server and back
 * into a counting sink, MB/s of echoed bytes, with ws's `createWebSocketStream` over a ws client
 * as the anchor, against wsflow's `createWebSocketStream` and its WHATWG pair (`toWebStreams`
 * with `pipeTo`) over the wsflow client, and the wsflow client without an adapter (`send` and
 * `for await`), so that the adapters' own cost is the ratio to that row. The echo server is npm `ws` in a child process (no
 * compression), the same for every contender; each round opens a fresh connection and pipes
 * 64 KiB chunks (the WHATWG row from a ReadableStream, the others from a Node Readable). Rounds are interleaved (the order rotates), and each contender's median is
 * compared with the anchor's in the same run.
 *
 *   node --import tsx bench/streams.ts [--quick]
 *
 * Every loop is bounded in count and time (a round gives up after 30 s): --quick is 3 rounds of
 * 8 MiB, the full run 7 rounds of 32 MiB (15 s here at a load average of 9 on 2 cores).
 *
 * Measured on this shared machine (2 cores, load average 8.7-9.3): the rounds of one contender
 * spread 2-5x and the medians move from run to run. wsflow's Duplex against wsflow without an
 * adapter: 0.90x, 1.35x, 1.00x in three full runs; the WHATWG pair (a ReadableStream source)
 * 0.67x and 1.28x; wsflow's Duplex against ws's: 0.98x, 1.02x, 0.77x. Within that noise the
 * adapters cost nothing measurable; a quieter machine is needed for a finer answer.
 * @module
 */
import { spawn } from 'node:child_process'
import { loadavg } from 'node:os'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { WebSocket as WsClient, createWebSocketStream as wsStream } from 'ws'
import { connect, createWebSocketStream, toWebStreams } from '../src/index.ts'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 3 : 7
const TOTAL = (quick ? 8 : 32) * 1024 * 1024
const CHUNK = 64 * 1024
const ROUND_LIMIT_MS = 30_000

const ECHO = `
const { WebSocketServer } = require('ws')
const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false }, () => console.log('port ' + server.address().port))
server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })))
`

function chunks(): Readable {
  const chunk = new Uint8Array(CHUNK).fill(7)
  return Readable.from((function* () {
    for (let sent = 0; sent < TOTAL; sent += CHUNK) yield chunk
  })())
}

/** A sink counting bytes; calls `done` once all came back. */
function counter(done: () => void): Writable {
  let received = 0
  return new Writable({
    write(chunk: Uint8Array, _encoding, callback) {
      received += chunk.length
      if (received === TOTAL) done()
      callback()
    },
  })
}

interface Contender {
  readonly name: string
  /** Pipes TOTAL bytes out and back; resolves when the last byte is back. */
  run(url: string): Promise<void>
}

const contenders: Contender[] = [
  {
    name: 'ws createWebSocketStream (anchor)',
    async run(url) {
      const ws = new WsClient(url, { perMessageDeflate: false })
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve)
        ws.once('error', reject)
      })
      const duplex = wsStream(ws)
      await pipeline(chunks(), duplex, counter(() => ws.close()))
    },
  },
  {
    name: 'wsflow send + for await (no adapter)',
    async run(url) {
      const ws = await connect(url, { perMessageDeflate: false })
      const chunk = new Uint8Array(CHUNK).fill(7)
      const reading = (async () => {
        let received = 0
        for await (const message of ws) {
          received += message.data.length
          if (received === TOTAL) break
        }
      })()
      for (let sent = 0; sent < TOTAL; sent += CHUNK) await ws.send(chunk)
      await reading
      await ws.close()
    },
  },
  {
    name: 'wsflow createWebSocketStream',
    async run(url) {
      const ws = await connect(url, { perMessageDeflate: false })
      await pipeline(chunks(), createWebSocketStream(ws), counter(() => void ws.close()))
    },
  },
  {
    name: 'wsflow toWebStreams + pipeTo',
    async run(url) {
      const ws = await connect(url, { perMessageDeflate: false })
      const { readable, writable } = toWebStreams(ws, { readAs: 'bytes' })
      let received = 0
      const sink = new WritableStream<Uint8Array>({
        write(chunk) {
          received += chunk.length
          if (received === TOTAL) void ws.close()
        },
      })
      const chunk = new Uint8Array(CHUNK).fill(7)
      let sent = 0
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= TOTAL) controller.close()
          else {
            sent += CHUNK
            controller.enqueue(chunk)
          }
        },
      })
      await Promise.all([source.pipeTo(writable, { preventClose: true }), readable.pipeTo(sink)])
    },
  },
]

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

async function bounded(promise: Promise<void>, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([promise, new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what}: over ${ROUND_LIMIT_MS} ms`)), ROUND_LIMIT_MS)))])
  } finally {
    clearTimeout(timer)
  }
}

const echo = spawn(process.execPath, ['-e', ECHO], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] })
try {
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the echo server did not start within 10 s')), 10_000)
    echo.stdout!.setEncoding('utf8')
    echo.stdout!.on('data', (text: string) => {
      const match = /port (\d+)/.exec(text)
      if (match !== null) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
  })
  const url = `ws://127.0.0.1:${port}`
  for (const contender of contenders) await bounded(contender.run(url), `warm-up of ${contender.name}`) // warm-up, not measured
  const rates: number[][] = contenders.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const index = (k + round) % contenders.length
      const contender = contenders[index]!
      const start = performance.now()
      await bounded(contender.run(url), contender.name)
      rates[index]!.push(TOTAL / 1e6 / ((performance.now() - start) / 1000))
    }
  }
  const anchor = median(rates[0]!)
  const plain = median(rates[1]!)
  console.log(`stream adapters: ${TOTAL / 1024 / 1024} MiB echoed per round in 64 KiB chunks, ${ROUNDS} rounds interleaved, MB/s of echoed bytes (median, min-max), ratio to ws's adapter and to wsflow without one; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  for (let k = 0; k < contenders.length; k++) {
    const values = rates[k]!
    const m = median(values)
    console.log(`  ${contenders[k]!.name.padEnd(36)} ${m.toFixed(0).padStart(6)} MB/s  (${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)})  ${(m / anchor).toFixed(2)}x ws  ${(m / plain).toFixed(2)}x plain`)
  }
} finally {
  echo.kill()
}
