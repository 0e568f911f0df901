/**
 * permessage-deflate (RFC 7692) interop with ws, both directions, with every combination of ws's
 * `perMessageDeflate` parameters (serverNoContextTakeover, clientNoContextTakeover,
 * serverMaxWindowBits, clientMaxWindowBits; threshold 0 so that every message is compressed):
 * text and binary messages of 0 B to 1 MiB, fragmented and not, many in a row in order. Traffic
 * goes through a relay that reads the frames (with the conformance suite's own frame reader) and
 * counts RSV1, so that each test proves both ends compressed. Then 200 wsflow connections with
 * compression open at once: rss per connection, bounded, and a clean close for all.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConnection, createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocketServer, type PerMessageDeflateOptions as WsDeflateOptions, type WebSocket as WsSocket } from 'ws'
import { connect, serve, type ConnectOptions, type PerMessageDeflateConfig, type Server, type WebSocket } from '../../src/index.ts'
import { WireReader } from '../conformance/wire.ts'
import { openWsClient, sameBytes, wsPeer, wsflowPeer, type Peer } from '../helpers/peers.ts'
import { within } from '../helpers/timing.ts'

const KiB = 1024
const MiB = 1024 * 1024

// ---------------------------------------------------------------------------------------------
// A relay that counts frames and RSV1 each way

interface Counts {
  /** The HTTP head that came before the frames. */
  head: string
  frames: number
  compressed: number
  /** RSV1 on a continuation or control frame, or RSV2/RSV3: RFC 7692 §6.1 violations. */
  bad: string[]
}

interface Relay {
  port: number
  up: Counts
  down: Counts
  close(): Promise<void>
}

/** Reads frames after the HTTP head of one direction of a connection. */
function watch(counts: Counts): (chunk: Buffer) => void {
  const reader = new WireReader()
  let head = Buffer.alloc(0)
  let inHead = true
  return (chunk) => {
    if (inHead) {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      inHead = false
      counts.head = head.subarray(0, end).toString('latin1')
      chunk = head.subarray(end + 4)
    }
    reader.push(new Uint8Array(chunk))
    for (let f = reader.next(); f !== undefined; f = reader.next()) {
      counts.frames++
      if ((f.rsv & 4) !== 0) {
        if (f.opcode === 1 || f.opcode === 2) counts.compressed++
        else if (counts.bad.length < 5) counts.bad.push(`RSV1 on opcode ${f.opcode}`)
      }
      if ((f.rsv & 3) !== 0 && counts.bad.length < 5) counts.bad.push(`RSV2/RSV3 on opcode ${f.opcode}`)
    }
  }
}

async function relay(target: number): Promise<Relay> {
  const up: Counts = { head: '', frames: 0, compressed: 0, bad: [] }
  const down: Counts = { head: '', frames: 0, compressed: 0, bad: [] }
  const sockets = new Set<Socket>()
  const server: NetServer = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: target })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => undefined)
    }
    const countUp = watch(up)
    const countDown = watch(down)
    client.on('data', (chunk: Buffer) => {
      countUp(chunk)
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      countDown(chunk)
      client.write(chunk)
    })
    client.on('end', () => upstream.end())
    upstream.on('end', () => client.end())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    up,
    down,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Echo servers and the exchange

/** A ws echo server. */
async function wsEcho(perMessageDeflate: WsDeflateOptions): Promise<{ port: number; close: () => Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate })
  await within(new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  }), 3000, 'ws server listening')
  server.on('connection', (ws: WsSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }))
    ws.on('error', () => undefined)
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const ws of server.clients) ws.terminate()
      await within(new Promise<void>((resolve) => server.close(() => resolve())), 3000, 'ws server close')
    },
  }
}

/** A wsflow echo server, written as users write it. */
function wsflowEcho(perMessageDeflate: PerMessageDeflateConfig, fragmentSize?: number): Promise<Server> {
  return serve({ host: '127.0.0.1', port: 0, perMessageDeflate, ...(fragmentSize === undefined ? {} : { fragmentSize }) }, async (ws) => {
    for await (const m of ws) await ws.send(m)
  })
}

