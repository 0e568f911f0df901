// A real browser against wsflow's server: Debian's Chromium, headless, loads a page that opens a
// WebSocket, sends, checks the echoes and closes; the page's log is read back with --dump-dom.
// Skipped (with a message) where /usr/bin/chromium is not installed; .ci/run installs it.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { serve, type CloseInfo } from '../../src/index.ts'

const CHROMIUM = '/usr/bin/chromium'
const run = existsSync(CHROMIUM) ? test : test.skip
if (!existsSync(CHROMIUM)) console.log('  (browser tests skipped: /usr/bin/chromium is not installed)')

const page = `<!doctype html><html><body><pre id="log"></pre><script>
const log = (line) => { document.getElementById('log').textContent += line + '\\n' }
const ws = new WebSocket('ws://' + location.host + '/echo')
const big = 'compress me please ✓ '.repeat(2000)
const bytes = new Uint8Array(256).map((_, i) => i)
ws.binaryType = 'arraybuffer'
let n = 0
ws.onopen = () => { log('open ' + (ws.extensions || 'none')); ws.send(big); ws.send('small'); ws.send(bytes) }
ws.onmessage = (e) => {
  n++
  if (n === 1) log('echo big ' + (e.data === big))
  if (n === 2) log('echo small ' + (e.data === 'small'))
  if (n === 3) { const b = new Uint8Array(e.data); log('echo bytes ' + (b.length === 256 && b.every((v, i) => v === i))); ws.close(1000, 'done') }
}
ws.onclose = (e) => log('closed ' + e.code + ' ' + e.wasClean)
</script><script src="/wait.js"></script></body></html>`
// /wait.js is answered only once the WebSocket has closed: until then the page has not loaded,
// and Chromium neither advances its virtual time nor dumps the DOM.

function chromiumDom(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'wsflow-chromium-'))
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`, '--virtual-time-budget=5000', '--dump-dom', url,
  ]
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 60_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout) => {
      rmSync(profile, { recursive: true, force: true })
      if (error !== null && stdout === '') reject(error)
      else resolve(stdout)
    })
  })
}

for (const perMessageDeflate of [false, true]) {
  run(`Chromium talks to a wsflow server (permessage-deflate ${perMessageDeflate ? 'on' : 'off'})`, async () => {
    const closes: CloseInfo[] = []
    let release = (): void => undefined
    const released = new Promise<void>((resolve) => {
      release = resolve
      setTimeout(resolve, 20_000).unref()
    })
    const http = createServer((request, response) => {
      if (request.url === '/wait.js') {
        void released.then(() => response.writeHead(200, { 'content-type': 'text/javascript' }).end('// done\n'))
        return
      }
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      response.end(page)
    })
    const server = await serve({ server: http, path: '/echo', perMessageDeflate }, async (ws) => {
      for await (const message of ws) await ws.send(message)
      closes.push(await ws.closed)
      release()
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const port = (http.address() as { port: number }).port
    try {
      const dom = await chromiumDom(`http://127.0.0.1:${port}/`)
      const log = /<pre id="log">([\s\S]*?)<\/pre>/.exec(dom)?.[1] ?? ''
      if (process.env.WSFLOW_BROWSER_LOG) console.log(log)
      assert.match(log, perMessageDeflate ? 'open permessage-deflate' : 'open none')
      assert.match(log, 'echo big true')
      assert.match(log, 'echo small true')
      assert.match(log, 'echo bytes true')
      assert.match(log, 'closed 1000 true')
      assert.equal(closes, [{ code: 1000, reason: 'done', wasClean: true }])
    } finally {
      await server.close({ timeout: 500 })
      release()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    }
  })
}

test.run()
