/**
 * Unix domain sockets: `serve({ socketPath })` with `connect('ws+unix:' + path + ':/echo')`, and
 * interop with ws's own ws+unix: URLs.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { HandshakeError, connect, serve, type RequestInfo, type Server } from '../../src/index.ts'
import { openWsClient, wsflowPeer, wsPeer } from '../helpers/peers.ts'
import { rawConnect } from '../helpers/raw.ts'
import { rejection, within } from '../helpers/timing.ts'

let dir = ''
let socketPath = ''
let server: Server | undefined
const requests: RequestInfo[] = []

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsflow-unix-'))
  socketPath = join(dir, 'ws.sock')
  server = await serve({ socketPath, path: '/echo' }, async (ws) => {
    if (ws.request !== undefined) requests.push(ws.request)
    for await (const message of ws) await ws.send(message)
  })
})

test.after(async () => {
  if (server !== undefined) await within(server.close({ timeout: 500 }), 3000, 'server close')
  await rm(dir, { recursive: true, force: true })
})

test('unix: the server listens on the socket path; url is ws+unix:<path>:<request path>', () => {
  assert.ok(existsSync(socketPath))
  assert.is(server!.port, 0)
  assert.is(server!.url, `ws+unix:${socketPath}:/echo`)
})

test('unix: a wsflow client connects with ws+unix:<path>:/echo and messages round-trip', async () => {
  const ws = await connect(`ws+unix:${socketPath}:/echo?x=1`)
  const peer = wsflowPeer(ws)
  await peer.send('over a unix socket ✓')
  await peer.send(new Uint8Array(300_000).fill(3))
  assert.is(new TextDecoder().decode((await peer.receive()).data), 'over a unix socket ✓')
  assert.is((await peer.receive()).data.length, 300_000)
  assert.equal(await within(ws.close(1000), 2000, 'close'), { code: 1000, reason: '', wasClean: true })
  const request = requests.at(-1)!
  assert.is(request.url, '/echo?x=1')
  assert.is(request.headers.host, 'localhost')
})

test('unix: the request path still has to match (404)', async () => {
  const error = await rejection(connect(`ws+unix:${socketPath}:/other`), 3000, 'wrong path')
  assert.instance(error, HandshakeError)
  assert.is((error as HandshakeError).status, 404)
  const noPath = await rejection(connect(`ws+unix:${socketPath}`), 3000, 'no path (/)')
  assert.is((noPath as HandshakeError).status, 404)
})

test('unix: a ws client (ws+unix: URL) talks to the wsflow server', async () => {
  const peer = wsPeer(await openWsClient(`ws+unix:${socketPath}:/echo`, undefined), 'client')
  await peer.send('ws via unix')
  assert.is(new TextDecoder().decode((await peer.receive()).data), 'ws via unix')
  peer.close(1000)
  assert.is((await within(peer.closed, 2000, 'closed')).wasClean, true)
})

test('unix: a raw client on the socket gets a 101 and an echo', async () => {
  const raw = await rawConnect({ socketPath }, '/echo')
  try {
    raw.send({ opcode: 0x1, payload: new TextEncoder().encode('raw') })
    const frame = await raw.reader.next()
    assert.equal([frame.opcode, frame.masked, new TextDecoder().decode(frame.payload)], [0x1, false, 'raw'])
  } finally {
    await raw.destroy()
  }
})

test('unix: connect(server.url) reaches the server, as it does over TCP', async () => {
  const ws = await connect(server!.url)
  await within(ws.close(), 2000, 'close')
})

test.run()