/** Deterministic data: compressible text or binary with some noise. */
function payload(n: number, seed: number, textual: boolean): string | Uint8Array {
  let x = seed * 2654435761 >>> 0 || 1
  const next = (): number => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    return (x >>>= 0)
  }
  if (textual) {
    const words = ['permessage', 'deflate', 'wörter', 'κόσμε', 'window', 'bits', '😀', 'context', 'takeover']
    const parts: string[] = []
    for (let length = 0; length < n; ) {
      const word = `${words[next() % words.length]} `
      parts.push(word)
      length += Buffer.byteLength(word)
    }
    const s = parts.join('')
    // Cut at a code point boundary below n, then pad with ASCII to exactly n bytes.
    let bytes = Buffer.from(s).subarray(0, n)
    while (bytes.length > 0 && (bytes[bytes.length - 1]! & 0xc0) === 0x80) bytes = bytes.subarray(0, bytes.length - 1)
    if (bytes.length > 0 && bytes[bytes.length - 1]! >= 0xc0) bytes = bytes.subarray(0, bytes.length - 1) // a lead byte without its continuation
    return bytes.toString('utf8') + '.'.repeat(n - bytes.length)
  }
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = i % 7 === 0 ? next() & 0xff : (i >> 4) & 0xff
  return out
}

const bytesOf = (m: string | Uint8Array): Uint8Array => (typeof m === 'string' ? new Uint8Array(Buffer.from(m)) : m)

/** Sends all messages in a row (fragmented when asked), then checks every echo in order. */
async function exchange(client: Peer, messages: readonly (string | Uint8Array)[], fragment: number | undefined, label: string): Promise<void> {
  const sends = messages.map((m) => (fragment === undefined ? client.send(m) : client.sendFragmented(m, fragment)))
  await within(Promise.all(sends), 10_000, `${label}: sends`)
  for (const [i, m] of messages.entries()) {
    const got = await client.receive(10_000)
    const want = bytesOf(m)
    assert.is(got.type, typeof m === 'string' ? 'text' : 'binary', `${label}: message ${i} type`)
    assert.ok(sameBytes(got.data, want), `${label}: message ${i} (${want.length} B) echoed intact and in order`)
  }
}

/** Closes the client peer cleanly (bounded). */
async function closeClient(client: Peer, label: string): Promise<void> {
  client.close(1000, 'done')
  const info = await within(client.closed, 3000, `${label}: close`)
  assert.ok(info.wasClean, `${label}: clean close (${info.code})`)
}

/** The Sec-WebSocket-Extensions of an HTTP head ('' when absent). */
function extensionsOf(head: string): string {
  return /^sec-websocket-extensions:(.*)$/im.exec(head)?.[1]?.trim() ?? ''
}

/** The parameters of an extension header, sorted, for comparing what each end says was agreed. */
function paramsOf(header: string): string {
  return header.split(';').map((p) => p.trim().replace(/\s*=\s*/, '=')).filter((p) => p !== '' && p !== 'permessage-deflate').sort().join('; ')
}

function wsflowAgreed(ws: WebSocket): string {
  const e = ws.extensions.find((x) => x.name === 'permessage-deflate')
  return e === undefined ? '(none)' : paramsOf(['permessage-deflate', ...e.params.map(([n, v]) => (v === true ? n : `${n}=${v}`))].join('; '))
}

// ---------------------------------------------------------------------------------------------
// Every combination of ws's parameters

interface Combo {
  serverNoContextTakeover: boolean
  clientNoContextTakeover: boolean
  serverMaxWindowBits: number | undefined
  clientMaxWindowBits: number | undefined
}

const COMBOS: Combo[] = []
for (const serverNoContextTakeover of [false, true]) {
  for (const clientNoContextTakeover of [false, true]) {
    for (const serverMaxWindowBits of [undefined, 8, 11, 15]) {
      for (const clientMaxWindowBits of [undefined, 9, 15]) COMBOS.push({ serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits })
    }
  }
}

const name = (c: Combo): string =>
  [c.serverNoContextTakeover && 'snct', c.clientNoContextTakeover && 'cnct', c.serverMaxWindowBits !== undefined && `smwb=${c.serverMaxWindowBits}`, c.clientMaxWindowBits !== undefined && `cmwb=${c.clientMaxWindowBits}`]
    .filter(Boolean)
    .join(' ') || 'defaults'

