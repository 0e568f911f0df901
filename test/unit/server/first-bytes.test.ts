// The first-bytes classifier of the one-port server, on byte literals.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { classifyFirstBytes, FirstBytesKind, HTTP_METHODS } from '../../../src/server/first-bytes.ts'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const TLS = { tls: true }
const PLAIN = { tls: false }

test('a TLS ClientHello record (22, 3, ...) is TLS when TLS is on, raw when it is off', () => {
  const hello = new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
  assert.is(classifyFirstBytes(hello, TLS), FirstBytesKind.TLS)
  assert.is(classifyFirstBytes(hello.subarray(0, 2), TLS), FirstBytesKind.TLS)
  assert.is(classifyFirstBytes(hello, PLAIN), FirstBytesKind.RAW)
  assert.is(classifyFirstBytes(hello.subarray(0, 1), TLS), undefined, 'one byte: wait for the version')
  assert.is(classifyFirstBytes(hello.subarray(0, 1), { tls: true, final: true }), FirstBytesKind.RAW)
  assert.is(classifyFirstBytes(new Uint8Array([0x16, 0x02]), TLS), FirstBytesKind.RAW, 'version major 2 is no TLS')
})

test('an HTTP/1.x request line is HTTP, for every method, with CRLF or a bare LF', () => {
  for (const method of HTTP_METHODS) {
    assert.is(classifyFirstBytes(bytes(`${method} /path?q=1 HTTP/1.1\r\nHost: x\r\n\r\n`), PLAIN), FirstBytesKind.HTTP, method)
  }
  assert.is(classifyFirstBytes(bytes('GET / HTTP/1.0\n'), PLAIN), FirstBytesKind.HTTP)
  assert.is(classifyFirstBytes(bytes('OPTIONS * HTTP/1.1\r\n'), TLS), FirstBytesKind.HTTP)
})

test('a method with no HTTP version on its line is raw (Redis inline commands, SMTP-like text)', () => {
  assert.is(classifyFirstBytes(bytes('GET key\r\n'), PLAIN), FirstBytesKind.RAW)
  assert.is(classifyFirstBytes(bytes('PUT x HTTP/2.0\r\n'), PLAIN), FirstBytesKind.RAW)
  assert.is(classifyFirstBytes(bytes('GET / HTTP/1.2\r\n'), PLAIN), FirstBytesKind.RAW)
  assert.is(classifyFirstBytes(bytes('\r\n'), PLAIN), FirstBytesKind.RAW)
})

test('anything that cannot become a method is raw at once; a prefix waits', () => {
  assert.is(classifyFirstBytes(bytes('PING\r\n'), PLAIN), FirstBytesKind.RAW)
  assert.is(classifyFirstBytes(bytes('get / HTTP/1.1\r\n'), PLAIN), FirstBytesKind.RAW, 'methods are case-sensitive (RFC 9110 §9.1)')
  assert.is(classifyFirstBytes(new Uint8Array([0x00, 0x01]), PLAIN), FirstBytesKind.RAW)
  assert.is(classifyFirstBytes(bytes('RFB 003.008\n'), PLAIN), FirstBytesKind.RAW)
  for (const prefix of ['G', 'GE', 'GET', 'P', 'PO', 'OPTION', 'CONNECT']) {
    assert.is(classifyFirstBytes(bytes(prefix), PLAIN), undefined, prefix)
    assert.is(classifyFirstBytes(bytes(prefix), { tls: false, final: true }), FirstBytesKind.RAW, `${prefix} final`)
  }
  assert.is(classifyFirstBytes(bytes('GETX'), PLAIN), FirstBytesKind.RAW)
})

test('an unfinished request line waits up to maxBytes, then is HTTP (the HTTP server answers it); final decides HTTP', () => {
  assert.is(classifyFirstBytes(bytes('GET /a'), PLAIN), undefined)
  assert.is(classifyFirstBytes(bytes('GET /a'), { tls: false, final: true }), FirstBytesKind.HTTP)
  const long = bytes(`GET /${'a'.repeat(100)}`)
  assert.is(classifyFirstBytes(long, { tls: false, maxBytes: 64 }), FirstBytesKind.HTTP)
  assert.is(classifyFirstBytes(long, { tls: false, maxBytes: 200 }), undefined)
  // A line feed past maxBytes is not looked at.
  assert.is(classifyFirstBytes(bytes(`GET /${'a'.repeat(100)} HTTP/1.1\r\n`), { tls: false, maxBytes: 64 }), FirstBytesKind.HTTP)
})

test('no bytes: undefined until final, then raw (the caller handles silence)', () => {
  assert.is(classifyFirstBytes(new Uint8Array(0), TLS), undefined)
  assert.is(classifyFirstBytes(new Uint8Array(0), { tls: true, final: true }), FirstBytesKind.RAW)
})

test.run()
