// A client that writes the binary messages it receives into a file with stream.pipeline, without
// holding them in memory. Without a URL it starts a server that sends 4 MiB in 64 KiB messages.
//
//   node --import tsx examples/save-binary.ts [ws://host:port/path] [file]
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { connect, serve, type Server } from '../src/index.ts'

let url = process.argv[2]
const file = process.argv[3] ?? join(tmpdir(), `wsflow-capture-${process.pid}.bin`)
let server: Server | undefined
const sent = createHash('sha256')
if (url === undefined) {
  server = await serve({ port: 0, host: '127.0.0.1' }, async (ws) => {
    for (let i = 0; i < 64; i++) {
      const chunk = new Uint8Array(64 * 1024).fill(i)
      sent.update(chunk)
      await ws.send(chunk)
    }
    await ws.close()
  })
  url = server.url
}

const ws = await connect(url)
await pipeline(ws.bytes(), createWriteStream(file))
const received = createHash('sha256')
await pipeline(createReadStream(file), received)
console.log(`wrote ${file}`)
const digest = received.digest('hex')
console.log(`sha256 ${digest}${server ? (digest === sent.digest('hex') ? ' (matches what the server sent)' : ' (MISMATCH)') : ''}`)
await server?.close()