function wsOptions(c: Combo): WsDeflateOptions {
  return {
    serverNoContextTakeover: c.serverNoContextTakeover,
    clientNoContextTakeover: c.clientNoContextTakeover,
    ...(c.serverMaxWindowBits === undefined ? {} : { serverMaxWindowBits: c.serverMaxWindowBits }),
    ...(c.clientMaxWindowBits === undefined ? {} : { clientMaxWindowBits: c.clientMaxWindowBits }),
    threshold: 0,
  }
}

/**
 * wsflow asking for the same parameters (every other combination), or its defaults. A wsflow server
 * resets its compressor after each message by default; `serverNoContextTakeover: false` keeps it
 * (on a client, false just does not ask for it).
 */
function wsflowOptions(c: Combo, mirror: boolean): PerMessageDeflateConfig {
  if (!mirror) return { threshold: 0 }
  return {
    threshold: 0,
    serverNoContextTakeover: c.serverNoContextTakeover,
    ...(c.clientNoContextTakeover ? { clientNoContextTakeover: true } : {}),
    ...(c.serverMaxWindowBits === undefined ? {} : { serverMaxWindowBits: c.serverMaxWindowBits }),
    ...(c.clientMaxWindowBits === undefined ? {} : { clientMaxWindowBits: c.clientMaxWindowBits }),
  }
}

const SIZES = [0, 1, 125, 1023, 1024, 5000, 64 * KiB]
function messagesFor(index: number): (string | Uint8Array)[] {
  const sizes = [...SIZES]
  // Larger sizes in a rotating subset of combinations, so that the run stays short (zlib with
  // small windows is slow): 200 KiB in every fourth, 1 MiB in every seventh.
  if (index % 4 === 1) sizes.push(200 * KiB)
  if (index % 7 === 0) sizes.push(MiB)
  return sizes.flatMap((n, i) => [payload(n, index * 100 + i, true), payload(n, index * 100 + i + 50, false)])
}

/** Checks the relay saw compressed frames both ways and no RSV1 where RFC 7692 §6.1 forbids it. */
function checkWire(r: Relay, label: string): void {
  assert.equal([...r.up.bad, ...r.down.bad], [], `${label}: RSV bits`)
  assert.ok(r.up.compressed > 0, `${label}: the client compressed (${r.up.compressed} of ${r.up.frames} frames with RSV1)`)
  assert.ok(r.down.compressed > 0, `${label}: the server compressed (${r.down.compressed} of ${r.down.frames} frames with RSV1)`)
}

COMBOS.forEach((combo, index) => {
  const mirror = index % 2 === 1
  const fragment = index % 3 === 0 ? 1000 : undefined

  test(`wsflow client → ws server, ws {${name(combo)}}${mirror ? ', wsflow asking the same' : ''}${fragment !== undefined ? ', fragmented' : ''}`, async () => {
    const server = await wsEcho(wsOptions(combo))
    const r = await relay(server.port)
    const label = `wsflow→ws ${name(combo)}`
    try {
      const options: ConnectOptions = { perMessageDeflate: wsflowOptions(combo, mirror), handshakeTimeout: 3000, ...(fragment === undefined ? {} : { fragmentSize: fragment }) }
      const ws = await within(connect(`ws://127.0.0.1:${r.port}/`, options), 3000, `${label}: connect`)
      const client = wsflowPeer(ws, fragment)
      assert.is.not(wsflowAgreed(ws), '(none)', `${label}: permessage-deflate agreed`)
      assert.is(wsflowAgreed(ws), paramsOf(extensionsOf(r.down.head)), `${label}: wsflow agrees with ws's response ${extensionsOf(r.down.head)}`)
      await exchange(client, messagesFor(index), fragment, label)
      await closeClient(client, label)
      checkWire(r, label)
    } finally {
      await r.close()
      await server.close()
    }
  })

  test(`ws client → wsflow server, ws {${name(combo)}}${mirror ? ', wsflow requiring the same' : ''}${fragment !== undefined ? ', fragmented' : ''}`, async () => {
    const server = await wsflowEcho(wsflowOptions(combo, mirror), fragment)
    const r = await relay(server.port)
    const label = `ws→wsflow ${name(combo)}`
    try {
      const wsClient = await openWsClient(`ws://127.0.0.1:${r.port}/`, undefined, { perMessageDeflate: wsOptions(combo) })
      const client = wsPeer(wsClient, 'client')
      // ws accepted wsflow's response, and the response on the wire is what wsflow agreed to.
      const serverWs = [...server.clients][0]!
      assert.is(wsClient.extensions, 'permessage-deflate', `${label}: ws agreed on permessage-deflate`)
      assert.is(paramsOf(extensionsOf(r.down.head)), wsflowAgreed(serverWs), `${label}: wsflow's response on the wire is what it agreed to`)
      await exchange(client, messagesFor(index), fragment, label)
      await closeClient(client, label)
      checkWire(r, label)
    } finally {
      await r.close()
      await within(server.close({ timeout: 500 }), 3000, `${label}: server close`)
    }
  })
})

