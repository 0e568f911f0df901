/**
 * What a client reaches for beyond send and receive: credentials in the URL sent as Basic auth,
 * the opening response (status, headers, the URL connected to), `ws.url` on both sides, and the
 * socket options `localAddress`, `family` and `lookup`.
 */
import { lookup as dnsLookup } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, InvalidArgumentError, serve, type WebSocket } from '../../src/index.ts'
import { recordingServer, stop } from '../helpers/servers.ts'
import { rejection } from '../helpers/timing.ts'

test('credentials in the URL go out as Basic auth and are not kept in ws.url', async () => {
  const { server, requests } = await recordingServer()
  try {
    const ws = await connect(`ws://al%20ice:p%C3%A4ss%3Aword@127.0.0.1:${server.port}/room?x=1`)
    await ws.closed
    assert.is(requests[0]!.headers.authorization, `Basic ${Buffer.from('al ice:päss:word').toString('base64')}`)
    assert.is(ws.url, `ws://127.0.0.1:${server.port}/room?x=1`)
    assert.not.match(ws.response!.url, 'ice')
  } finally {
    await stop(server)
  }
})

test('an Authorization header given wins over the URL credentials', async () => {
  const { server, requests } = await recordingServer()
  try {
    const ws = await connect(`ws://user:pass@127.0.0.1:${server.port}/`, { headers: { authorization: 'Bearer t0ken' } })
    await ws.closed
    assert.is(requests[0]!.headers.authorization, 'Bearer t0ken')
  } finally {
    await stop(server)
  }
})

test('the client sees the opening response: status 101, its headers; the server side sees ws.url as the request target', async () => {
  let serverUrl = ''
  const server = await serve({ host: '127.0.0.1', port: 0, protocols: ['chat'] }, (ws: WebSocket) => {
    serverUrl = ws.url
  })
  try {
    const ws = await connect(`ws://127.0.0.1:${server.port}/a/b?c=d`, { protocols: 'chat' })
    assert.is(ws.response!.status, 101)
    assert.is(ws.response!.headers.upgrade!.toLowerCase(), 'websocket')
    assert.is(ws.response!.headers['sec-websocket-protocol'], 'chat')
    assert.type(ws.response!.statusText, 'string')
    assert.is(ws.request, undefined)
    await ws.closed
    assert.is(serverUrl, '/a/b?c=d')
  } finally {
    await stop(server)
  }
})

test('localAddress: the connection comes from the address asked for', async () => {
  const { server, requests } = await recordingServer()
  try {
    // Linux routes all of 127.0.0.0/8 to loopback, so 127.0.0.2 is a distinct local source address.
    const ws = await connect(`ws://127.0.0.1:${server.port}/`, { localAddress: '127.0.0.2' })
    await ws.closed
    assert.is(requests[0]!.remoteAddress, '127.0.0.2')
  } finally {
    await stop(server)
  }
})

test('lookup and family: the resolver given is asked, with the family given', async () => {
  const { server, requests } = await recordingServer()
  const asked: { host: string; family: unknown }[] = []
  const lookup: LookupFunction = (host, options, callback) => {
    asked.push({ host, family: options.family })
    dnsLookup('127.0.0.1', options, callback)
  }
  try {
    const ws = await connect(`ws://wsflow.invalid:${server.port}/`, { lookup, family: 4 })
    await ws.closed
    assert.equal(asked, [{ host: 'wsflow.invalid', family: 4 }])
    assert.is(requests[0]!.headers.host, `wsflow.invalid:${server.port}`)
  } finally {
    await stop(server)
  }
})

test('bad socket options are refused before connecting', async () => {
  for (const options of [{ family: 5 }, { family: '4' }, { localAddress: 127 }, { lookup: 'dns' }]) {
    const error = await rejection(connect('ws://127.0.0.1:9/', options as never), 1000, JSON.stringify(options))
    assert.instance(error, InvalidArgumentError, JSON.stringify(options))
    assert.match((error as Error).message, Object.keys(options)[0]!)
  }
})

test.run()
