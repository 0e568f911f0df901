// The behaviour suite shared by the Node and the browser clients (./shared/cases.ts): every case
// runs once with wsflow's Node client in Node, and twice in a Chromium page with the browser
// client, over the platform WebSocket and over WebSocketStream, against the same wsflow server.
// The browser rows are skipped (with a message) where /usr/bin/chromium is not installed.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chromium, type Browser, type Page } from 'playwright-core'
import { connect } from '../../src/index.ts'
import { CASES, type SuiteConnect } from './shared/cases.ts'
import { browserMissing, bundle, CHROMIUM, modulePage, startTestServer, type TestServer } from './shared/server.ts'

const missing = browserMissing()
if (missing !== undefined) console.log(`  (browser rows of the shared suite skipped: ${missing})`)

let server: TestServer | undefined
let browser: Browser | undefined
let page: Page | undefined

test.before(async () => {
  server = await startTestServer()
  if (missing !== undefined) return
  for (const [path, file] of await bundle({ suite: 'test/browser/shared/page.ts' })) server.addFile(path, file)
  server.addFile('/', { type: 'text/html; charset=utf-8', body: modulePage({ suite: '/bundle/suite.js' }) })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], timeout: 30_000 })
  page = await browser.newPage()
  page.setDefaultTimeout(30_000)
  await page.goto(server.origin + '/')
  await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true)
})

test.after(async () => {
  await browser?.close()
  await server?.close()
})

const nodeConnect = connect as unknown as SuiteConnect

for (const c of CASES) {
  test(`node: ${c.name}`, async () => {
    await c.run({ connect: nodeConnect, assert, url: (path) => server!.wsUrl(path) })
  })
}

for (const webSocketStream of [false, true]) {
  const api = webSocketStream ? 'WebSocketStream' : 'WebSocket'
  for (const c of CASES) {
    const run = missing === undefined ? test : test.skip
    run(`chromium over ${api}: ${c.name}`, async () => {
      const result = await page!.evaluate(
        ([name, base, stream]) => (globalThis as unknown as { suite: { runCase(n: string, b: string, o: object): Promise<string> } }).suite.runCase(name, base, { webSocketStream: stream }),
        [c.name, `ws://127.0.0.1:${server!.port}`, webSocketStream] as const,
      )
      assert.is(result, 'ok')
    })
  }
}

test.run()