test('many messages in a row keep their order, both directions (500 messages, mixed sizes)', async () => {
  const sizes = [0, 10, 3000, 100, 20_000, 1024, 1]
  const messages = Array.from({ length: 500 }, (_, i) => payload(sizes[i % sizes.length]!, i, i % 2 === 0))
  for (const direction of ['wsflow→ws', 'ws→wsflow'] as const) {
    if (direction === 'wsflow→ws') {
      const server = await wsEcho({ threshold: 0 })
      try {
        const ws = await connect(`ws://127.0.0.1:${server.port}/`, { perMessageDeflate: { threshold: 0 } })
        const client = wsflowPeer(ws)
        await exchange(client, messages, undefined, direction)
        await closeClient(client, direction)
      } finally {
        await server.close()
      }
    } else {
      const server = await wsflowEcho({ threshold: 0 })
      try {
        const client = wsPeer(await openWsClient(`ws://127.0.0.1:${server.port}/`, undefined, { perMessageDeflate: { threshold: 0 } }), 'client')
        await exchange(client, messages, undefined, direction)
        await closeClient(client, direction)
      } finally {
        await within(server.close({ timeout: 500 }), 3000, 'server close')
      }
    }
  }
})

// ---------------------------------------------------------------------------------------------
// Small messages: compressed in every direction with context takeover, whatever the threshold

/** 100 chat-like JSON messages of 100-200 bytes, under the default 1 KiB threshold. */
const CHAT = Array.from({ length: 100 }, (_, i) =>
  `{"type":"message","id":"m-${String(i).padStart(6, '0')}","room":"general","from":"${['alice', 'bob', 'carol'][i % 3]}","text":"${'the build is green again '.repeat(1 + (i % 4))}","ts":${1718000000000 + i * 977}}`)

/** Sends CHAT one message at a time (each echo checked) and returns the relay's counts of compressed data frames. */
async function chat(client: Peer, r: Relay, label: string): Promise<{ up: number; down: number }> {
  for (const [i, m] of CHAT.entries()) {
    await client.send(m)
    const got = await client.receive(5000)
    assert.ok(got.type === 'text' && sameBytes(got.data, bytesOf(m)), `${label}: message ${i} echoed`)
  }
  await closeClient(client, label)
  assert.equal([...r.up.bad, ...r.down.bad], [], `${label}: RSV bits`)
  assert.is(r.up.frames - 1, CHAT.length, `${label}: data frames up (and one close)`)
  return { up: r.up.compressed, down: r.down.compressed }
}

test('small messages with the default threshold: wsflow client → ws server, compressed both ways (context takeover both ways)', async () => {
  const server = await wsEcho({})
  const r = await relay(server.port)
  try {
    const client = wsflowPeer(await within(connect(`ws://127.0.0.1:${r.port}/`, { perMessageDeflate: true }), 3000, 'connect'))
    assert.equal(await chat(client, r, 'wsflow→ws'), { up: CHAT.length, down: CHAT.length })
  } finally {
    await r.close()
    await server.close()
  }
})

test('small messages with the default threshold: ws client → wsflow server keeping its context, compressed both ways', async () => {
  const server = await wsflowEcho({ serverNoContextTakeover: false })
  const r = await relay(server.port)
  try {
    const client = wsPeer(await openWsClient(`ws://127.0.0.1:${r.port}/`, undefined, { perMessageDeflate: {} }), 'client')
    assert.equal(await chat(client, r, 'ws→wsflow'), { up: CHAT.length, down: CHAT.length })
  } finally {
    await r.close()
    await within(server.close({ timeout: 500 }), 3000, 'server close')
  }
})

