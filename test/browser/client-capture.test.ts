// The browser build of the core and the transforms, in Chromium: the package's own build
// (scripts/build-browser.mjs, into a temporary node_modules/wsflow laid out as the package is)
// is resolved through package.json's `browser` conditions by esbuild, and served to a page that
// decodes examples/capture.bin with decodeFrames and assembleMessages, fed in 7-byte chunks; the
// page reports the same messages and control frames as the same stages in Node. The page also
// checks that `wsflow`, `wsflow/core` and `wsflow/transforms` share one Message class.
// The Chromium row is skipped (with a message) where /usr/bin/chromium is not installed.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseClosePayload, type Frame } from '../../src/core/index.ts'
import { assembleMessages, decodeFrames } from '../../src/transforms/index.ts'
import { buildBrowser } from '../../scripts/build-browser.mjs'
import { browserMissing, CHROMIUM, startTestServer } from './shared/server.ts'

const missing = browserMissing()
if (missing !== undefined) console.log(`  (Chromium row of the capture test skipped: ${missing})`)
const root = fileURLToPath(new URL('../../', import.meta.url))
const capture = new Uint8Array(readFileSync(join(root, 'examples/capture.bin')))

/** The capture decoded as lines: what examples/decode-capture.ts prints, one line per message or control frame. */
async function decodeInNode(bytes: Uint8Array, chunk: number): Promise<string[]> {
  const lines: string[] = []
  const onControlFrame = (frame: Frame): void => {
    if (frame.opcode === 0x8) {
      const { code, reason } = parseClosePayload(frame.payload)
      lines.push(`close ${code} ${JSON.stringify(reason)}`)
    } else lines.push(`${frame.opcode === 0x9 ? 'ping' : 'pong'} ${new TextDecoder().decode(frame.payload)}`)
  }
  // The decoder unmasks payloads in place (zero-copy views): each run gets a copy of its own.
  const own = new Uint8Array(bytes)
  async function* source(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < own.length; i += chunk) yield own.subarray(i, i + chunk)
  }
  for await (const message of assembleMessages({ onControlFrame })(decodeFrames()(source()))) {
    lines.push(message.type === 'text' ? `text ${JSON.stringify(message.text())}` : `binary ${[...message.data].join(',')}`)
  }
  return lines
}

// The same, as the page runs it (plain JavaScript in a module script, over the browser build).
const page = `<!doctype html><html><head><meta charset="utf-8"></head><body><script type="module">
import { parseClosePayload, Message as CoreMessage } from '/node_modules/wsflow/dist/browser/core.js'
import { assembleMessages, decodeFrames } from '/node_modules/wsflow/dist/browser/transforms.js'
import { Message } from '/node_modules/wsflow/dist/browser/wsflow.js'
window.decodeCapture = async (chunk) => {
  const bytes = new Uint8Array(await (await fetch('/capture.bin')).arrayBuffer())
  const lines = []
  const onControlFrame = (frame) => {
    if (frame.opcode === 0x8) {
      const { code, reason } = parseClosePayload(frame.payload)
      lines.push('close ' + code + ' ' + JSON.stringify(reason))
    } else lines.push((frame.opcode === 0x9 ? 'ping' : 'pong') + ' ' + new TextDecoder().decode(frame.payload))
  }
  async function* source() {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.slice(i, i + chunk)
  }
  for await (const message of assembleMessages({ onControlFrame })(decodeFrames()(source()))) {
    lines.push(message.type === 'text' ? 'text ' + JSON.stringify(message.text()) : 'binary ' + [...message.data].join(','))
  }
  return { lines, oneMessageClass: Message === CoreMessage, isMessage: lines.length > 0 }
}
window.ready = true
</script></body></html>`

let dir = ''

test.before(async () => {
  // A node_modules/wsflow as the package is laid out: its package.json and dist/browser (the real build).
  dir = mkdtempSync(join(tmpdir(), 'wsflow-browser-build-'))
  const pkg = join(dir, 'node_modules/wsflow')
  mkdirSync(pkg, { recursive: true })
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'))
  await buildBrowser(join(pkg, 'dist/browser'))
})

