/**
 * An echo server for bench/memory.ts, in a process of its own (run with --expose-gc): `wsflow`
 * (written the way users write one) or `ws`, with permessage-deflate `on` or `off`, or `heartbeat` (no
 * extension; wsflow's `stallTimeout: 30_000`, for ws the heartbeat of its README); wsflow is
 * imported from the module given as the third argument (bench/memory.ts passes a build of src/ made
 * with tsc, as users run it), or from src/ through tsx without one. Prints its port, then answers
 * one command per stdin line with one JSON line on stdout:
 *  - `gc+measure`: `global.gc()` twice, then `process.memoryUsage()`, the V8 heap's physical size
 *    (its pages written to, which count in rss) and the open connections;
 *  - `snapshot <file>`: `v8.writeHeapSnapshot(file)` (after the same GC), then the file's name.
 * Serves until stdin closes.
 * @module
 */
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8'
import { WebSocket, WebSocketServer } from 'ws'

const impl = process.argv[2]
const deflate = process.argv[3] === 'on'
const heartbeat = process.argv[3] === 'heartbeat'
const wsflowModule = process.argv[4]
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('memory-server: run with --expose-gc')

let port = 0
let rawConnections = 0
let connections: () => number
let stop: () => Promise<unknown>
if (impl === 'wsflow') {
  const { serve } = (await import(wsflowModule === undefined ? '../src/index.ts' : pathToFileURL(wsflowModule).href)) as typeof import('../src/index.ts')
  const server = await serve({ port: 0, host: '127.0.0.1', perMessageDeflate: deflate, ...(heartbeat ? { stallTimeout: 30_000 } : {}) }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  port = server.port
  connections = () => server.clients.size
  stop = () => server.close({ timeout: 100 })
} else if (impl === 'ws') {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: deflate })
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })))
  if (heartbeat) {
    // ws's README: an isAlive flag per connection, set by its pongs; one interval pings them all.
    type Flagged = typeof WebSocket.prototype & { isAlive?: boolean }
    const markAlive = function (this: Flagged): void {
      this.isAlive = true
    }
    server.on('connection', (ws: Flagged) => {
      ws.isAlive = true
      ws.on('pong', markAlive)
    })
    const interval = setInterval(() => {
      for (const ws of server.clients as Set<Flagged>) {
        if (ws.isAlive === false) ws.terminate()
        else {
          ws.isAlive = false
          ws.ping()
        }
      }
    }, 30_000)
    server.on('close', () => clearInterval(interval))
  }
  await new Promise((resolve) => server.once('listening', resolve))
  port = (server.address() as { port: number }).port
  connections = () => server.clients.size
  stop = () => {
    for (const ws of server.clients) ws.terminate()
    return new Promise((resolve) => server.close(resolve))
  }
} else if (impl === 'raw') {
  const { startRawEcho } = await import('./raw-echo.ts')
  const server = await startRawEcho()
  port = (server.address() as { port: number }).port
  connections = () => rawConnections
  server.on('connection', (socket) => {
    rawConnections++
    socket.once('close', () => rawConnections--)
  })
  stop = () => new Promise((resolve) => server.close(resolve))
} else {
  throw new Error(`unknown server ${impl}`)
}

/** Two full GCs, a turn of the event loop apart (finalizers and weak callbacks run in between). */
async function collect(): Promise<void> {
  gc!()
  await new Promise((resolve) => setImmediate(resolve))
  gc!()
}

console.log(port)
const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  void (async () => {
    const [command, argument] = line.trim().split(' ')
    await collect()
    if (command === 'gc+measure') {
      console.log(JSON.stringify({ ...process.memoryUsage(), heapPhysical: getHeapStatistics().total_physical_size, connections: connections() }))
    } else if (command === 'snapshot' && argument !== undefined) {
      console.log(JSON.stringify({ file: writeHeapSnapshot(argument), connections: connections() }))
    } else {
      console.log(JSON.stringify({ error: `unknown command ${line}` }))
    }
  })()
})
lines.once('close', () => {
  const exit = setTimeout(() => process.exit(0), 2000)
  exit.unref()
  void stop().then(() => process.exit(0))
})
