/**
 * A wsflow server with the Redis broker, run as a child process by the multi-process tests:
 * `node --import tsx redis-node.ts <redis url>`. Prints one JSON line per fact: `{"port":N}` once
 * listening, then `{"event":{...}}` for each adapter event (degraded, restored, lost). Each
 * connection speaks a tiny command language: text `sub <topic>` subscribes it (answered `subscribed
 * <topic>`), text `pub <topic> <payload>` publishes the text payload on topic, a binary message
 * publishes its bytes on topic `bin`. Exits when stdin closes (so it never outlives the test) or
 * on SIGTERM.
 */
import { fileURLToPath } from 'node:url'
import { createRedisAdapter, PubSub, serve, type Server } from '../../src/index.ts'

// Runs only as a script (a test runner scanning test/ may import it).
if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv[2])

async function main(url: string | undefined): Promise<void> {
  if (url === undefined) throw new Error('usage: redis-node.ts <redis url>')
  const line = (value: unknown): boolean => process.stdout.write(`${JSON.stringify(value)}\n`)
  const adapter = await createRedisAdapter({ url, maxReconnectDelay: 100 })
  const pubsub = new PubSub({
    adapter,
    onEvent: (event) => line({ event: event.type === 'degraded' ? { type: 'degraded', error: event.error.message } : event }),
  })
  await pubsub.ready
  let server: Server | undefined = undefined
  server = await serve({ host: '127.0.0.1', port: 0, pubsub }, async (ws) => {
    try {
      for await (const message of ws) {
        if (message.type === 'binary') {
          server?.publish('bin', message.data)
          continue
        }
        const text = message.text()
        if (text.startsWith('sub ')) {
          ws.subscribe(text.slice(4))
          await ws.send(`subscribed ${text.slice(4)}`)
        } else if (text.startsWith('pub ')) {
          const space = text.indexOf(' ', 4)
          server?.publish(text.slice(4, space), text.slice(space + 1))
        }
      }
    } catch {
      // a client that went away: nothing to do
    }
  })
  line({ port: new URL(server.url).port })
  const stop = (): void => {
    void server?.close({ timeout: 200 }).finally(() => process.exit(0))
  }
  process.stdin.on('end', stop).resume()
  process.on('SIGTERM', stop)
}
