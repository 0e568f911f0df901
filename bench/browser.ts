/**
 * The browser client's cost, in Chromium: wsflow's browser client (its default, WebSocketStream
 * where Chromium has it, and over the platform WebSocket) against the page's plain `WebSocket`
 * with an `onmessage` handler (and a plain `WebSocketStream` loop, to tell the wrapper's cost
 * from the API's), the same page, the same raw echo server (bench/raw-echo.ts, in a
 * process of its own on core 1 where `taskset` works), interleaved rounds (the order reversed
 * every round), medians, and the ratio to the plain WebSocket (the issue's target: >= 0.8x).
 *
 * Each round opens a connection (not timed), echoes for a bounded time and count (a window of
 * messages in flight: when one comes back, the next goes out), then stops sending, waits for the
 * ones in flight and closes. wsflow's loop is the one users write: `for await (const message of
 * ws) await ws.send(...)`. The bundle is the package's own browser build (scripts/build-browser.mjs).
 * Also printed: the minified and gzipped size of the browser client (bench/browser-size.ts).
 *
 * Usage: node --import tsx bench/browser.ts [--quick]   (quick: 3 rounds of 500 ms, about 30 s)
 * @module
 */
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { buildBrowser } from '../scripts/build-browser.mjs'
import { measureSizes, printSizes } from './browser-size.ts'
import { formatSpread, isQuick, median, renderTable, summarize } from './harness.ts'
import { formatValue, type Unit } from './matrix.ts'
import { hasTaskset, LineProcess, SERVER_CORE, stopAll } from './processes.ts'

const CHROMIUM = '/usr/bin/chromium'
const quick = isQuick()
const ROUNDS = quick ? 3 : 7
const MS = quick ? 500 : 1500
const MAX_MESSAGES = 2_000_000
const DISPATCH_MESSAGES = quick ? 100_000 : 300_000

/** The contenders: the name in the table, and what the page runs. */
const CONTENDERS = [
  { name: 'raw', label: 'plain WebSocket', client: 'plain', options: {} },
  { name: 'wsflow', label: 'wsflow (default)', client: 'wsflow', options: {} },
  { name: 'wsflow-ws', label: 'wsflow over WebSocket', client: 'wsflow', options: { webSocketStream: false } },
  { name: 'plain-stream', label: 'plain WebSocketStream', client: 'plainStream', options: {} },
] as const

const WORKLOADS: readonly { name: string; unit: Unit; size: number; text: boolean; window: number }[] = [
  { name: 'browser: 64 B text, 1 in flight', unit: 'msg/s', size: 64, text: true, window: 1 },
  { name: 'browser: 64 B text, 32 in flight', unit: 'msg/s', size: 64, text: true, window: 32 },
  { name: 'browser: 64 KiB binary, 4 in flight', unit: 'MB/s', size: 64 * 1024, text: false, window: 4 },
]

// The page: both echo loops, each bounded by `ms` and `max` messages; rates in messages per second.
const page = `<!doctype html><html><head><meta charset="utf-8"></head><body><script type="module">
import { connect } from '/dist/wsflow.js'
import { dispatchRate } from '/dist/dispatch.js'
window.dispatchRate = dispatchRate
function payload(size, text) { return text ? 'x'.repeat(size) : new Uint8Array(size).fill(1) }
async function plain(url, size, text, windowSize, ms, max) {
  const ws = new WebSocket(url)
  ws.binaryType = 'arraybuffer'
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject })
  const data = payload(size, text)
  return new Promise((resolve) => {
    let sent = 0, received = 0, stop = false, start = performance.now(), end = start
    ws.onmessage = (event) => {
      received++
      if (!stop && (performance.now() - start >= ms || sent >= max)) stop = true
      if (!stop) { ws.send(data); sent++ }
      else if (received === sent) { end = performance.now(); ws.onclose = () => resolve({ messages: received, seconds: (end - start) / 1000 }); ws.close() }
    }
    for (let i = 0; i < windowSize; i++) { ws.send(data); sent++ }
  })
}
async function plainStream(url, size, text, windowSize, ms, max) {
  const stream = new WebSocketStream(url)
  const { readable, writable } = await stream.opened
  const reader = readable.getReader(), writer = writable.getWriter()
  const data = payload(size, text)
  let sent = 0, received = 0, stop = false
  const start = performance.now()
  for (let i = 0; i < windowSize; i++) { writer.write(data); sent++ }
  for (;;) {
    const { done } = await reader.read()
    if (done) break
    received++
    if (!stop && (performance.now() - start >= ms || sent >= max)) stop = true
    if (!stop) { writer.write(data); sent++ }
    else if (received === sent) break
  }
  const end = performance.now()
  stream.close()
  await stream.closed.catch(() => undefined)
  return { messages: received, seconds: (end - start) / 1000 }
}
async function wsflow(url, size, text, windowSize, ms, max, options) {
  const ws = await connect(url, options)
  const data = payload(size, text)
  let sent = 0, received = 0, stop = false
  const start = performance.now()
  for (let i = 0; i < windowSize; i++) { await ws.send(data); sent++ }
  for await (const message of ws) {
    received++
    if (!stop && (performance.now() - start >= ms || sent >= max)) stop = true
    if (!stop) { await ws.send(data); sent++ }
    else if (received === sent) break
  }
  const end = performance.now()
  await ws.close()
  return { messages: received, seconds: (end - start) / 1000 }
}
window.run = (client, ...args) => (client === 'plain' ? plain(...args) : client === 'plainStream' ? plainStream(...args) : wsflow(...args))
window.ready = true
</script></body></html>`

interface PageResult {
  messages: number
  seconds: number
}