test('small messages with the default threshold: the threshold still applies in a direction without context takeover', async () => {
  // wsflow's server resets its compressor by default (server_no_context_takeover): what it sends
  // below 1 KiB goes uncompressed, what the ws client sends (context takeover) is compressed.
  const server = await wsflowEcho({})
  const r = await relay(server.port)
  try {
    const client = wsPeer(await openWsClient(`ws://127.0.0.1:${r.port}/`, undefined, { perMessageDeflate: {} }), 'client')
    assert.match(extensionsOf(r.down.head), 'server_no_context_takeover')
    assert.equal(await chat(client, r, 'ws→wsflow defaults'), { up: CHAT.length, down: 0 })
  } finally {
    await r.close()
    await within(server.close({ timeout: 500 }), 3000, 'server close')
  }
  // A wsflow client that promises client_no_context_takeover: its own small messages go uncompressed.
  const ws = await wsEcho({})
  const r2 = await relay(ws.port)
  try {
    const client = wsflowPeer(await within(connect(`ws://127.0.0.1:${r2.port}/`, { perMessageDeflate: { clientNoContextTakeover: true } }), 3000, 'connect'))
    assert.equal(await chat(client, r2, 'wsflow cnct→ws'), { up: 0, down: CHAT.length })
  } finally {
    await r2.close()
    await ws.close()
  }
})

// libwebsockets' test client (Debian's libwebsockets-test-server package) offers
// `permessage-deflate; client_no_context_takeover` and, in --justmirror mode, sends small
// lws-mirror-protocol messages ("c #RRGGBB x y r;", ~25 bytes) as fast as it can write. It stops
// sending after an uncompressed message arrives on a connection with permessage-deflate (some
// 20-40 messages, then nothing); compressed answers keep it going.
const LWS_CLIENT = '/usr/bin/libwebsockets-test-client'
const lwsTest = existsSync(LWS_CLIENT) ? test : test.skip
if (!existsSync(LWS_CLIENT)) console.log(`  (libwebsockets interop skipped: ${LWS_CLIENT} is not installed; apt-get install libwebsockets-test-server)`)

