/**
 * A server of bench/pubsub-redis.ts, in a process of its own, sharing one Redis with the others:
 * `wsflow` (a PubSub over createRedisAdapter; each connection `ws.subscribe('bench')`,
 * `server.publish('bench', text)`) or `socket.io` (socket.io 4 with @socket.io/redis-adapter on
 * node-redis; each socket joins room 'bench', `io.to('bench').emit('m', text)`; WebSocket
 * transport only). `node --import tsx bench/pubsub-redis-server.ts <impl> <redis url>`. Lines on
 * stdin, JSON lines on stdout:
 *
 * - at start, once the broker is attached: `{"port":n}`;
 * - `{"cmd":"publish","messages":m,"batch":b,"every":ms}`: publishes m text messages of 64
 *   characters (`<seq>|<publish time, ms>|` padded with x), b at a time, the next batch after a
 *   macrotask (every 0) or after `every` ms; answers `{"ok":true}` after the last one.
 * @module
 */
import { createServer } from 'node:http'
import { createInterface } from 'node:readline'
import { createAdapter } from '@socket.io/redis-adapter'
import { createClient } from 'redis'
import { Server as SocketIoServer } from 'socket.io'
import { createRedisAdapter, PubSub, serve } from '../src/index.ts'

const impl = process.argv[2] ?? 'wsflow'
const url = process.argv[3] ?? 'redis://127.0.0.1:6379'
const TOPIC = 'bench'
const SIZE = 64
const now = (): number => performance.timeOrigin + performance.now()

let publishOne: (text: string) => void
let port: number
let seq = 0

if (impl === 'wsflow') {
  const pubsub = new PubSub({ adapter: await createRedisAdapter({ url }), maxBackpressure: 64 * 1024 * 1024 })
  await pubsub.ready
  const server = await serve({ host: '127.0.0.1', port: 0, pubsub, maxConnections: 30_000, handshakeTimeout: 60_000 }, (ws) => {
    ws.subscribe(TOPIC)
    return ws.closed
  })
  port = server.port
  publishOne = (text) => void server.publish(TOPIC, text)
} else if (impl === 'socket.io') {
  const pub = createClient({ url })
  const sub = pub.duplicate()
  await Promise.all([pub.connect(), sub.connect()])
  const http = createServer()
  const io = new SocketIoServer(http, { adapter: createAdapter(pub, sub), transports: ['websocket'], serveClient: false })
  io.on('connection', (socket) => void socket.join(TOPIC))
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  port = (http.address() as { port: number }).port
  publishOne = (text) => void io.to(TOPIC).emit('m', text)
} else {
  throw new Error(`unknown server ${impl}`)
}

function message(): string {
  const head = `${seq++}|${now().toFixed(3)}|`
  return head + 'x'.repeat(Math.max(0, SIZE - head.length))
}

async function publish(messages: number, batch: number, every: number): Promise<void> {
  for (let sent = 0; sent < messages; ) {
    for (let i = 0; i < batch && sent < messages; i++, sent++) publishOne(message())
    await new Promise((resolve) => (every > 0 ? setTimeout(resolve, every) : setImmediate(resolve)))
  }
}

process.stdout.write(`${JSON.stringify({ port })}\n`)
createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { cmd: string; messages: number; batch: number; every: number }
  if (command.cmd === 'publish') {
    void publish(command.messages, command.batch, command.every).then(() => process.stdout.write('{"ok":true}\n'))
  } else {
    process.stdout.write(`${JSON.stringify({ error: `unknown command ${command.cmd}` })}\n`)
  }
}).on('close', () => process.exit(0))
