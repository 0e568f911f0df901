/**
 * Code written the way a ws user writes it must not lose messages nor crash the process: sends
 * that nobody awaits on closing connections, server.clients during a close, broadcast.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, ConnectionClosedError, InvalidArgumentError, serve, type WebSocket } from '../../src/index.ts'
import { waitFor, within } from '../helpers/timing.ts'

/** Two turns of the event loop: an unhandled rejection from this turn has been reported by then. */
const nextTurns = async (): Promise<void> => {
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
}

test('sends and pings nobody awaits on a closing connection never become unhandled rejections; awaited, they still reject', async () => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  const accepted: WebSocket[] = []
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    accepted.push(ws)
    await ws.closed
  })
  try {
    const client = await connect(server.url)
    await waitFor(() => accepted.length === 1, 2000, 'accepted')
    const ws = accepted[0]!
    void ws.close(1000) // closing: the close frame is out, the peer has not answered yet
    ws.send('forgotten') // not awaited, as `ws` users write it
    ws.ping()
    ws.send(123 as never)
    ws.close(999)
    await nextTurns()
    assert.equal(unhandled, [], 'nothing reached the process')
    const error = await ws.send('awaited').then(() => undefined, (e: unknown) => e)
    assert.instance(error, ConnectionClosedError)
    assert.instance(await client.send(123 as never).then(() => undefined, (e: unknown) => e), InvalidArgumentError, 'a bad value rejects')
    await within(client.closed, 2000, 'client closed')
  } finally {
    process.off('unhandledRejection', onUnhandled)
    await server.close({ timeout: 100 })
  }
})

test('server.clients lists only open connections, and broadcast reaches each of them once', async () => {
  const accepted: WebSocket[] = []
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    accepted.push(ws)
    await ws.closed
  })
  try {
    const clients = await Promise.all([connect(server.url), connect(server.url), connect(server.url)])
    await waitFor(() => accepted.length === 3, 2000, 'accepted')
    void accepted[0]!.close(1000)
    assert.is(server.clients.size, 2, 'the closing one is left out')
    assert.is(server.broadcast('to all', { except: accepted[1] }), 1)
    assert.is((await within(clients[2]!.recv(), 2000, 'broadcast')).text(), 'to all')
    for (const client of server.clients) void client.send('loop') // the ws idiom
    assert.is((await within(clients[1]!.recv(), 2000, 'loop 1')).text(), 'loop')
    assert.is((await within(clients[2]!.recv(), 2000, 'loop 2')).text(), 'loop')
    for (const client of clients) await client.close()
  } finally {
    await server.close({ timeout: 100 })
  }
})

test('messages sent together with the close are all answered before the close reply (as ws does)', async () => {
  const server = await serve({ host: '127.0.0.1', port: 0 }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  try {
    const { WebSocket: WsClient } = await import('ws')
    const client = new WsClient(server.url)
    const echoes: string[] = []
    client.on('message', (data) => echoes.push(String(data)))
    await new Promise((resolve) => client.once('open', resolve))
    client.send('one')
    client.send('two')
    client.send('three')
    client.close(1000, 'bye')
    const [code, reason] = await within(new Promise<[number, string]>((resolve) => client.once('close', (c, r) => resolve([c, String(r)]))), 3000, 'closed')
    assert.equal(echoes, ['one', 'two', 'three'])
    assert.equal([code, reason], [1000, 'bye'], "the reply echoes the client's code and reason")
  } finally {
    await server.close({ timeout: 100 })
  }
})

test.run()
