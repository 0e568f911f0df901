// A client that survives a server restart: persistent() keeps one logical connection, queues
// what is sent while the server is away (bounded), resubscribes in onOpen on each connection,
// and iterates the messages of every connection in turn. The server here stops and starts again
// on the same port halfway; a 401 would end the client at once instead of retrying.
//
//   node --import tsx examples/reconnect.ts
import { persistent, serve, type Server } from '../src/index.ts'

async function startServer(port: number): Promise<Server> {
  return serve({ host: '127.0.0.1', port }, async (ws) => {
    for await (const message of ws) {
      const text = message.text()
      await ws.send(text.startsWith('subscribe') ? `subscribed (${text})` : `echo ${text}`)
    }
  })
}

function describe(reason: unknown): string {
  const { code, systemCode } = reason as { code?: unknown; systemCode?: unknown }
  if (typeof systemCode === 'string' && systemCode !== '') return systemCode // a wsflow ConnectError
  return typeof code === 'number' ? `closed with ${code}` : String(code)
}

let server = await startServer(0)
const port = Number(new URL(server.url).port)
const feed = persistent(server.url, {
  initialDelay: 100, // retries wait up to 100 ms, 200 ms, 400 ms ... (full jitter), at most 30 s
  onOpen: (ws) => ws.send(`subscribe prices #${feed.connections}`), // runs before the queue flows
  onRetry: ({ attempt, delay, reason }) => console.log(`(retry ${attempt} in ${delay} ms: ${describe(reason)})`),
})
for (const type of ['connecting', 'open', 'closed']) feed.addEventListener(type, () => console.log(`[${type}]`))

const reading = (async () => {
  for await (const message of feed) console.log(' <-', message.text())
})()

await feed.send('one')
await feed.send('two')
await new Promise((resolve) => setTimeout(resolve, 100))
console.log('(the server stops)')
await server.close({ timeout: 100 }) // closes its connections with 1001: the client reconnects
const queued = [feed.send('three (queued while down)'), feed.send('four (queued while down)')]
console.log(`(queued: ${feed.queuedMessages} messages, ${feed.queuedBytes} bytes)`)
await new Promise((resolve) => setTimeout(resolve, 300))
server = await startServer(port)
console.log('(the server is back on the same port)')
await Promise.all(queued) // sent in order on the new connection, after onOpen
await feed.send('five')
await new Promise((resolve) => setTimeout(resolve, 100))
await feed.close()
await reading
await server.close()
