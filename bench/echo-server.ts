/**
 * An echo server for the throughput benches, in a process of its own: `wsflow` (written the way
 * users write one: `for await (const message of ws) await ws.send(message)`), `ws` (with
 * bufferutil and utf-8-validate when installed, as users run it), or `raw`, the minimal framed echo
 * on node:net of bench/raw-echo.ts (the ceiling).
 *
 * wsflow is imported from the module given after its name (bench/baseline.ts passes another
 * revision's src/index.ts, a copy outside the repository), from ../src/index.ts without one.
 *
 * Usage: node --import tsx bench/echo-server.ts wsflow [<index.ts>]|ws|raw. Prints its port on the first line,
 * then answers each `cpu` line on stdin with `{"cpu":µs,"t":ms}` (its own user+system CPU time and
 * its clock), so that a bench can show whether the server is saturated. Closes and exits when
 * stdin ends.
 * @module
 */
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { cpuSample } from './processes.ts'

// Both run with their defaults, which allow the 16 MiB messages (wsflow 64 MiB, ws 100 MiB).
const impl = process.argv[2]
let port = 0
let stop: () => Promise<unknown>
if (impl === 'wsflow') {
  const module = process.argv[3]
  const { serve } = (await import(module === undefined ? '../src/index.ts' : pathToFileURL(module).href)) as typeof import('../src/index.ts')
  const server = await serve({ port: 0, host: '127.0.0.1' }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  port = server.port
  stop = () => server.close({ timeout: 100 })
} else if (impl === 'ws') {
  const { WebSocketServer } = await import('ws')
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })))
  await new Promise((resolve) => server.once('listening', resolve))
  port = (server.address() as { port: number }).port
  stop = () =>
    new Promise((resolve) => {
      for (const client of server.clients) client.terminate()
      server.close(resolve)
    })
} else if (impl === 'raw') {
  const { startRawEcho } = await import('./raw-echo.ts')
  const server = await startRawEcho()
  port = (server.address() as { port: number }).port
  stop = () => new Promise((resolve) => server.close(resolve))
} else {
  throw new Error(`unknown server ${impl}`)
}
console.log(port)
const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  if (line.trim() === 'cpu') console.log(JSON.stringify(cpuSample()))
})
lines.once('close', () => {
  const exit = setTimeout(() => process.exit(0), 1000)
  void stop().finally(() => {
    clearTimeout(exit)
    process.exit(0)
  })
})