test.after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

test("bundlers resolve wsflow, wsflow/core and wsflow/transforms to the browser build through the exports' browser conditions", async () => {
  const result = await build({
    stdin: { contents: "export { connect } from 'wsflow'\nexport { decodeFrames } from 'wsflow/transforms'\nexport { Message } from 'wsflow/core'\nexport { connect as browserConnect } from 'wsflow/browser'\n", resolveDir: dir, loader: 'js' },
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    metafile: true,
    logLevel: 'silent',
  })
  const inputs = Object.keys(result.metafile.inputs).map((p) => p.replace(/^.*node_modules\/wsflow\//, ''))
  for (const file of ['dist/browser/wsflow.js', 'dist/browser/core.js', 'dist/browser/transforms.js']) assert.ok(inputs.includes(file), `${file} is resolved (${inputs.join(', ')})`)
  assert.ok(!inputs.some((p) => p.startsWith('dist/index') || p.startsWith('dist/core/')), 'nothing of the Node build')
  // wsflow/browser names the same file under any conditions (a page, or Node with a global WebSocket).
  const plain = await build({ stdin: { contents: "export { connect } from 'wsflow/browser'", resolveDir: dir, loader: 'js' }, bundle: true, write: false, platform: 'neutral', format: 'esm', metafile: true, logLevel: 'silent' })
  assert.ok(Object.keys(plain.metafile.inputs).some((p) => p.endsWith('node_modules/wsflow/dist/browser/wsflow.js')), 'wsflow/browser without the browser condition')
  // The declarations named by the browser conditions are what tsc emits for those entries.
  const exportsMap = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports as Record<string, { browser: { types: string; default: string } }>
  assert.is(exportsMap['.']!.browser.types, './dist/browser/index.d.ts')
  assert.equal(Object.keys(exportsMap['.']!)[0], 'browser', 'browser comes before types/import, so that bundlers pick it')
  assert.ok(readdirSync(join(dir, 'node_modules/wsflow/dist/browser')).some((f) => f.startsWith('chunk-')), 'shared chunks (one copy of each class)')
})

;(missing === undefined ? test : test.skip)('chromium: the browser build of core and transforms decodes the capture as Node does', async () => {
  const server = await startTestServer()
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], timeout: 30_000 })
  try {
    const built = join(dir, 'node_modules/wsflow/dist/browser')
    for (const file of readdirSync(built)) {
      if (file.endsWith('.js')) server.addFile(`/node_modules/wsflow/dist/browser/${file}`, { type: 'text/javascript', body: readFileSync(join(built, file)) })
    }
    server.addFile('/capture.bin', { type: 'application/octet-stream', body: new Uint8Array(capture) })
    server.addFile('/', { type: 'text/html; charset=utf-8', body: page })
    const tab = await browser.newPage()
    tab.setDefaultTimeout(30_000)
    await tab.goto(server.origin + '/')
    await tab.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true)
    for (const chunk of [7, 1, capture.length]) {
      const inPage = await tab.evaluate((c) => (globalThis as unknown as { decodeCapture(c: number): Promise<{ lines: string[]; oneMessageClass: boolean }> }).decodeCapture(c), chunk)
      const inNode = await decodeInNode(capture, chunk)
      assert.equal(inPage.lines, inNode, `chunks of ${chunk} bytes`)
      assert.ok(inPage.oneMessageClass, 'wsflow and wsflow/core share one Message class')
    }
    const expected = await decodeInNode(capture, capture.length)
    assert.equal(expected.map((line) => line.split(' ')[0]), ['text', 'ping', 'text', 'binary', 'close'])
    assert.is(expected[2], 'text "fragmented: ünïcödé ✓ across frames"')
  } finally {
    await browser.close()
    await server.close()
  }
})

test.run()
