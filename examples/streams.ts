// A connection as a stream, both ways: a Node Duplex in stream.pipeline (createWebSocketStream,
// as in ws) and a WHATWG pair with pipeTo (toWebStreams, the shape of WebSocketStream). Both
// keep backpressure: a slow destination stops the socket being read.
//
//   node --import tsx examples/streams.ts
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { connect, createWebSocketStream, serve, toWebStreams } from '../src/index.ts'

const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
  for await (const message of ws) await ws.send(message) // echo
})

// 1. Node streams: 8 MiB out through the echo and into a Writable that takes its time.
const ws = await connect(server.url)
const total = 8 * 1024 * 1024
let received = 0
const chunks = (function* () {
  for (let sent = 0; sent < total; sent += 64 * 1024) yield new Uint8Array(64 * 1024).fill(sent / 65536)
})()
await pipeline(
  Readable.from(chunks),
  createWebSocketStream(ws), // each chunk one binary message; reads are the echoed payloads
  new Writable({
    write(chunk: Buffer, _encoding, callback) {
      received += chunk.length
      if (received === total) void ws.close() // the readable side ends with the close
      setImmediate(callback) // slow: the socket is read only as fast as this
    },
  }),
)
console.log(`pipeline: ${received} bytes echoed`)

// 2. WHATWG streams: text messages as strings (readAs 'data', as WebSocketStream gives them).
const other = await connect(server.url)
const { readable, writable } = toWebStreams(other, { readAs: 'data' })
const writer = writable.getWriter()
for (const word of ['streams', 'with', 'backpressure']) await writer.write(word)
const seen: string[] = []
await readable.pipeTo(new WritableStream({
  write(data) {
    seen.push(String(data))
    if (seen.length === 3) void other.close()
  },
}))
console.log(`pipeTo: ${seen.join(' ')}`)
await server.close()
