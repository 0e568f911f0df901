// An echo client: sends each argument (or each line of stdin) and prints the echo. Without a URL it
// starts an echo server of its own on 127.0.0.1, so it runs as it is.
//
//   node --import tsx examples/echo-client.ts [ws://127.0.0.1:8080/echo] [messages...]
import { createInterface } from 'node:readline'
import { connect, serve, type Server } from '../src/index.ts'

let url = process.argv[2]
let words = process.argv.slice(3)
let server: Server | undefined
if (url === undefined || !/^wss?:|^ws\+unix:/.test(url)) {
  words = process.argv.slice(2)
  server = await serve({ port: 0, host: '127.0.0.1' }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  url = server.url
  console.log(`(started an echo server at ${url})`)
}

const ws = await connect(url)
const lines: AsyncIterable<string> | Iterable<string> = words.length > 0 ? words : createInterface({ input: process.stdin })
const replies = ws[Symbol.asyncIterator]()
for await (const line of lines) {
  await ws.send(line)
  const reply = await replies.next()
  if (reply.done) break
  console.log(`echo: ${reply.value.text()}`)
}
console.log(`ping round trip: ${(await ws.ping()).toFixed(2)} ms`)
console.log('closed:', await ws.close())
await server?.close()
