/**
 * A fan-out server for bench/pubsub.ts, in a process of its own: `wsflow` (every connection
 * subscribed to one topic, `server.publish`), `ws` (the loop of its README,
 * `wss.clients.forEach((c) => c.send(data))`), `raw` (a node:net server that completes the
 * handshake and writes the same pre-built frame to every socket, corked until the next tick so that
 * a tick's frames leave in one write per socket) or `wsflow-idle` (wsflow,
 * connections not subscribed: the memory row's baseline). Lines on stdin, JSON lines on stdout:
 *
 * - at start: `{"port":n}`;
 * - `{"cmd":"publish","messages":m,"batch":b}`: publishes m messages of 64 bytes, b per macrotask
 *   (setImmediate between batches); answers at once with `{"ok":true}` and starts measuring CPU;
 * - `{"cmd":"cpu"}`: `{"cpu":µs}` used since the last publish began;
 * - `{"cmd":"memory"}`: `{"heapUsed":bytes,"rss":bytes,"connections":n}` after two full GCs.
 * @module
 */
import { createServer, type Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { WebSocketServer } from 'ws'
import { serve } from '../src/index.ts'
import { acceptKey, frameHeader } from './raw-echo.ts'

const impl = process.argv[2] ?? 'wsflow'
const TOPIC = 'bench'
const payload = Buffer.alloc(64, 0x61)
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let publishOnce: () => number
let connections: () => number
let port: number

if (impl === 'wsflow' || impl === 'wsflow-idle') {
  const subscribe = impl === 'wsflow'
  const server = await serve({ host: '127.0.0.1', port: 0, maxConnections: 30_000, handshakeTimeout: 60_000 }, (ws) => {
    if (subscribe) ws.subscribe(TOPIC)
    return ws.closed
  })
  port = server.port
  publishOnce = () => server.publish(TOPIC, payload)
  connections = () => server.clients.size
} else if (impl === 'ws') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: true })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  port = (wss.address() as { port: number }).port
  wss.on('connection', (ws) => ws.on('error', () => undefined))
  // ws's README, "Server broadcast": a loop over wss.clients.
  publishOnce = () => {
    let n = 0
    wss.clients.forEach((client) => {
      if (client.readyState === 1) {
        client.send(payload, { binary: true })
        n++
      }
    })
    return n
  }
  connections = () => wss.clients.size
} else if (impl === 'raw') {
  const frame = Buffer.concat([frameHeader(0x82, payload.length), payload])
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    socket.setNoDelay(true)
    socket.on('error', () => undefined)
    let head = ''
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData)
      const key = /^sec-websocket-key:[ \t]*(\S+)/im.exec(head)?.[1] ?? ''
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`)
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('data', () => undefined)
    }
    socket.on('data', onData)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as { port: number }).port
  // The frames a tick publishes go out in one write per socket (corked until the next tick), as
  // wsflow's connections gather them: the ceiling of that design, not of a write per frame.
  let corked = false
  const uncorkAll = (): void => {
    corked = false
    for (const socket of sockets) socket.uncork()
  }
  publishOnce = () => {
    if (!corked) {
      corked = true
      for (const socket of sockets) socket.cork()
      process.nextTick(uncorkAll)
    }
    for (const socket of sockets) socket.write(frame)
    return sockets.size
  }
  connections = () => sockets.size
} else {
  throw new Error(`pubsub-server: unknown implementation ${impl}`)
}

let cpuStart = process.cpuUsage()

function publish(messages: number, batch: number): void {
  let sent = 0
  const step = (): void => {
    for (let k = 0; k < batch && sent < messages; k++, sent++) publishOnce()
    if (sent < messages) setImmediate(step)
  }
  step()
}

process.stdout.write(`${JSON.stringify({ port })}\n`)
createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { cmd: string; messages?: number; batch?: number }
  if (command.cmd === 'publish') {
    cpuStart = process.cpuUsage()
    process.stdout.write(`${JSON.stringify({ ok: true })}\n`)
    publish(command.messages ?? 1, command.batch ?? 1)
  } else if (command.cmd === 'cpu') {
    const used = process.cpuUsage(cpuStart)
    process.stdout.write(`${JSON.stringify({ cpu: used.user + used.system })}\n`)
  } else if (command.cmd === 'memory') {
    gc()
    gc()
    const usage = process.memoryUsage()
    process.stdout.write(`${JSON.stringify({ heapUsed: usage.heapUsed, rss: usage.rss, connections: connections() })}\n`)
  } else if (command.cmd === 'count') {
    process.stdout.write(`${JSON.stringify({ connections: connections() })}\n`)
  }
}).on('close', () => process.exit(0))