lwsTest('libwebsockets test client → wsflow server keeping its context: 2,000 small messages mirrored, every answer compressed', async () => {
  const WANTED = 2000
  let received = 0
  let reached: (() => void) | undefined
  const enough = new Promise<void>((resolve) => (reached = resolve))
  const server = await serve({ host: '127.0.0.1', port: 0, protocols: ['lws-mirror-protocol'], perMessageDeflate: { serverNoContextTakeover: false } }, async (ws) => {
    for await (const m of ws) {
      assert.match(m.text(), /^c #[0-9A-F]{6} \d+ \d+ \d+;$/)
      if (++received === WANTED) reached?.()
      await ws.send(m)
    }
  })
  const r = await relay(server.port)
  const child = spawn(LWS_CLIENT, ['127.0.0.1', `--port=${r.port}`, '--justmirror'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-2000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  /** SIGINT (the client's own stop), then SIGKILL if it has not exited 2 s later. */
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGINT')
    await within(exited, 2000, 'libwebsockets client exit').catch(() => child.kill('SIGKILL'))
    await within(exited, 3000, 'libwebsockets client killed')
  }
  try {
    await within(enough, 15_000, `${WANTED} messages from the libwebsockets client`).catch((error: unknown) => {
      throw new Error(`${String(error)}: ${received} received; the client's log ends with: ${log}`)
    })
    assert.match(extensionsOf(r.down.head), 'client_no_context_takeover')
    assert.not.match(extensionsOf(r.down.head), 'server_no_context_takeover')
    await stop()
    // Every data frame the server sent came compressed; the one frame that may not be is its close.
    // (Answers still in flight when the client stopped never reach the relay: at least half did.)
    assert.ok(r.down.compressed >= WANTED / 2, `${r.down.compressed} compressed frames down`)
    assert.ok(r.down.frames - r.down.compressed <= 1, `${r.down.frames - r.down.compressed} of ${r.down.frames} frames down uncompressed`)
    assert.equal([...r.up.bad, ...r.down.bad], [], 'RSV bits')
  } finally {
    await stop()
    await r.close()
    await within(server.close({ timeout: 500 }), 3000, 'server close')
  }
})

// A libwebsockets echo server with permessage-deflate (Debian's libwebsockets-test-server never
// agrees to the extension: it checks the RX buffer of its first protocol, dumb-increment's 10
// bytes, against the 128 the extension needs), compiled here against libwebsockets-dev.
const LWS_ECHO_C = `#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define MAX_PAYLOAD 4096
#define QUEUE 64

struct message { unsigned char buf[LWS_PRE + MAX_PAYLOAD]; size_t len; int first, final, binary; };
struct session { struct message queue[QUEUE]; unsigned head, tail; };

static volatile int interrupted;

static int callback_echo(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  struct session *s = user;
  switch (reason) {
  case LWS_CALLBACK_RECEIVE: {
    if (len > MAX_PAYLOAD || s->head - s->tail >= QUEUE) return -1;
    struct message *m = &s->queue[s->head % QUEUE];
    memcpy(m->buf + LWS_PRE, in, len);
    m->len = len;
    m->first = lws_is_first_fragment(wsi);
    m->final = lws_is_final_fragment(wsi);
    m->binary = lws_frame_is_binary(wsi);
    s->head++;
    lws_callback_on_writable(wsi);
    break;
  }
  case LWS_CALLBACK_SERVER_WRITEABLE: {
    if (s->tail == s->head) break;
    struct message *m = &s->queue[s->tail % QUEUE];
    int flags = lws_write_ws_flags(m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT, m->first, m->final);
    if (lws_write(wsi, m->buf + LWS_PRE, m->len, (enum lws_write_protocol)flags) < (int)m->len) return -1;
    s->tail++;
    if (s->tail != s->head) lws_callback_on_writable(wsi);
    break;
  }
  default:
    break;
  }
  return 0;
}

static struct lws_protocols protocols[] = {
  { "echo", callback_echo, sizeof(struct session), MAX_PAYLOAD, 0, NULL, 0 },
  { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static const struct lws_extension extensions[] = {
  { "permessage-deflate", lws_extension_callback_pm_deflate, "permessage-deflate" },
  { NULL, NULL, NULL }
};

static void on_signal(int sig) { (void)sig; interrupted = 1; }

int main(void) {
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
  info.port = 0;
  info.iface = "lo";
  info.protocols = protocols;
  info.extensions = extensions;
  struct lws_context *context = lws_create_context(&info);
  if (context == NULL) return 1;
  struct lws_vhost *vhost = lws_get_vhost_by_name(context, "default");
  printf("listening %d\\n", vhost ? lws_get_vhost_listen_port(vhost) : -1);
  fflush(stdout);
  while (!interrupted && lws_service(context, 0) >= 0) {}
  lws_context_destroy(context);
  return 0;
}
`

/** Compiles the echo server into a temporary directory; undefined (with the reason) without gcc or libwebsockets-dev. */
function buildLwsEcho(): { binary: string; dir: string } | string {
  const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'libwebsockets'], { encoding: 'utf8' })
  if (flags.status !== 0) return 'pkg-config finds no libwebsockets (apt-get install libwebsockets-dev)'
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-lws-'))
  writeFileSync(join(dir, 'echo.c'), LWS_ECHO_C)
  const binary = join(dir, 'echo')
  const cc = spawnSync('gcc', ['-O1', '-o', binary, join(dir, 'echo.c'), ...flags.stdout.trim().split(/\s+/)], { encoding: 'utf8', timeout: 60_000 })
  if (cc.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    return `gcc failed: ${cc.error?.message ?? cc.stderr}`
  }
  return { binary, dir }
}

const lwsEcho = buildLwsEcho()
const lwsEchoTest = typeof lwsEcho === 'string' ? test.skip : test
if (typeof lwsEcho === 'string') console.log(`  (libwebsockets server interop skipped: ${lwsEcho})`)

