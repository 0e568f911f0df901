// toWebStreams in Chromium over the browser client (the platform WebSocket and WebSocketStream),
// against the browser tests' wsflow server: 4 MiB written and echoed, read with pipeTo into a
// slow WritableStream, in order; a 4001 from the server errors a read and a write; aborting the
// writable with an error closes with 4011 (1011 as the browser client sends it). Skipped (with a
// message) without /usr/bin/chromium.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chromium, type Browser, type Page } from 'playwright-core'
import { browserMissing, bundle, CHROMIUM, modulePage, startTestServer, type TestServer } from './shared/server.ts'

const missing = browserMissing()
if (missing !== undefined) console.log(`  (Chromium rows of the stream pair's tests skipped: ${missing})`)
const inBrowser = missing === undefined ? test : test.skip

let server: TestServer | undefined
let browser: Browser | undefined
let page: Page | undefined

test.before(async () => {
  server = await startTestServer()
  if (missing !== undefined) return
  for (const [path, file] of await bundle({ streams: 'test/browser/streams-page.ts' })) server.addFile(path, file)
  server.addFile('/', { type: 'text/html; charset=utf-8', body: modulePage({ streams: '/bundle/streams.js' }) })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], timeout: 30_000 })
  page = await browser.newPage()
  page.setDefaultTimeout(60_000)
  await page.goto(server.origin + '/')
  await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true)
})

test.after(async () => {
  await browser?.close()
  await server?.close()
})

type PageApi = Record<string, (...args: never[]) => Promise<unknown>>
function call<T>(name: string, ...args: unknown[]): Promise<T> {
  return page!.evaluate(([n, a]) => ((globalThis as unknown as { streams: PageApi }).streams[n as string] as (...x: unknown[]) => Promise<unknown>)(...(a as unknown[])), [name, args] as const) as Promise<T>
}

let ids = 0
for (const webSocketStream of [false, true]) {
  const over = webSocketStream ? 'WebSocketStream' : 'WebSocket'
  inBrowser(`chromium over ${over}: 64 x 64 KiB written and echoed, pipeTo into a slow WritableStream, all in order`, async () => {
    const result = await call<{ received: number; inOrder: boolean; bytes: number }>('echoPipe', server!.wsUrl('/echo'), 64, 64 * 1024, { webSocketStream })
    assert.equal(result, { received: 64, inOrder: true, bytes: 64 * 64 * 1024 })
  })

  inBrowser(`chromium over ${over}: the server's 4001 errors a read and a write with closeCode 4001`, async () => {
    const result = await call<{ first: string; readError: number; writeError: number }>('closed4001', server!.wsUrl('/close-4001'), { webSocketStream })
    assert.equal(result, { first: 'before the close', readError: 4001, writeError: 4001 })
  })

  inBrowser(`chromium over ${over}: writable.abort(error) closes the connection with 4011 (a browser may not send 1011)`, async () => {
    const key = `s${++ids}`
    const report = await call<{ code: number }>('abortWithError', server!.wsUrl(`/echo?id=${key}`), server!.wsUrl(`/report?id=${key}`), { webSocketStream })
    assert.is(report.code, 4011)
  })
}

test.run()
