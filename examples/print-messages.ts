// A client that prints every message it receives to stdout, one per line, until the server closes.
// Without a URL it starts a small server that sends a few messages and closes.
//
//   node --import tsx examples/print-messages.ts [ws://host:port/path]
import { connect, serve, type Server } from '../src/index.ts'

let url = process.argv[2]
let server: Server | undefined
if (url === undefined) {
  server = await serve({ port: 0, host: '127.0.0.1' }, async (ws) => {
    for (let i = 1; i <= 3; i++) await ws.send(`message ${i} of 3`)
    await ws.send(JSON.stringify({ done: true }))
    await ws.close(1000, 'that is all')
  })
  url = server.url
}

const ws = await connect(url)
for await (const message of ws) {
  process.stdout.write(message.type === 'text' ? `${message.text()}\n` : `[${message.data.length} bytes]\n`)
}
const { code, reason } = await ws.closed
console.error(`closed: ${code} ${reason}`)
await server?.close()