lwsEchoTest('wsflow client → libwebsockets server: small messages compressed (context takeover), every echo intact', async () => {
  if (typeof lwsEcho === 'string') return
  const child = spawn(lwsEcho.binary, [], { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let r: Relay | undefined
  try {
    const port = await within(new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const found = /listening (\d+)/.exec(out)
        if (found !== null) resolve(Number(found[1]))
      })
      child.once('exit', (code) => reject(new Error(`the libwebsockets echo server exited (${code})`)))
    }), 5000, 'libwebsockets echo server listening')
    r = await relay(port)
    const ws = await within(connect(`ws://127.0.0.1:${r.port}/`, { protocols: ['echo'], perMessageDeflate: true }), 3000, 'connect')
    assert.is(ws.protocol, 'echo')
    assert.is(wsflowAgreed(ws), '', 'permessage-deflate agreed, without parameters')
    const counts = await chat(wsflowPeer(ws), r, 'wsflow→libwebsockets')
    assert.is(counts.up, CHAT.length, 'every small message compressed by wsflow, and inflated by libwebsockets')
    console.log(`  libwebsockets compressed ${counts.down} of its ${CHAT.length} echoes`)
  } finally {
    await r?.close()
    child.kill('SIGTERM')
    await within(exited, 3000, 'libwebsockets echo server exit').catch(() => child.kill('SIGKILL'))
  }
})

test.after(() => {
  if (typeof lwsEcho !== 'string') rmSync(lwsEcho.dir, { recursive: true, force: true })
})

// ---------------------------------------------------------------------------------------------
// 200 connections with compression at once

const CONNECTIONS = 200
/** Generous: both ends of each connection live in this process (zlib: ~256 KiB per compressor with context takeover). */
const RSS_PER_CONNECTION_BOUND = 2 * MiB

test(`${CONNECTIONS} wsflow connections with compression open at once: bounded memory, clean close`, async () => {
  const server = await wsflowEcho({})
  const clients: WebSocket[] = []
  try {
    // Warm up once (zlib, code paths), so that the baseline does not count one-time costs.
    const warm = await connect(server.url, { perMessageDeflate: true })
    await warm.send(payload(4096, 1, true) as string)
    for await (const _ of warm) break
    await warm.close()
    const before = process.memoryUsage().rss
    const opened = await within(Promise.all(Array.from({ length: CONNECTIONS }, () => connect(server.url, { perMessageDeflate: true, handshakeTimeout: 5000 }))), 10_000, 'connecting')
    clients.push(...opened)
    // Each exchanges one compressible 4 KiB message (over the 1 KiB threshold: compressed both ways).
    await within(Promise.all(clients.map(async (ws, i) => {
      const m = payload(4096, i, true) as string
      await ws.send(m)
      const iterator = ws[Symbol.asyncIterator]()
      const echo = await iterator.next()
      assert.ok(!echo.done && echo.value.text() === m, `connection ${i}: echo`)
      await iterator.return?.()
    })), 10_000, 'exchanging')
    assert.is(server.clients.size, CONNECTIONS)
    assert.ok(clients.every((ws) => ws.extensions.some((e) => e.name === 'permessage-deflate')), 'every connection agreed on permessage-deflate')
    const open = process.memoryUsage().rss
    const perConnection = (open - before) / CONNECTIONS
    console.log(`  ${CONNECTIONS} connections with permessage-deflate (both ends in this process): rss +${((open - before) / MiB).toFixed(1)} MiB, ${(perConnection / KiB).toFixed(0)} KiB per connection`)
    assert.ok(perConnection < RSS_PER_CONNECTION_BOUND, `rss per connection ${(perConnection / KiB).toFixed(0)} KiB, bound ${RSS_PER_CONNECTION_BOUND / KiB} KiB`)
    const infos = await within(Promise.all(clients.map((ws) => ws.close(1000, 'done'))), 10_000, 'closing')
    assert.ok(infos.every((info) => info.wasClean && info.code === 1000), `every connection closed cleanly (${infos.filter((i) => !i.wasClean).length} did not)`)
    for (let i = 0; i < 100 && server.clients.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.is(server.clients.size, 0, 'the server forgot every connection')
    console.log(`  after closing: rss +${((process.memoryUsage().rss - before) / MiB).toFixed(1)} MiB over the baseline`)
  } finally {
    for (const ws of clients) if (ws.readyState !== 'closed') ws.terminate()
    await within(server.close({ timeout: 500 }), 3000, 'server close')
  }
})

test.run()
