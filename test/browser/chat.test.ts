/**
 * The chat example (examples/chat) in a real browser: Debian's Chromium driven by playwright-core
 * (which downloads no browser). Two pages connected to two different chat server processes
 * sharing one real redis-server, and two pages on two node:cluster workers of one chat: each page
 * sees the other in the room's members, and both see every message of both, in each sender's
 * order. Skips with a printed reason if Chromium (or, for the first, redis-server) is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chromium, type Browser, type Page } from 'playwright-core'
import { redisSkipReason, startRedis } from '../helpers/redis-server.ts'

const CHROMIUM = '/usr/bin/chromium'
const SERVER = fileURLToPath(new URL('../../examples/chat/server.ts', import.meta.url))
const chromiumSkipReason = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (.ci/run installs Debian's chromium)`
const WAIT = 15_000

/** A chat server process (the example's own command line), its output read line by line. */
class ChatProcess {
  readonly lines: string[] = []
  readonly #child: ChildProcess
  readonly #waiters = new Set<() => void>()

  constructor(args: string[]) {
    this.#child = spawn(process.execPath, ['--import', 'tsx', SERVER, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let buffered = ''
    const onData = (chunk: string): void => {
      buffered += chunk
      const parts = buffered.split('\n')
      buffered = parts.pop() ?? ''
      this.lines.push(...parts)
      for (const waiter of [...this.#waiters]) waiter()
    }
    this.#child.stdout?.setEncoding('utf8').on('data', onData)
    this.#child.stderr?.setEncoding('utf8').on('data', onData)
    this.#child.once('exit', () => {
      for (const waiter of [...this.#waiters]) waiter()
    })
  }

  /** The nodes listening ({ node, port, pid }), from the `chat <node> listening on …` lines. */
  listening(): Array<{ node: string; port: number; pid: number }> {
    const out = []
    for (const line of this.lines) {
      const match = /^chat (\S+?)(?:-(\d+))? listening on http:\/\/[^:]+:(\d+)\//.exec(line)
      if (match !== null) out.push({ node: match[1]! + (match[2] ? `-${match[2]}` : ''), port: Number(match[3]), pid: Number(match[2]) })
    }
    return out
  }

  until(condition: () => boolean, what: string): Promise<void> {
    if (condition()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (condition()) done()
        else if (this.#child.exitCode !== null) done(new Error(`the chat exited waiting for ${what}:\n${this.lines.join('\n')}`))
      }
      const done = (error?: Error): void => {
        clearTimeout(timer)
        this.#waiters.delete(check)
        if (error) reject(error)
        else resolve()
      }
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}:\n${this.lines.join('\n')}`)), 30_000)
      this.#waiters.add(check)
    })
  }

  /** Ends it by PID (SIGTERM: a cluster primary then stops its workers), SIGKILL if it has not exited in 5 s; then any worker still alive, by PID. */
  async stop(): Promise<void> {
    const child = this.#child
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      process.kill(child.pid, 'SIGTERM')
      const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
    for (const { pid } of this.listening()) {
      if (pid > 0 && pid !== child.pid && alive(pid)) process.kill(pid, 'SIGKILL')
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function openChat(browser: Browser, port: number): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  await page.goto(`http://127.0.0.1:${port}/`)
  await connected(page)
  return page
}

async function join(page: Page, nick: string, room: string): Promise<void> {
  await page.fill('#nick', nick)
  await page.click('#hello button')
  await page.fill('#room', room)
  await page.click('#join button')
}

// The page's code is given as strings: this file is compiled without the DOM's types.
async function connected(page: Page): Promise<void> {
  await page.waitForFunction("document.getElementById('status').dataset.node", null, { timeout: WAIT })
}

async function nodeOf(page: Page): Promise<string> {
  return page.evaluate("document.getElementById('status').dataset.node || ''")
}

async function members(page: Page, expected: string[]): Promise<void> {
  await page.waitForFunction(`[...document.querySelectorAll('#member-list li')].map((li) => li.textContent).join(',') === ${JSON.stringify(expected.join(','))}`, null, { timeout: WAIT })
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text', text)
  await page.press('#text', 'Enter')
}

async function messages(page: Page, count: number): Promise<Array<[string, string]>> {
  await page.waitForFunction(`document.querySelectorAll('#messages li.message').length >= ${count}`, null, { timeout: WAIT })
  return page.evaluate("[...document.querySelectorAll('#messages li.message')].map((li) => [li.dataset.nick, li.dataset.text])")
}

/** Both pages in `room`, each sees both; five messages each, interleaved; both see all ten in each sender's order. */
async function converse(a: Page, b: Page): Promise<void> {
  await join(a, 'alice', 'lobby')
  await join(b, 'bob', 'lobby')
  await members(a, ['alice', 'bob'])
  await members(b, ['alice', 'bob'])
  for (let i = 1; i <= 5; i++) {
    await say(a, `a${i}`)
    await say(b, `b${i}`)
  }
  for (const page of [a, b]) {
    const got = await messages(page, 10)
    assert.is(got.length, 10)
    assert.equal(got.filter(([nick]) => nick === 'alice').map(([, text]) => text), ['a1', 'a2', 'a3', 'a4', 'a5'])
    assert.equal(got.filter(([nick]) => nick === 'bob').map(([, text]) => text), ['b1', 'b2', 'b3', 'b4', 'b5'])
  }
}

if (chromiumSkipReason !== undefined || redisSkipReason !== undefined) {
  test('chat across two processes over Redis (skipped)', () => console.log(`skipped: ${chromiumSkipReason ?? redisSkipReason}`))
} else {
  test('chat: two pages on two processes sharing Redis see each other and every message in order', async () => {
    const redis = await startRedis()
    const chats = [new ChatProcess(['--redis', redis.url]), new ChatProcess(['--redis', redis.url])]
    let browser: Browser | undefined = undefined
    try {
      for (const chat of chats) await chat.until(() => chat.listening().length === 1, 'the chat to listen')
      const [one, two] = chats.map((chat) => chat.listening()[0]!)
      assert.is.not(one!.port, two!.port)
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] })
      const a = await openChat(browser, one!.port)
      const b = await openChat(browser, two!.port)
      assert.is.not(await nodeOf(a), await nodeOf(b))
      await converse(a, b)
    } finally {
      await browser?.close()
      await Promise.all(chats.map((chat) => chat.stop()))
      await redis.stop()
    }
  })
}

