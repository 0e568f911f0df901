import type { IncomingMessage } from 'node:http'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { toRequestHead, toRequestInfo } from '../../../src/node/request.ts'

/** The parts of an IncomingMessage that request.ts reads. */
function incoming(rawHeaders: string[], url = '/chat?room=1'): IncomingMessage {
  return { url, method: 'GET', httpVersion: '1.1', rawHeaders, socket: { remoteAddress: '::1', remotePort: 5000, localAddress: '::1', localPort: 8080 } } as unknown as IncomingMessage
}

test('toRequestInfo keeps url, address and every header field: repeated ones joined, empty values kept', () => {
  const info = toRequestInfo(incoming(['Host', 'example.test', 'X-Empty', '', 'Cookie', 'a=1', 'cookie', 'b=2', 'Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==', 'X-Last', '']))
  assert.is(info.url, '/chat?room=1')
  assert.is(info.remoteAddress, '::1')
  assert.is(info.remotePort, 5000)
  assert.equal({ ...info.headers }, {
    host: 'example.test',
    'x-empty': '',
    cookie: 'a=1, b=2',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'x-last': '',
  })
  assert.is(info.headers, info.headers, 'made once')
  assert.equal(JSON.parse(JSON.stringify(info)), { url: '/chat?room=1', headers: { ...info.headers }, remoteAddress: '::1', remotePort: 5000, localAddress: '::1', localPort: 8080, secure: false })
})

test('toRequestInfo: no header fields gives an empty record; a field holding a line feed is dropped, not split', () => {
  assert.equal({ ...toRequestInfo(incoming([])).headers }, {})
  const info = toRequestInfo(incoming(['Host', 'h', 'X-Bad', 'one\ntwo', 'X-Good', 'yes', 'Bad\nName', 'v']))
  assert.equal({ ...info.headers }, { host: 'h', 'x-good': 'yes' })
})

test('toRequestHead gives the core the method, target, version and the fields in order', () => {
  const head = toRequestHead(incoming(['Host', 'h', 'Upgrade', 'websocket'], '/x'))
  assert.is(head.method, 'GET')
  assert.is(head.target, '/x')
  assert.is(head.version, 'HTTP/1.1')
  assert.equal([...head.headers], [['Host', 'h'], ['Upgrade', 'websocket']])
})

test.run()
