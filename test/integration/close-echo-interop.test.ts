/**
 * The peer's close answered in full: a close with 4000 "bye" from `ws`, python `websockets` and
 * Chromium comes back from a wsflow server as 4000 "bye" (RFC 6455 §5.5.1: the echo of the code,
 * and of the reason, as ws and python websockets answer), read by each peer from its own API.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket as WsClient } from 'ws'
import { serve, type CloseInfo, type Server } from '../../src/index.ts'
import { PYTHON_WEBSOCKETS } from '../cli/helpers.ts'
import { within } from '../helpers/timing.ts'

const CHROMIUM = '/usr/bin/chromium'

/** A wsflow echo server on an http server of its own, recording how each connection ended. */
async function echoServer(page = ''): Promise<{ server: Server; port: number; closes: CloseInfo[]; stop(): Promise<void> }> {
  const closes: CloseInfo[] = []
  const http = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page)
  })
  const server = await serve({ server: http, path: '/echo', onError: () => undefined }, async (ws) => {
    void ws.closed.then((info) => closes.push(info))
    // A close with 4000 is not a clean end for the loop: it throws, which ends the handler too.
    for await (const message of ws) await ws.send(message)
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const port = (http.address() as { port: number }).port
  return {
    server,
    port,
    closes,
    stop: async () => {
      await server.close({ timeout: 500 })
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

test('ws: close(4000, "bye") comes back as 4000 "bye"', async () => {
  const { port, closes, stop } = await echoServer()
  try {
    const client = new WsClient(`ws://127.0.0.1:${port}/echo`)
    await within(new Promise((resolve, reject) => {
      client.once('open', resolve)
      client.once('error', reject)
    }), 3000, 'open')
    const closed = new Promise<{ code: number; reason: string }>((resolve) => client.once('close', (code, reason) => resolve({ code, reason: String(reason) })))
    client.close(4000, 'bye')
    assert.equal(await within(closed, 3000, 'ws close event'), { code: 4000, reason: 'bye' })
    await within((async () => {
      while (closes.length === 0) await new Promise((resolve) => setImmediate(resolve))
    })(), 3000, 'the server side closed')
    assert.equal(closes[0], { code: 4000, reason: 'bye', wasClean: true })
  } finally {
    await stop()
  }
})

const python = PYTHON_WEBSOCKETS === undefined ? test.skip : test
if (PYTHON_WEBSOCKETS === undefined) console.log('  (python websockets interop skipped: no python3 with the websockets package; apt-get install python3-websockets)')
python('python websockets: close(4000, "bye") comes back as 4000 "bye"', async () => {
  const { port, stop } = await echoServer()
  const script = [
    'import asyncio, sys, websockets',
    'async def main():',
    '    async with websockets.connect(sys.argv[1]) as ws:',
    '        await ws.send("hi")',
    '        assert await ws.recv() == "hi"',
    '        await ws.close(4000, "bye")',
    '        print(ws.close_rcvd.code, ws.close_rcvd.reason)',
    'asyncio.run(main())',
  ].join('\n')
  try {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(PYTHON_WEBSOCKETS!, ['-c', script, `ws://127.0.0.1:${port}/echo`], { timeout: 20_000 }, (error, stdout, stderr) => (error === null ? resolve(stdout) : reject(new Error(`${error.message}\n${stderr}`))))
    })
    assert.is(out.trim(), '4000 bye')
  } finally {
    await stop()
  }
})

const chromium = existsSync(CHROMIUM) ? test : test.skip
if (!existsSync(CHROMIUM)) console.log('  (Chromium interop skipped: /usr/bin/chromium is not installed)')
chromium('Chromium: close(4000, "bye") comes back as 4000 "bye"', async () => {
  const page = `<!doctype html><html><body><pre id="log"></pre><script>
const ws = new WebSocket('ws://' + location.host + '/echo')
ws.onopen = () => ws.close(4000, 'bye')
ws.onclose = (e) => { document.getElementById('log').textContent = 'closed ' + e.code + ' ' + e.reason + ' ' + e.wasClean }
</script></body></html>`
  const { port, closes, stop } = await echoServer(page)
  const profile = mkdtempSync(join(tmpdir(), 'wsflow-chromium-'))
  try {
    const args = [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`, '--virtual-time-budget=5000', '--dump-dom', `http://127.0.0.1:${port}/`,
    ]
    const dom = await new Promise<string>((resolve, reject) => {
      execFile(CHROMIUM, args, { timeout: 60_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout) => (error !== null && stdout === '' ? reject(error) : resolve(stdout)))
    })
    const log = /<pre id="log">([\s\S]*?)<\/pre>/.exec(dom)?.[1] ?? ''
    assert.is(log.trim(), 'closed 4000 bye true')
    await within((async () => {
      while (closes.length === 0) await new Promise((resolve) => setImmediate(resolve))
    })(), 3000, 'the server side closed')
    assert.equal(closes[0], { code: 4000, reason: 'bye', wasClean: true })
  } finally {
    rmSync(profile, { recursive: true, force: true })
    await stop()
  }
})

test.run()
