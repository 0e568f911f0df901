/**
 * Every option is checked at serve/connect (issue: limits that switched off by mistake): each bad
 * value rejects with an InvalidArgumentError naming the option and the value, and nothing listens.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createServer } from 'node:http'
import { connect, InvalidArgumentError, serve } from '../../src/index.ts'
import { rejection, within } from '../helpers/timing.ts'

const BAD_SIZES: unknown[] = [Number.NaN, '1mb', null, -1, 1.5, '100', {}]
const BAD_DURATIONS: unknown[] = [Number.NaN, '30s', null, -1, Infinity, true]
const BAD_COUNTS: unknown[] = [0, -1, Number.NaN, '16', null, 2.5]

const CASES: [string, unknown[]][] = [
  ['maxMessageSize', BAD_SIZES],
  ['maxFrameSize', BAD_SIZES],
  ['maxFragments', BAD_COUNTS],
  ['fragmentSize', BAD_COUNTS],
  ['highWaterMark', BAD_COUNTS],
  ['highWaterMarkBytes', BAD_COUNTS],
  ['closeTimeout', BAD_DURATIONS],
  ['stallTimeout', BAD_DURATIONS],
  ['idleTimeout', BAD_DURATIONS],
  ['keepAlive', ['ping', 1, null]],
  ['streaming', ['yes', 1, null]],
  ['handshakeTimeout', BAD_DURATIONS],
  ['maxHeaderSize', BAD_COUNTS],
]

const SERVER_ONLY: [string, unknown[]][] = [
  ['port', [-1, 65536, 1.5, '8080', Number.NaN]],
  ['path', ['echo', [], ['/ok', 'bad'], 5]],
  ['protocols', [5, [1], null]],
  ['origins', [5, [1]]],
  ['verify', [true, 'no']],
  ['maxConnections', BAD_COUNTS],
  ['maxConnectionsPerAddress', BAD_COUNTS],
  ['headers', ['x: y', 5]],
  ['onError', ['log']],
  ['host', [127]],
]

const CLIENT_ONLY: [string, unknown[]][] = [
  ['protocols', [5, [1], null]],
  ['headers', ['x: y', 5]],
  ['origin', [5]],
  ['localAddress', [127]],
  ['family', [5, '4']],
  ['lookup', ['dns']],
  ['maxRedirects', BAD_SIZES],
  ['followRedirects', ['yes']],
]

async function expectRefused(promise: Promise<unknown>, option: string, value: unknown, where: string): Promise<void> {
  const error = await rejection(promise, 2000, `${where} ${option}=${String(value)}`)
  assert.instance(error, InvalidArgumentError, `${where} ${option}=${String(value)}: ${String(error)}`)
  const message = (error as Error).message
  assert.ok(message.includes(option), `${where}: the message names ${option}: ${message}`)
  assert.ok(message.includes(where), `the message says where: ${message}`)
}

test('serve: every option with a bad value rejects with InvalidArgumentError naming it (nothing listens)', async () => {
  for (const [option, values] of [...CASES, ...SERVER_ONLY]) {
    for (const value of values) await expectRefused(serve({ host: '127.0.0.1', port: 0, [option]: value } as never), option, value, 'serve')
  }
})

test('connect: every option with a bad value rejects with InvalidArgumentError naming it (before any connection)', async () => {
  for (const [option, values] of [...CASES, ...CLIENT_ONLY]) {
    for (const value of values) await expectRefused(connect('ws://127.0.0.1:9/', { [option]: value } as never), option, value, 'connect')
  }
})

test('serve: a handler that is not a function, and contradictory options, are refused', async () => {
  const notAFunction = await rejection(serve({ port: 0 }, 'echo' as never), 2000, 'handler')
  assert.instance(notAFunction, InvalidArgumentError)
  const http = createServer()
  try {
    for (const options of [{ server: http, port: 8080 }, { noServer: true, port: 1 }, { port: 1, socketPath: '/tmp/x.sock' }, { noServer: 'yes' }]) {
      assert.instance(await rejection(serve(options as never), 2000, JSON.stringify(Object.keys(options))), InvalidArgumentError)
    }
  } finally {
    http.close()
  }
})

test('good values still work: Infinity where no limit is meant, 0 to turn a timer off, a protocols string as ws takes it', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0, maxMessageSize: Infinity, stallTimeout: 0, protocols: 'v1' }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  try {
    const ws = await connect(server.url, { protocols: 'v1', maxMessageSize: Infinity, idleTimeout: 0 })
    assert.is(ws.protocol, 'v1')
    await ws.send('hi')
    const reply = await within(ws.recv(), 2000, 'echo')
    assert.is(reply.text(), 'hi')
    await ws.close()
  } finally {
    await server.close({ timeout: 100 })
  }
})

test.run()
