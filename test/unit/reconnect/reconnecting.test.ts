/**
 * The reconnecting iterator on a fake clock (no real waiting): the delays it sleeps, what it
 * retries and what it throws, the backoff's reset, maxRetries and the abort. Connections are
 * real: wsflow servers on 127.0.0.1 and a port nobody listens on.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError, HandshakeError, InvalidArgumentError, serve, type Server, type WebSocket } from '../../../src/index.ts'
import { reconnecting } from '../../../src/client/reconnecting.ts'
import type { RetryEvent } from '../../../src/reconnect/reconnecting.ts'
import { closedPort, FakeClock, refusedCode } from './fake-clock.ts'
import { rejection, within } from '../../helpers/timing.ts'

const half = (): number => 0.5

async function withServer(options: Parameters<typeof serve>[0], handler: (ws: WebSocket) => unknown, body: (server: Server) => Promise<void>): Promise<void> {
  const server = await serve({ ...options, host: '127.0.0.1', port: 0 }, handler)
  try {
    await body(server)
  } finally {
    await server.close({ timeout: 200 })
  }
}

test('a refused TCP connection is retried after 250, 500, 1000, 2000 ms (random 0.5); an abort in the wait ends the loop', async () => {
  const port = await closedPort()
  const clock = new FakeClock()
  const controller = new AbortController()
  const events: RetryEvent[] = []
  let yielded = 0
  const loop = (async () => {
    for await (const _ws of reconnecting(`ws://127.0.0.1:${port}`, { clock, random: half, signal: controller.signal, onRetry: (e) => events.push(e) })) yielded++
  })()
  for (let i = 0; i < 4; i++) {
    await clock.nextSleep()
    if (i < 3) clock.advance()
  }
  controller.abort()
  await within(loop, 2000, 'the loop ends on abort')
  assert.equal(clock.delays, [250, 500, 1000, 2000])
  assert.equal(events.map((e) => e.attempt), [1, 2, 3, 4])
  assert.is(refusedCode(events[0]!.reason), 'ECONNREFUSED')
  assert.is(yielded, 0)
})

test('a 401 refusal is thrown at the first attempt: one request, no wait', async () => {
  let requests = 0
  await withServer({ verify: () => (requests++, { status: 401 }) }, () => {}, async (server) => {
    const clock = new FakeClock()
    const error = await rejection((async () => {
      for await (const _ws of reconnecting(server.url, { clock, random: half })) assert.unreachable('no connection')
    })(), 2000, 'the 401 ends the loop')
    assert.instance(error, HandshakeError)
    assert.is((error as HandshakeError).status, 401)
    assert.is(requests, 1)
    assert.equal(clock.delays, [])
  })
})

test('a 503 refusal is retried until the server accepts; a 429 too', async () => {
  for (const status of [503, 429]) {
    let requests = 0
    await withServer({ verify: () => (++requests <= 2 ? { status } : true) }, async (ws) => {
      await ws.send('welcome')
      await ws.closed
    }, async (server) => {
      const clock = new FakeClock()
      const loop = (async () => {
        for await (const ws of reconnecting(server.url, { clock, random: half })) {
          const message = await ws.recv()
          return message.text()
        }
        return undefined
      })()
      await clock.nextSleep()
      clock.advance()
      await clock.nextSleep()
      clock.advance()
      assert.is(await within(loop, 2000, 'connected after two refusals'), 'welcome')
      assert.is(requests, 3)
      assert.equal(clock.delays, [250, 500])
    })
  }
})

test("a 503 with Retry-After: 3 waits 3 s instead of the backoff's 250 ms; an HTTP date counts from the clock; maxDelay caps it", async () => {
  let requests = 0
  const answers = [{ status: 503, headers: { 'retry-after': '3' } }, { status: 429, headers: { 'retry-after': new Date(10_000).toUTCString() } }, { status: 503, headers: { 'retry-after': '999' } }]
  await withServer({ verify: () => answers[requests++] ?? true }, async (ws) => {
    await ws.send('in')
    await ws.closed
  }, async (server) => {
    const clock = new FakeClock()
    clock.time = 1_000
    const loop = (async () => {
      for await (const ws of reconnecting(server.url, { clock, random: half, maxDelay: 20_000 })) return (await ws.recv()).text()
      return undefined
    })()
    for (let i = 0; i < 3; i++) {
      await clock.nextSleep()
      clock.advance()
    }
    assert.is(await within(loop, 2000, 'connected after three refusals'), 'in')
    // 3 s; the date 10 s minus the clock's 4 s; 999 s capped at maxDelay
    assert.equal(clock.delays, [3000, 6000, 20_000])
  })
})

test('close 1012 is retried; close 4001 ends the loop with a ConnectionClosedError 4001 unless shouldReconnect says otherwise', async () => {
  const codes = [1012, 4001, 4001]
  let served = 0
  await withServer({}, async (ws) => {
    const code = codes[served++] ?? 1000
    await ws.close(code, 'bye')
  }, async (server) => {
    const clock = new FakeClock()
    const seen: number[] = []
    const error = await rejection((async () => {
      for await (const ws of reconnecting(server.url, { clock, random: half })) {
        seen.push((await ws.closed).code)
        if (clock.sleeping) clock.advance()
        void clock.nextSleep().then(() => clock.advance(), () => {})
      }
    })(), 3000, 'the 4001 ends the loop')
    assert.instance(error, ConnectionClosedError)
    assert.is((error as ConnectionClosedError).closeCode, 4001)
    assert.equal(seen, [1012, 4001])

    served = 1 // the next connection closes with 4001, then 4001, then 1000
    const hooked: Array<[number, number]> = []
    const hookClock = new FakeClock()
    const closes: number[] = []
    for await (const ws of reconnecting(server.url, {
      clock: hookClock, random: half,
      shouldReconnect: (reason, attempt) => (hooked.push([(reason as { code: number }).code, attempt]), true),
    })) {
      closes.push((await ws.closed).code)
      if (closes.length === 3) break
      void hookClock.nextSleep().then(() => hookClock.advance(), () => {})
    }
    assert.equal(closes, [4001, 4001, 1000])
    assert.equal(hooked, [[4001, 1], [4001, 2]])
  })
})

test('a connection that stayed up resetAfter ms resets the backoff; a short one does not', async () => {
  await withServer({}, async (ws) => {
    await ws.close(1011)
  }, async (server) => {
    const clock = new FakeClock()
    let round = 0
    for await (const ws of reconnecting(server.url, { clock, random: half, resetAfter: 5000 })) {
      await ws.closed
      round++
      if (round === 3) clock.time += 5000 // this one "stayed up" 5 s
      if (round === 5) break
      void clock.nextSleep().then(() => clock.advance(), () => {})
    }
    // retries 1, 2, then the long connection resets: 1, 2 again
    assert.equal(clock.delays, [250, 500, 250, 500])
  })
})

test('maxRetries: the last reason is thrown after that many retries in a row', async () => {
  const port = await closedPort()
  const clock = new FakeClock()
  const loop = (async () => {
    for await (const _ws of reconnecting(`ws://127.0.0.1:${port}`, { clock, random: half, maxRetries: 2 })) assert.unreachable('no connection')
  })()
  await clock.nextSleep()
  clock.advance()
  await clock.nextSleep()
  clock.advance()
  const error = await rejection(loop, 2000, 'the third failure is thrown')
  assert.is(refusedCode(error), 'ECONNREFUSED')
  assert.equal(clock.delays, [250, 500])
})

test('aborting while connected closes the connection with 1001 and ends the loop without an error', async () => {
  let serverSaw: (code: number) => void = () => {}
  const serverClosed = new Promise<number>((resolve) => (serverSaw = resolve))
  await withServer({}, async (ws) => {
    serverSaw((await ws.closed).code)
  }, async (server) => {
    const controller = new AbortController()
    let rounds = 0
    let clientSaw: number | undefined
    for await (const ws of reconnecting(server.url, { signal: controller.signal, clock: new FakeClock() })) {
      rounds++
      controller.abort()
      for await (const _message of ws) assert.unreachable('no message')
      clientSaw = (await ws.closed).code
    }
    assert.is(rounds, 1)
    assert.is(clientSaw, 1001)
    assert.is(await within(serverClosed, 2000, 'the server saw the close'), 1001)
  })
})

test('aborting during the opening handshake ends the loop without an error and without a connection', async () => {
  let verifying: () => void = () => {}
  let answer: (verdict: boolean) => void = () => {}
  const verified = new Promise<void>((resolve) => (verifying = resolve))
  await withServer({ verify: () => new Promise<boolean>((resolve) => ((answer = resolve), verifying())) }, () => {}, async (server) => {
    const controller = new AbortController()
    const loop = (async () => {
      for await (const _ws of reconnecting(server.url, { signal: controller.signal, clock: new FakeClock() })) assert.unreachable('no connection')
      return 'ended'
    })()
    await within(verified, 2000, 'the handshake waits for verify')
    controller.abort()
    assert.is(await within(loop, 2000, 'the loop ends'), 'ended')
    answer(false) // the server's side of the handshake ends too
  })
})

test('leaving the loop closes the open connection with 1000; the next round closes the previous first', async () => {
  const codes: number[] = []
  await withServer({}, async (ws) => {
    codes.push((await ws.closed).code)
  }, async (server) => {
    const clock = new FakeClock()
    const sockets: WebSocket[] = []
    for await (const ws of reconnecting(server.url, { clock, random: half })) {
      sockets.push(ws)
      if (sockets.length === 2) break
      void clock.nextSleep().then(() => clock.advance(), () => {})
    }
    assert.equal(await Promise.all(sockets.map(async (ws) => (await ws.closed).code)), [1000, 1000])
    assert.equal(clock.delays, [250])
  })
})

test('bad options are refused with an InvalidArgumentError naming the option', async () => {
  for (const options of [{ initialDelay: -1 }, { maxDelay: Number.NaN }, { factor: 0 }, { maxRetries: 1.5 }, { shouldReconnect: 'yes' }, { resetAfter: '5s' }]) {
    const error = await rejection(reconnecting('ws://127.0.0.1:1', options as never).next(), 1000, JSON.stringify(options))
    assert.instance(error, InvalidArgumentError)
    assert.match((error as Error).message, Object.keys(options)[0]!)
  }
})

test.run()
