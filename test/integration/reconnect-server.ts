/**
 * A wsflow server run as a child process by the reconnect tests, so that a test can kill it
 * (SIGKILL, by PID) and start it again on the same port. `node --import tsx reconnect-server.ts
 * <port>`: prints `listening <port>`, then `open`, `recv <text>` for each message received (its
 * first two words: padding after them is not printed) and `closed <code>` per connection, one
 * line each; answers each message with `ack <the same two words>`.
 */
import { serve } from '../../src/index.ts'

const port = Number(process.argv[2] ?? 0)
const server = await serve({ host: '127.0.0.1', port }, async (ws) => {
  process.stdout.write('open\n')
  try {
    for await (const message of ws) {
      const words = message.text().split(' ', 2).join(' ')
      process.stdout.write(`recv ${words}\n`)
      await ws.send(`ack ${words}`)
    }
  } catch {
    // the client went away abnormally: the close line says how
  }
  process.stdout.write(`closed ${(await ws.closed).code}\n`)
})
process.stdout.write(`listening ${new URL(server.url).port}\n`)
process.on('SIGTERM', () => {
  void server.close({ timeout: 200 }).then(() => process.exit(0))
})
