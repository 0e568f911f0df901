// The behaviour suite that the Node client and the browser client both run: each case is a plain
// async function of a `connect`, an `assert` and the test server's URLs, so the same list runs in
// Node (test/browser/client-shared.test.ts) and, bundled by esbuild, in a Chromium page. Nothing
// here imports Node's modules; the server's side of each case is in ./server.ts, by path.

/** The little of a message the cases read. */
export interface SuiteMessage {
  readonly type: 'text' | 'binary'
  readonly data: Uint8Array
  text(): string
}

/** How a connection ended. */
export interface SuiteCloseInfo {
  code: number
  reason: string
  wasClean: boolean
}

/** The connection's API as the cases use it: the shape both clients have. */
export interface SuiteSocket extends AsyncIterable<SuiteMessage> {
  readonly url: string
  readonly protocol: string
  readonly readyState: string
  readonly closed: Promise<SuiteCloseInfo>
  readonly source: AsyncIterable<SuiteMessage>
  readonly sink: (source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>) => Promise<void>
  send(data: string | Uint8Array | SuiteMessage): Promise<void>
  recv(options?: { timeout?: number | undefined }): Promise<SuiteMessage>
  close(code?: number, reason?: string): Promise<SuiteCloseInfo>
}

/** A connect function: wsflow's Node client or its browser client. */
export type SuiteConnect = (url: string, options?: { protocols?: string[]; signal?: AbortSignal; handshakeTimeout?: number }) => Promise<SuiteSocket>

/** The assertions the cases use (uvu/assert has them, in Node and bundled in the page). */
export interface SuiteAssert {
  ok(value: unknown, message?: string): void
  is(actual: unknown, expected: unknown, message?: string): void
  equal(actual: unknown, expected: unknown, message?: string): void
  unreachable(message?: string): void
}

/** What a case gets. */
export interface SuiteContext {
  readonly connect: SuiteConnect
  readonly assert: SuiteAssert
  /** The ws:// URL of a path of the test server (see ./server.ts for what each path does). */
  url(path: string): string
}

/** One case of the suite. */
export interface SuiteCase {
  readonly name: string
  run(t: SuiteContext): Promise<void>
}

interface CodedError {
  code?: string
  closeCode?: number
  reason?: string
  wasClean?: boolean
  name?: string
}

/** Awaits `promise`, which must reject; returns the error. */
async function rejection(assert: SuiteAssert, promise: Promise<unknown>, what: string): Promise<CodedError> {
  try {
    await promise
  } catch (error) {
    return error as CodedError
  }
  assert.unreachable(`${what} should have rejected`)
  return {}
}