if (chromiumSkipReason !== undefined) {
  test('chat on node:cluster workers (skipped)', () => console.log(`skipped: ${chromiumSkipReason}`))
} else {
  test('chat: two pages on two node:cluster workers see each other and every message in order', async () => {
    const chat = new ChatProcess(['--workers', '2'])
    let browser: Browser | undefined = undefined
    try {
      await chat.until(() => chat.listening().length === 2, 'two workers to listen')
      const [w1, w2] = chat.listening()
      assert.is(w1!.port, w2!.port, 'the workers share one port')
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] })
      const a = await openChat(browser, w1!.port)
      const b = await openChat(browser, w1!.port)
      // The primary hands connections to the workers in turn (the page's HTTP request is one too):
      // until b's WebSocket is on the other worker, close it and let the page reconnect (bounded).
      for (let attempt = 0; attempt < 10 && (await nodeOf(b)) === (await nodeOf(a)); attempt++) {
        await b.evaluate("new Promise((resolve) => { ws.addEventListener('close', resolve); ws.close() })")
        await connected(b)
      }
      assert.is.not(await nodeOf(a), await nodeOf(b), 'the pages are on two workers')
      await converse(a, b)
    } finally {
      await browser?.close()
      await chat.stop()
    }
  })
}

test.run()
