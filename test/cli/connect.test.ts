// `wsflow connect` as a subprocess, piped, against a `ws` server and a python `websockets` server:
// lines and bytes both ways, flags that reach the server, single exchanges, reconnection, pings,
// and each kind of failure as one line on stderr with its exit code.
import { randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocketServer, type WebSocket as WsSocket } from 'ws'
import type { IncomingMessage } from 'node:http'
import { within } from '../helpers/timing.ts'
import { Output, PYTHON_WEBSOCKETS, runCli, spawnCli, waitForBytes } from './helpers.ts'

/** A `ws` server on 127.0.0.1:0; `onConnection` defaults to an echo. */
async function wsServer(
  onConnection: (ws: WsSocket, request: IncomingMessage) => void = (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
  options: ConstructorParameters<typeof WebSocketServer>[0] = {},
): Promise<{ url: string; server: WebSocketServer; requests: IncomingMessage[]; close(): Promise<void> }> {
  const requests: IncomingMessage[] = []
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options })
  server.on('connection', (ws, request) => {
    requests.push(request)
    onConnection(ws, request)
  })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
  const close = (): Promise<void> => {
    for (const client of server.clients) client.terminate()
    return within(new Promise<void>((resolve) => server.close(() => resolve())), 3000, 'ws server close')
  }
  return { url, server, requests, close }
}

/** The stderr lines that name a failure (not the status lines "connected"/"closed: 1000"). */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !/^wsflow: connected to /.test(line))
}

test('lines on stdin become text messages and each message a stdout line (ws server); exit 0 after a clean close', async () => {
  const peer = await wsServer()
  try {
    const result = await runCli(['connect', peer.url], 'one\ntwo words\nthree ✓\n')
    assert.is(result.stdout, 'one\ntwo words\nthree ✓\n')
    assert.is(result.code, 0, result.stderr)
    assert.match(result.stderr, /closed: 1000/)
  } finally {
    await peer.close()
  }
})

test('--binary carries raw bytes both ways (256 KiB of random bytes echoed by ws)', async () => {
  const received: Buffer[] = []
  const peer = await wsServer((ws) => ws.on('message', (data, isBinary) => {
    assert.ok(isBinary, 'a binary message')
    received.push(data as Buffer)
    ws.send(data, { binary: true })
  }))
  try {
    const input = randomBytes(256 * 1024)
    const cli = spawnCli(['connect', '--binary', '-q', peer.url])
    // The echo must be complete before stdin ends: at stdin's end the connection is closed.
    cli.child.stdin.write(input)
    await waitForBytes(cli, input.length)
    cli.child.stdin.end()
    assert.is(await cli.exit(), 0, cli.stderr.text)
    assert.ok(Buffer.concat(cli.bytes).equals(input), 'stdout holds exactly the bytes sent')
    assert.ok(Buffer.concat(received).equals(input), 'the server received exactly the bytes of stdin')
    assert.is(cli.stderr.text, '', '-q prints nothing on a clean close')
  } finally {
    await peer.close()
  }
})

test('-H, -s and --origin reach the server; --execute prints the reply and closes', async () => {
  const peer = await wsServer((ws, request) => ws.send(`protocol=${ws.protocol} x-test=${String(request.headers['x-test'])} origin=${String(request.headers.origin)}`), {
    handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false),
  })
  try {
    const result = await runCli(['connect', '-H', 'X-Test: yes it is', '-s', 'chat.v1', '-s', 'chat.v2', '--origin', 'http://example.test', '-x', 'hi', peer.url])
    assert.is(result.stdout, 'protocol=chat.v2 x-test=yes it is origin=http://example.test\n')
    assert.is(result.code, 0, result.stderr)
    assert.match(result.stderr, /subprotocol chat\.v2/)
  } finally {
    await peer.close()
  }
})

test('stdin is read only once connected: lines written before a slow handshake completes all arrive', async () => {
  const lines: string[] = []
  const peer = await wsServer((ws) => ws.on('message', (data) => {
    lines.push(String(data))
    ws.send(data)
  }), { verifyClient: (_info, done) => void setTimeout(() => done(true), 400) })
  try {
    const result = await runCli(['connect', peer.url], 'early 1\nearly 2\n')
    assert.equal(lines, ['early 1', 'early 2'])
    assert.is(result.stdout, 'early 1\nearly 2\n')
    assert.is(result.code, 0, result.stderr)
  } finally {
    await peer.close()
  }
})

test('--once exits after the first message; --wait keeps printing for that long after stdin ends', async () => {
  const peer = await wsServer((ws) => {
    ws.send('first')
    ws.send('second')
  })
  try {
    const once = spawnCli(['connect', '--once', peer.url]) // stdin left open: --once alone ends it
    assert.is(await once.exit(), 0, once.stderr.text)
    assert.is(once.stdout.text, 'first\n')
    once.child.stdin.destroy()
    const waiting = await runCli(['connect', '-w', '300ms', peer.url], '')
    assert.is(waiting.stdout, 'first\nsecond\n')
    assert.is(waiting.code, 0, waiting.stderr)
  } finally {
    await peer.close()
  }
})