if (!existsSync(CHROMIUM)) {
  console.log(`browser bench skipped: ${CHROMIUM} is not installed`)
  process.exit(0)
}

printSizes(await measureSizes())
console.log('')

const dir = mkdtempSync(join(tmpdir(), 'wsflow-bench-browser-'))
const processes: LineProcess[] = []
let browser: Browser | undefined
const http = createServer((request, response) => {
  const path = (request.url ?? '/').split('?')[0]!
  if (path === '/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page)
    return
  }
  const file = path.startsWith('/dist/') ? path.slice('/dist/'.length) : ''
  if (file === '' || file.includes('/') || !readdirSync(dir).includes(file)) {
    response.writeHead(404).end()
    return
  }
  response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(dir, file)))
})
try {
  await buildBrowser(dir, { sourcemap: false })
  await buildBrowser(join(dir, 'stand-in'), { sourcemap: false, entries: { dispatch: 'bench/browser-dispatch.ts' } })
  for (const file of readdirSync(join(dir, 'stand-in'))) renameSync(join(dir, 'stand-in', file), join(dir, file))
  const server = new LineProcess('raw server', 'echo-server.ts', ['raw'], SERVER_CORE)
  processes.push(server)
  const port = Number(await server.next(20_000, 'its port'))
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const httpPort = (http.address() as { port: number }).port
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], timeout: 30_000 })
  const tab = await browser.newPage()
  tab.setDefaultTimeout(MS * 4 + 30_000)
  await tab.goto(`http://127.0.0.1:${httpPort}/`)
  await tab.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true)
  const hasStream = await tab.evaluate(() => typeof (globalThis as { WebSocketStream?: unknown }).WebSocketStream === 'function')
  console.log(`browser: Chromium ${browser.version()} (WebSocketStream ${hasStream ? 'present: the default' : 'absent: the default is WebSocket'}), the raw echo server${hasTaskset ? ` on core ${SERVER_CORE}` : ''}; ${ROUNDS} rounds of ${MS} ms per contender, interleaved, after one warm-up round each`)
  // The wrapper alone, no network (bench/browser-dispatch.ts): what it adds to each echoed message.
  for (const text of [true, false]) {
    const rates: number[] = []
    for (let r = 0; r < ROUNDS; r++) rates.push(await tab.evaluate(([n, t]) => (globalThis as unknown as { dispatchRate(n: number, t: boolean): Promise<number> }).dispatchRate(n, t), [DISPATCH_MESSAGES, text] as const))
    const rate = summarize('dispatch', rates)
    console.log(`the wrapper alone (a stand-in channel echoing at once, 64 B ${text ? 'text' : 'binary'}, ${DISPATCH_MESSAGES} messages a round): ${formatValue(rate.median, 'msg/s')} msg/s ${formatSpread(rate)}, ${(1e6 / rate.median).toFixed(2)} µs per echoed message`)
  }
  console.log('')
  const url = `ws://127.0.0.1:${port}/`
  const round = async (c: (typeof CONTENDERS)[number], w: (typeof WORKLOADS)[number], ms: number): Promise<number> => {
    const r = await tab.evaluate(
      ([client, args]) => (globalThis as unknown as { run(...a: unknown[]): Promise<PageResult> }).run(client, ...(args as unknown as unknown[])),
      [c.client, [url, w.size, w.text, w.window, ms, MAX_MESSAGES, c.options]] as const,
    )
    if (r.messages < w.window) throw new Error(`bench: ${c.label} echoed ${r.messages} messages`)
    return w.unit === 'MB/s' ? (r.messages * w.size) / r.seconds : r.messages / r.seconds
  }
  const table: string[][] = [['workload', 'unit', ...CONTENDERS.map((c) => c.label), 'wsflow/plain WS', 'wsflow over WS/plain WS', 'wsflow/plain WSS']]
  for (const w of WORKLOADS) {
    for (const c of CONTENDERS) await round(c, w, Math.min(300, MS))
    const rates: Record<string, number[]> = Object.fromEntries(CONTENDERS.map((c) => [c.name, []]))
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse()
      for (const c of order) rates[c.name]!.push(await round(c, w, MS))
    }
    const summary = Object.fromEntries(CONTENDERS.map((c) => [c.name, summarize(c.name, rates[c.name]!)]))
    const cell = (name: string): string => `${formatValue(summary[name]!.median, w.unit)} ${formatSpread(summary[name]!)}`
    const ratio = (name: string, to = 'raw'): string => `${(median(rates[name]!) / median(rates[to]!)).toFixed(2)}x`
    table.push([w.name, w.unit, ...CONTENDERS.map((c) => cell(c.name)), ratio('wsflow'), ratio('wsflow-ws'), ratio('wsflow', 'plain-stream')])
    console.log(renderTable(table))
    console.log('')
    const file = process.env.BENCH_RESULTS
    if (file !== undefined && file !== '') {
      // For bench/index.ts's summary: the plain WebSocket is this bench's ceiling ("raw").
      const values = Object.fromEntries(CONTENDERS.map((c) => [c.name, { median: summary[c.name]!.median, spread: formatSpread(summary[c.name]!) }]))
      appendFileSync(file, `${JSON.stringify({ bench: 'browser', workload: w.name, unit: w.unit, values })}\n`)
    }
  }
  console.log('wsflow/plain WS: the browser client (its default) against the page\'s plain WebSocket, same server, same rounds (1.00x = no cost);')
  console.log('wsflow over WS/plain WS: the client over the platform WebSocket against it (the wrapper alone); wsflow/plain WSS: the default against a plain WebSocketStream loop (the wrapper over that API)')
} finally {
  await browser?.close()
  await new Promise<void>((resolve) => http.close(() => resolve()))
  await stopAll(processes)
  rmSync(dir, { recursive: true, force: true })
}