function bytes(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff
  return out
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** A unique id for a case's server-side report. */
function id(): string {
  return Math.random().toString(36).slice(2, 10)
}

/** What the server saw of connection `key` (./server.ts, /report): its close, as JSON. */
async function serverReport(t: SuiteContext, key: string): Promise<SuiteCloseInfo & { messages: number }> {
  const ws = await t.connect(t.url(`/report?id=${key}`))
  const message = await ws.recv({ timeout: 5000 })
  await ws.close()
  return JSON.parse(message.text()) as SuiteCloseInfo & { messages: number }
}

/** The cases, in order. */
export const CASES: readonly SuiteCase[] = [
  {
    name: 'text and binary are echoed and kept apart',
    async run(t) {
      const ws = await t.connect(t.url('/echo'))
      const binary = bytes(256)
      await ws.send('hello ✓')
      await ws.send(binary)
      await ws.send(new Uint8Array(0))
      await ws.send('')
      const got: SuiteMessage[] = []
      for (let i = 0; i < 4; i++) got.push(await ws.recv({ timeout: 5000 }))
      t.assert.equal(got.map((m) => m.type), ['text', 'binary', 'binary', 'text'])
      t.assert.is(got[0]!.text(), 'hello ✓')
      t.assert.ok(sameBytes(got[1]!.data, binary), 'binary echoed byte for byte')
      t.assert.is(got[2]!.data.length, 0)
      t.assert.is(got[3]!.text(), '')
      await ws.close()
    },
  },
  {
    name: 'a received message is sent back as its type',
    async run(t) {
      const ws = await t.connect(t.url('/echo'))
      await ws.send('text message')
      await ws.send(bytes(10, 7))
      const text = await ws.recv({ timeout: 5000 })
      const binary = await ws.recv({ timeout: 5000 })
      await ws.send(text)
      await ws.send(binary)
      const again = [await ws.recv({ timeout: 5000 }), await ws.recv({ timeout: 5000 })]
      t.assert.equal(again.map((m) => m.type), ['text', 'binary'])
      t.assert.is(again[0]!.text(), 'text message')
      t.assert.ok(sameBytes(again[1]!.data, bytes(10, 7)))
      await ws.close()
    },
  },
  {
    name: 'large messages: 4 MiB binary and 1 MiB of text',
    async run(t) {
      const ws = await t.connect(t.url('/echo'))
      const big = bytes(4 * 1024 * 1024, 3)
      const text = 'wsflow ✓ '.repeat(116_509) // about 1 MiB of UTF-8
      await ws.send(big)
      await ws.send(text)
      const first = await ws.recv({ timeout: 20_000 })
      const second = await ws.recv({ timeout: 20_000 })
      t.assert.is(first.type, 'binary')
      t.assert.ok(sameBytes(first.data, big), '4 MiB echoed byte for byte')
      t.assert.is(second.type, 'text')
      t.assert.ok(second.text() === text, '1 MiB of text echoed')
      await ws.close()
    },
  },
  {
    name: "the client closes with 4000 'bye': the loop ends, both sides see 4000",
    async run(t) {
      const key = id()
      const ws = await t.connect(t.url(`/echo?id=${key}`))
      await ws.send('last')
      const seen: string[] = []
      for await (const message of ws) {
        seen.push(message.text())
        void ws.close(4000, 'bye')
      }
      t.assert.equal(seen, ['last'])
      t.assert.equal(await ws.closed, { code: 4000, reason: 'bye', wasClean: true })
      t.assert.is(ws.readyState, 'closed')
      const report = await serverReport(t, key)
      t.assert.equal({ code: report.code, reason: report.reason, wasClean: report.wasClean }, { code: 4000, reason: 'bye', wasClean: true })
    },
  },
  {
    name: 'the server closes with 4001: the loop throws ConnectionClosedError with the code and reason',
    async run(t) {
      const ws = await t.connect(t.url('/close-4001'))
      const seen: string[] = []
      let error: CodedError | undefined
      try {
        for await (const message of ws) seen.push(message.text())
      } catch (e) {
        error = e as CodedError
      }
      t.assert.equal(seen, ['before the close'], 'the message before the close is delivered')
      t.assert.ok(error !== undefined, 'the loop threw')
      t.assert.is(error!.code, 'WS_ERR_CONNECTION_CLOSED')
      t.assert.is(error!.name, 'ConnectionClosedError')
      t.assert.is(error!.closeCode, 4001)
      t.assert.is(error!.reason, 'server says bye')
      t.assert.equal(await ws.closed, { code: 4001, reason: 'server says bye', wasClean: true })
    },
  },
  {
    name: 'the server closes with 1000: the loop ends after the messages before it; recv then rejects',
    async run(t) {
      const ws = await t.connect(t.url('/close-1000'))
      const seen: string[] = []
      for await (const message of ws) seen.push(message.text())
      t.assert.equal(seen, ['one', 'two'])
      t.assert.equal(await ws.closed, { code: 1000, reason: 'done', wasClean: true })
      const error = await rejection(t.assert, ws.recv(), 'recv after a clean close')
      t.assert.is(error.code, 'WS_ERR_CONNECTION_CLOSED')
      t.assert.is(error.wasClean, true)
      const sent = await rejection(t.assert, ws.send('late'), 'send after the close')
      t.assert.is(sent.code, 'WS_ERR_CONNECTION_CLOSED')
    },
  },
  {
    name: 'the server drops the connection: the loop throws ConnectionClosedError 1006',
    async run(t) {
      const ws = await t.connect(t.url('/terminate'))
      let error: CodedError | undefined
      const seen: string[] = []
      try {
        for await (const message of ws) seen.push(message.text())
      } catch (e) {
        error = e as CodedError
      }
      t.assert.equal(seen, ['about to drop'])
      t.assert.is(error?.code, 'WS_ERR_CONNECTION_CLOSED')
      t.assert.is(error?.closeCode, 1006)
      t.assert.is(error?.wasClean, false)
      const info = await ws.closed
      t.assert.is(info.code, 1006)
      t.assert.is(info.wasClean, false)
    },
  },
  {
    name: 'messages sent by the server at once are all read; leaving a loop early loses nothing',
    async run(t) {
      const ws = await t.connect(t.url('/greet'))
      const seen: string[] = []
      for await (const message of ws) {
        seen.push(message.text())
        if (seen.length === 2) break
      }
      for await (const message of ws) {
        seen.push(message.text())
        if (seen.length === 5) break
      }
      t.assert.equal(seen, ['greeting 1', 'greeting 2', 'greeting 3', 'greeting 4', 'greeting 5'])
      await ws.close()
    },
  },
  {
    name: 'sink sends every item and closes with 1000; source yields the echoes and ends',
    async run(t) {
      const key = id()
      const ws = await t.connect(t.url(`/echo?id=${key}`))
      const echoed: string[] = []
      let allEchoed = (): void => undefined
      const echoes = new Promise<void>((resolve) => {
        allEchoed = resolve
      })
      const reading = (async () => {
        for await (const message of ws.source) {
          echoed.push(message.text())
          if (echoed.length === 3) allEchoed()
        }
      })()
      // The source ends once the echoes are in: a browser drops what arrives after its close()
      // (WHATWG WebSockets: a message received while CLOSING is discarded); Node would deliver it.
      async function* items(): AsyncGenerator<string> {
        yield* ['a', 'b', 'c']
        await echoes
      }
      await ws.sink(items())
      await reading
      t.assert.equal(echoed, ['a', 'b', 'c'])
      t.assert.equal(await ws.closed, { code: 1000, reason: '', wasClean: true })
      const report = await serverReport(t, key)
      t.assert.is(report.messages, 3)
      t.assert.is(report.code, 1000)
    },
  },
  {
    name: 'the subprotocol the server chose is ws.protocol; ws.url is the URL connected to',
    async run(t) {
      const ws = await t.connect(t.url('/echo?room=1'), { protocols: ['chat.v3', 'chat.v1'] })
      t.assert.is(ws.protocol, 'chat.v1')
      t.assert.is(ws.url, t.url('/echo?room=1'))
      await ws.close()
      const none = await t.connect(t.url('/echo'))
      t.assert.is(none.protocol, '')
      await none.close()
    },
  },
  {
    name: 'a close code that may not be sent is an InvalidArgumentError, and the connection stays open',
    async run(t) {
      const ws = await t.connect(t.url('/echo'))
      const error = await rejection(t.assert, ws.close(1005), 'close(1005)')
      t.assert.is(error.code, 'WS_ERR_INVALID_ARGUMENT')
      t.assert.is(ws.readyState, 'open')
      await ws.send('still open')
      t.assert.is((await ws.recv({ timeout: 5000 })).text(), 'still open')
      await ws.close()
    },
  },
  {
    name: 'a subprotocol that is not a token, or offered twice, is an InvalidArgumentError before anything is sent',
    async run(t) {
      for (const protocols of [['chat v1'], ['chat.v1', 'chat.v1'], ['']]) {
        const error = await rejection(t.assert, t.connect(t.url('/echo'), { protocols }), `protocols ${JSON.stringify(protocols)}`)
        t.assert.is(error.code, 'WS_ERR_INVALID_ARGUMENT', JSON.stringify(protocols))
      }
    },
  },
  {
    name: 'a refused handshake rejects with a HandshakeError',
    async run(t) {
      const error = await rejection(t.assert, t.connect(t.url('/no-such-path')), 'connect to a path the server refuses')
      t.assert.is(error.code, 'WS_ERR_HANDSHAKE')
      t.assert.is(error.name, 'HandshakeError')
    },
  },
  {
    name: 'a handshake the server does not answer rejects after handshakeTimeout (WS_ERR_HANDSHAKE_TIMEOUT, status 0)',
    async run(t) {
      const error = await rejection(t.assert, t.connect(t.url('/hang'), { handshakeTimeout: 200 }), 'connect to a server that never answers')
      t.assert.is(error.name, 'HandshakeError')
      t.assert.is(error.code, 'WS_ERR_HANDSHAKE_TIMEOUT')
      t.assert.is((error as { status?: number }).status, 0)
    },
  },
  {
    name: 'aborting connect rejects with an AbortError whose cause is the reason, before and while connecting',
    async run(t) {
      const reason = new Error('the user left')
      const before = await rejection(t.assert, t.connect(t.url('/echo'), { signal: AbortSignal.abort(reason) }), 'connect with an aborted signal')
      t.assert.is(before.code, 'WS_ERR_ABORTED')
      t.assert.is((before as { cause?: unknown }).cause, reason)
      const controller = new AbortController()
      const connecting = t.connect(t.url('/hang'), { signal: controller.signal })
      controller.abort(reason)
      const during = await rejection(t.assert, connecting, 'connect aborted while connecting')
      t.assert.is(during.name, 'AbortError')
      t.assert.is((during as { cause?: unknown }).cause, reason)
    },
  },
  {
    name: 'recv with a timeout rejects with a TimeoutError and keeps the message that comes later',
    async run(t) {
      const ws = await t.connect(t.url('/echo'))
      const error = await rejection(t.assert, ws.recv({ timeout: 20 }), 'recv with nothing to read')
      t.assert.is(error.code, 'WS_ERR_TIMEOUT')
      await ws.send('later')
      t.assert.is((await ws.recv({ timeout: 5000 })).text(), 'later')
      await ws.close()
    },
  },
]