test('a close with a code other than 1000/1001 exits 1 and names the code and reason', async () => {
  const peer = await wsServer((ws) => ws.close(4001, 'go away now'))
  try {
    const cli = spawnCli(['connect', peer.url])
    assert.is(await cli.exit(), 1)
    cli.child.stdin.destroy()
    const lines = errorLines(cli.stderr.text)
    assert.is(lines.length, 1, cli.stderr.text)
    assert.match(lines[0]!, /4001/)
    assert.match(lines[0]!, /go away now/)
  } finally {
    await peer.close()
  }
})

test('a server that cuts the TCP connection mid-stream: exit 1, 1006 on stderr, what came before printed', async () => {
  const peer = await wsServer((ws) => {
    ws.send('before the cut')
    ws.once('message', () => ws.terminate())
  })
  try {
    const cli = spawnCli(['connect', peer.url])
    await cli.stdout.waitFor(/before the cut/)
    cli.child.stdin.write('now\n')
    assert.is(await cli.exit(), 1)
    cli.child.stdin.destroy()
    const lines = errorLines(cli.stderr.text)
    assert.is(lines.length, 1, cli.stderr.text)
    assert.match(lines[0]!, /1006/)
  } finally {
    await peer.close()
  }
})

test('failures before the connection: each one line on stderr and its exit code', async () => {
  // A port with nothing listening: the port of a server just closed.
  const closed = await wsServer()
  const deadUrl = closed.url
  await closed.close()
  const refused = await wsServer(undefined, { verifyClient: (_info, done) => done(false, 403, 'Forbidden') })
  const http = createHttpServer((_request, response) => response.end('just a web page\n'))
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const httpUrl = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`
  try {
    const cases: [string[], number, RegExp][] = [
      [['connect', deadUrl], 1, /ECONNREFUSED/],
      [['connect', refused.url], 1, /HTTP 403/],
      [['connect', httpUrl], 1, /HTTP 200/],
      [['connect', 'not a url'], 2, /not a URL/],
      [['connect', 'ftp://127.0.0.1/'], 2, /unsupported URL scheme ftp:/],
      [['connect', '--bogus', deadUrl], 2, /Unknown option '--bogus'/],
      [['connect'], 2, /needs a URL/],
      [['connect', '--max-message-size', 'lots', deadUrl], 2, /not a size/],
      [['frobnicate'], 2, /unknown command/],
    ]
    for (const [args, code, pattern] of cases) {
      const result = await runCli(args)
      assert.is(result.code, code, `${args.join(' ')}: ${result.stderr}`)
      const lines = result.stderr.split('\n').filter((line) => line !== '')
      assert.is(lines.length, 1, `${args.join(' ')}: one line, got ${JSON.stringify(result.stderr)}`)
      assert.match(lines[0]!, pattern, args.join(' '))
      assert.match(lines[0]!, /^wsflow: /)
    }
  } finally {
    await refused.close()
    http.closeAllConnections()
    await new Promise<void>((resolve) => http.close(() => resolve()))
  }
})

test('--reconnect: a connection closed by the server is made again (with backoff) and stdin goes on', async () => {
  let connections = 0
  const peer = await wsServer((ws) => {
    connections++
    if (connections === 1) ws.close(1012, 'restarting')
    else ws.on('message', (data) => ws.send(`echo ${String(data)}`))
  })
  try {
    const cli = spawnCli(['connect', '--reconnect', '--max-reconnects', '3', peer.url])
    await cli.stderr.waitFor(/reconnecting in \d+ ms/)
    await cli.stderr.waitFor(/connected to [\s\S]*connected to /)
    cli.child.stdin.write('after\n')
    await cli.stdout.waitFor(/echo after\n/)
    cli.child.stdin.end()
    assert.is(await cli.exit(), 0, cli.stderr.text)
    assert.is(connections, 2)
    assert.match(cli.stderr.text, /1012/)
  } finally {
    await peer.close()
  }
})

test('--reconnect: a server not up yet is retried with backoff until it is', async () => {
  const first = await wsServer()
  const url = first.url
  await first.close() // its port is free now, and nothing listens there
  const cli = spawnCli(['connect', '--reconnect', url])
  let peer: Awaited<ReturnType<typeof wsServer>> | undefined
  try {
    await cli.stderr.waitFor(/ECONNREFUSED[\s\S]*reconnecting in \d+ ms/)
    peer = await wsServer(undefined, { port: Number(new URL(url).port) })
    await cli.stderr.waitFor(/connected to /, 15_000)
    cli.child.stdin.write('at last\n')
    await cli.stdout.waitFor(/at last\n/)
    cli.child.stdin.end()
    assert.is(await cli.exit(), 0, cli.stderr.text)
  } finally {
    if (cli.child.exitCode === null) await cli.stop()
    await peer?.close()
  }
})

test('--ping-interval with --print-ping-rtts prints round trips measured against the server', async () => {
  let pings = 0
  const peer = await wsServer((ws) => ws.on('ping', () => pings++))
  try {
    const cli = spawnCli(['connect', '--ping-interval', '50ms', '--print-ping-rtts', peer.url])
    await cli.stderr.waitFor(/pong: \d+\.\d\d ms[\s\S]*pong: \d+\.\d\d ms/)
    cli.child.stdin.end()
    assert.is(await cli.exit(), 0, cli.stderr.text)
    assert.ok(pings >= 2, `the server saw ${pings} pings`)
  } finally {
    await peer.close()
  }
})

test('SIGINT while piping: the connection is closed with 1000 and the exit status is 0', async () => {
  let closed: (info: { code: number }) => void = () => undefined
  const serverSaw = new Promise<{ code: number }>((resolve) => (closed = resolve))
  const peer = await wsServer((ws) => {
    ws.on('close', (code) => closed({ code }))
    ws.send('ready')
  })
  try {
    const cli = spawnCli(['connect', peer.url])
    await cli.stdout.waitFor(/ready\n/)
    process.kill(cli.child.pid!, 'SIGINT')
    assert.is(await cli.exit(), 0, cli.stderr.text)
    cli.child.stdin.destroy()
    assert.equal(await within(serverSaw, 5000, 'the server saw the close'), { code: 1000 })
  } finally {
    await peer.close()
  }
})

test('a reader of stdout that goes away (EPIPE, as with `| head -1`) ends the program with 0', async () => {
  const peer = await wsServer((ws) => {
    const timer = setInterval(() => ws.send('tick '.repeat(100)), 5)
    ws.on('close', () => clearInterval(timer))
  })
  try {
    const cli = spawnCli(['connect', '-q', peer.url])
    await cli.stdout.waitFor(/tick/)
    cli.child.stdout.destroy()
    assert.is(await cli.exit(), 0, cli.stderr.text)
    cli.child.stdin.destroy()
    assert.is(cli.stderr.text, '')
  } finally {
    await peer.close()
  }
})

// python `websockets` (Debian's python3-websockets): echo, and a query of the negotiated extensions.
const PY_SERVER = `
import asyncio, sys, websockets
async def handler(ws, path=None):
    async for message in ws:
        if message == "extensions?":
            await ws.send(",".join(e.name for e in ws.extensions) or "none")
        else:
            await ws.send(message)
async def main():
    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
`

async function pythonServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(PYTHON_WEBSOCKETS!, ['-c', PY_SERVER], { stdio: ['ignore', 'pipe', 'pipe'] })
  const out = new Output()
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const port = (await out.waitFor(/^(\d+)\n/m, 15_000))[1]!
  return {
    url: `ws://127.0.0.1:${port}/`,
    stop: async () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM')
      await within(exited, 5000, 'python server exit')
    },
  }
}

