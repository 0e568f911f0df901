// `wsflow bridge` as subprocesses: TCP client -> tcp-listen bridge -> WebSocket -> ws-listen
// bridge -> TCP service, carrying a large file checked by sha256 and a real redis-server (Debian),
// with the ends mapped (FIN <-> 1000, reset <-> 1011 / abnormal end) and failures reported.
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, connect as netConnect, type Socket } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket as WsSocket } from 'ws'
import { within } from '../helpers/timing.ts'
import { hasCommand, runCli, spawnListening, tcpEcho, type Cli } from './helpers.ts'

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

/** Starts `ws-listen:0 -> tcp:127.0.0.1:port` and `tcp-listen:0 -> ws://...` and returns their addresses. */
async function chain(targetPort: number): Promise<{ ws: Cli; tcp: Cli; wsUrl: string; tcpPort: number; stop(): Promise<void> }> {
  const ws = await spawnListening(['bridge', '-v', 'ws-listen:0', `tcp:127.0.0.1:${targetPort}`])
  const tcp = await spawnListening(['bridge', '-v', 'tcp-listen:0', ws.address], /listening on tcp:127\.0\.0\.1:(\d+)/)
  return {
    ws: ws.cli, tcp: tcp.cli, wsUrl: ws.address, tcpPort: Number(tcp.address),
    stop: async () => {
      assert.is(await tcp.cli.stop(), 0, tcp.cli.stderr.text)
      assert.is(await ws.cli.stop(), 0, ws.cli.stderr.text)
    },
  }
}

/** Connects a TCP client, resolving once connected. */
function tcpClient(port: number): Promise<Socket> {
  return within(new Promise((resolve, reject) => {
    const socket = netConnect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(socket))
    socket.once('error', reject)
  }), 5000, `connect to ${port}`)
}

test('a 16 MiB file through both bridges to a TCP echo comes back byte for byte (sha256); FIN comes back as FIN', async () => {
  const echo = await tcpEcho()
  const bridges = await chain(echo.port)
  try {
    const file = randomBytes(16 * 1024 * 1024)
    const socket = await tcpClient(bridges.tcpPort)
    const chunks: Buffer[] = []
    let received = 0
    const all = new Promise<void>((resolve) => socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      received += chunk.length
      if (received >= file.length) resolve()
    }))
    const ended = new Promise<void>((resolve) => socket.once('end', resolve))
    // 1 MiB writes, each waiting for the socket's buffer to drain, as a file copy would.
    for (let offset = 0; offset < file.length; offset += 1024 * 1024) {
      if (!socket.write(file.subarray(offset, offset + 1024 * 1024))) await within(new Promise((r) => socket.once('drain', r)), 20_000, 'drain')
    }
    await within(all, 30_000, 'the whole file back')
    assert.is(sha256(Buffer.concat(chunks)), sha256(file))
    socket.end() // FIN -> close 1000 -> FIN to the echo -> ... -> FIN back here
    await within(ended, 10_000, 'the FIN back')
    socket.destroy()
    await bridges.ws.stderr.waitFor(/closed: 1000; 16777216 B to TCP, 16777216 B from TCP/)
    await bridges.tcp.stderr.waitFor(/closed: 1000; 16777216 B to WebSocket, 16777216 B from WebSocket/)
  } finally {
    await bridges.stop()
    await echo.close()
  }
})

