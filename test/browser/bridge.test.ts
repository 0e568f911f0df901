// A real browser through `wsflow bridge`: Debian's Chromium, headless, loads a page whose
// WebSocket goes to a `wsflow bridge ws-listen:0 tcp:…` subprocess in front of a TCP echo
// service; the page checks the echo byte for byte and closes; its log is read with --dump-dom.
// Skipped (with a message) where /usr/bin/chromium is not installed; .ci/run installs it.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnListening, tcpEcho } from '../cli/helpers.ts'

const CHROMIUM = '/usr/bin/chromium'
const run = existsSync(CHROMIUM) ? test : test.skip
if (!existsSync(CHROMIUM)) console.log('  (browser bridge test skipped: /usr/bin/chromium is not installed)')

const page = (url: string): string => `<!doctype html><html><body><pre id="log"></pre><script>
const log = (line) => { document.getElementById('log').textContent += line + '\\n' }
const text = 'hello tcp ✓'
const bytes = new Uint8Array(256).map((_, i) => i)
const expected = new Uint8Array([...new TextEncoder().encode(text), ...bytes])
const got = []
const ws = new WebSocket(${JSON.stringify(url)})
ws.binaryType = 'arraybuffer'
ws.onopen = () => { log('open'); ws.send(text); ws.send(bytes) }
ws.onmessage = (e) => {
  if (typeof e.data === 'string') { log('unexpected text'); return }
  got.push(...new Uint8Array(e.data))
  if (got.length >= expected.length) {
    log('echo ' + (got.length === expected.length && got.every((v, i) => v === expected[i])))
    ws.close(1000, 'done')
  }
}
ws.onclose = (e) => log('closed ' + e.code + ' ' + e.wasClean)
</script><script src="/wait.js"></script></body></html>`
// /wait.js is answered only once the bridge's TCP connection to the echo service has closed:
// until then the page has not loaded, and Chromium neither advances its virtual time nor dumps the DOM.

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

run('Chromium talks to a TCP echo service through wsflow bridge (text and bytes back as binary, close 1000)', async () => {
  const echo = await tcpEcho()
  const bridge = await spawnListening(['bridge', '-v', 'ws-listen:0', `tcp:127.0.0.1:${echo.port}`])
  let release = (): void => undefined
  const released = new Promise<void>((resolve) => {
    release = resolve
    setTimeout(resolve, 20_000).unref()
  })
  echo.server.on('connection', (socket) => socket.once('close', () => release()))
  const http = createServer((request, response) => {
    if (request.url === '/wait.js') {
      void released.then(() => response.writeHead(200, { 'content-type': 'text/javascript' }).end('// done\n'))
      return
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    response.end(page(bridge.address))
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  try {
    const dom = await chromiumDom(`http://127.0.0.1:${(http.address() as { port: number }).port}/`)
    const log = /<pre id="log">([\s\S]*?)<\/pre>/.exec(dom)?.[1] ?? ''
    assert.match(log, 'open')
    assert.match(log, 'echo true')
    assert.match(log, 'closed 1000 true')
    assert.not.match(log, 'unexpected')
    await bridge.cli.stderr.waitFor(/closed: 1000 "done"; 269 B to TCP, 269 B from TCP/)
  } finally {
    http.closeAllConnections()
    await new Promise<void>((resolve) => http.close(() => resolve()))
    assert.is(await bridge.cli.stop(), 0)
    await echo.close()
  }
})

test.run()