if (PYTHON_WEBSOCKETS === undefined) console.log('  (python websockets tests skipped: `python3 -c "import websockets"` fails; apt-get install python3-websockets)')
const py = PYTHON_WEBSOCKETS === undefined ? test.skip : test

py('against python websockets: text lines, compression negotiated (and not with --no-compress), bytes', async () => {
  const server = await pythonServer()
  try {
    // stdin stays open until the replies are in: python answers a close at once, unsent replies with it.
    const text = spawnCli(['connect', server.url])
    text.child.stdin.write('hello python\nextensions?\n')
    await text.stdout.waitFor(/permessage-deflate\n/)
    text.child.stdin.end()
    assert.is(await text.exit(), 0, text.stderr.text)
    assert.is(text.stdout.text, 'hello python\npermessage-deflate\n')
    assert.match(text.stderr.text, /connected to .*\(permessage-deflate\)/)
    const plain = spawnCli(['connect', '--no-compress', server.url])
    plain.child.stdin.write('extensions?\n')
    await plain.stdout.waitFor(/\n/)
    plain.child.stdin.end()
    assert.is(await plain.exit(), 0, plain.stderr.text)
    assert.is(plain.stdout.text, 'none\n')
    const input = randomBytes(100_000)
    const cli = spawnCli(['connect', '--binary', '-q', server.url])
    cli.child.stdin.write(input)
    await waitForBytes(cli, input.length)
    cli.child.stdin.end()
    assert.is(await cli.exit(), 0, cli.stderr.text)
    assert.ok(Buffer.concat(cli.bytes).equals(input))
  } finally {
    await server.stop()
  }
})

test.run()
