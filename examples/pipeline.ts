// An it-pipe pipeline over a connection: messages in, transformed, messages out. The server
// upper-cases every text message through a pipeline; the client sends a few and prints the replies.
//
//   node --import tsx examples/pipeline.ts
import { pipe } from 'it-pipe'
import { connect, serve, type Message } from '../src/index.ts'

async function* upperCase(source: AsyncIterable<Message>): AsyncGenerator<string> {
  for await (const message of source) yield message.text().toUpperCase()
}

const server = await serve({ port: 0, host: '127.0.0.1' }, async (ws) => {
  // source -> transform -> sink; the sink closes with 1000 when the source ends
  await pipe(ws, upperCase, ws.sink)
})

const ws = await connect(server.url)
const words = ['hello', 'it-pipe', 'pipelines']
for (const word of words) await ws.send(word)
const replies: string[] = []
for await (const message of ws) {
  replies.push(message.text())
  if (replies.length === words.length) break // leaving the loop keeps the connection open
}
console.log(replies.join(' '))
await ws.close() // the server's pipeline ends with the close; its sink answers it
await server.close()