/** A free loopback port: redis-server cannot be told to pick one itself. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const REDIS = hasCommand('redis-server') && hasCommand('redis-cli')
if (!REDIS) console.log('  (redis test skipped: redis-server / redis-cli are not installed; apt-get install redis-server)')

;(REDIS ? test : test.skip)('redis-server through both bridges: redis-cli commands and a 4 MiB value over RESP', async () => {
  const port = await freePort()
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const redisExited = new Promise<void>((resolve) => redis.once('exit', () => resolve()))
  let log = ''
  await within(new Promise<void>((resolve) => redis.stdout.on('data', (chunk: Buffer) => {
    log += chunk.toString()
    if (/Ready to accept connections/.test(log)) resolve()
  })), 10_000, 'redis-server ready')
  const bridges = await chain(port)
  try {
    const cli = (...args: string[]): string => spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(bridges.tcpPort), ...args], { encoding: 'utf8', timeout: 10_000 }).stdout.trim()
    assert.is(cli('PING'), 'PONG')
    assert.is(cli('SET', 'greeting', 'hello through a WebSocket'), 'OK')
    assert.is(cli('GET', 'greeting'), 'hello through a WebSocket')
    assert.is(cli('INCRBY', 'counter', '41'), '41')
    // A large value in RESP over one raw connection, read back and compared.
    const value = randomBytes(4 * 1024 * 1024).toString('base64')
    const socket = await tcpClient(bridges.tcpPort)
    let reply = ''
    const expected = `+OK\r\n$${value.length}\r\n${value}\r\n`
    const done = new Promise<void>((resolve) => socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1')
      if (reply.length >= expected.length) resolve()
    }))
    socket.write(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${value.length}\r\n${value}\r\n*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n`)
    await within(done, 20_000, 'the big value back')
    assert.ok(reply === expected, `reply of ${reply.length} bytes, expected ${expected.length}`)
    socket.destroy()
  } finally {
    await bridges.stop()
    if (redis.pid !== undefined && redis.exitCode === null) process.kill(redis.pid, 'SIGTERM')
    await within(redisExited, 10_000, 'redis-server exit')
  }
})

test('ws-listen: the target\'s reset closes with 1011 after what it sent; its FIN with 1000; an unreachable target with 1011', async () => {
  // A reset that arrives in the same poll as the last data is reported by libuv as an end of
  // stream (its POLLHUP short-cut), so the target sends its data first and resets on a later command.
  const target = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined)
    socket.on('data', (chunk: Buffer) => {
      const command = chunk.toString()
      if (command === 'hello') socket.write('partial')
      else if (command === 'reset') socket.resetAndDestroy()
      else socket.end('bye')
    })
  })
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  const targetPort = (target.address() as { port: number }).port
  const bridge = await spawnListening(['bridge', '-v', 'ws-listen:0', `tcp:127.0.0.1:${targetPort}`])
  const deadPort = await freePort()
  const dead = await spawnListening(['bridge', 'ws-listen:0', `tcp:127.0.0.1:${deadPort}`])
  const session = async (url: string, command: string) => {
    const ws = new WsSocket(url)
    const messages: string[] = []
    ws.on('message', (data) => {
      messages.push(String(data))
      if (command === 'reset') ws.send('reset') // after what the target sent
    })
    ws.once('open', () => ws.send(command === 'reset' ? 'hello' : command))
    const close = await within(new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) }))), 10_000, 'close')
    return { messages, ...close }
  }
  try {
    const reset = await session(bridge.address, 'reset')
    assert.equal(reset.messages, ['partial'])
    assert.is(reset.code, 1011, bridge.cli.stderr.text)
    const fin = await session(bridge.address, 'fin')
    assert.equal(fin.messages, ['bye'])
    assert.is(fin.code, 1000)
    const unreachable = await session(dead.address, 'anyone?')
    assert.is(unreachable.code, 1011)
    assert.match(unreachable.reason, /unreachable/)
    await dead.cli.stderr.waitFor(/cannot reach 127\.0\.0\.1:\d+: .*ECONNREFUSED/)
  } finally {
    assert.is(await bridge.cli.stop(), 0)
    assert.is(await dead.cli.stop(), 0)
    await new Promise<void>((resolve) => target.close(() => resolve()))
  }
})

test('ws-listen: a WebSocket client that vanishes (no close frame) resets the TCP connection to the target', async () => {
  const resets: string[] = []
  let connected: () => void = () => undefined
  const seen = new Promise<void>((resolve) => (connected = resolve))
  let gone: () => void = () => undefined
  const targetGone = new Promise<void>((resolve) => (gone = resolve))
  const target = createServer({ allowHalfOpen: true }, (socket) => {
    connected()
    socket.on('error', (error: NodeJS.ErrnoException) => resets.push(error.code ?? ''))
    socket.once('close', () => gone())
    socket.resume()
  })
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  const bridge = await spawnListening(['bridge', 'ws-listen:0', `tcp:127.0.0.1:${(target.address() as { port: number }).port}`])
  try {
    const ws = new WsSocket(bridge.address)
    await within(new Promise((resolve) => ws.once('open', resolve)), 5000, 'open')
    await within(seen, 5000, 'the bridge connects to the target')
    ws.terminate()
    await within(targetGone, 10_000, 'the target connection ends')
    assert.equal(resets, ['ECONNRESET'])
  } finally {
    assert.is(await bridge.cli.stop(), 0)
    await new Promise<void>((resolve) => target.close(() => resolve()))
  }
})

test('tcp-listen to a WebSocket server that refuses: the TCP client is closed and the status named on stderr', async () => {
  const sockets = new Set<Socket>()
  const refusing = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
  })
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve))
  const bridge = await spawnListening(['bridge', 'tcp-listen:0', `ws://127.0.0.1:${(refusing.address() as { port: number }).port}/`], /listening on tcp:127\.0\.0\.1:(\d+)/)
  try {
    const socket = await tcpClient(Number(bridge.address))
    socket.on('error', () => undefined)
    await within(new Promise((resolve) => socket.once('end', resolve)), 10_000, 'the TCP client closed')
    socket.destroy()
    await bridge.cli.stderr.waitFor(/HTTP 403/)
  } finally {
    assert.is(await bridge.cli.stop(), 0)
    for (const socket of sockets) socket.destroy()
    await within(new Promise<void>((resolve) => refusing.close(() => resolve())), 5000, 'close the refusing server')
  }
})

test('ws-listen --sniff: raw TCP clients on the same port go straight to the target, WebSocket clients through the bridge', async () => {
  const echo = await tcpEcho()
  const bridge = await spawnListening(['bridge', '--sniff', 'ws-listen:0', `tcp:127.0.0.1:${echo.port}`])
  try {
    const raw = await tcpClient(Number(new URL(bridge.address).port))
    const rawEcho = within(new Promise<string>((resolve) => {
      let got = ''
      raw.on('data', (chunk: Buffer) => {
        got += chunk.toString()
        if (got.length >= 14) resolve(got)
      })
    }), 5000, 'raw echo')
    raw.write('raw, not HTTP\n')
    assert.is(await rawEcho, 'raw, not HTTP\n')
    raw.destroy()
    const ws = new WsSocket(bridge.address)
    const echoed = await within(new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('through the bridge'))
      ws.once('message', (data) => resolve(String(data)))
      ws.once('error', reject)
    }), 5000, 'ws echo')
    assert.is(echoed, 'through the bridge')
    ws.close()
  } finally {
    assert.is(await bridge.cli.stop(), 0)
    await echo.close()
  }
})

test('bridge: bad usage exits 2 with one line', async () => {
  for (const args of [['bridge'], ['bridge', 'ws-listen:0', 'udp:1.2.3.4:5'], ['bridge', 'ws-listen:x', 'tcp:127.0.0.1:1'], ['bridge', 'ws-listen:0', 'tcp:1']]) {
    const result = await runCli(args)
    assert.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
    assert.is(result.stderr.trim().split('\n').length, 1, result.stderr)
  }
})

test.run()
