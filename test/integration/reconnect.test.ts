/**
 * The reconnecting iterator against a real wsflow server in a child process that is killed
 * (SIGKILL) and started again on the same port: the loop sees the drop, retries while nothing
 * listens (ECONNREFUSED) and resumes on the new process.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError, type WebSocket } from '../../src/index.ts'
import { reconnecting } from '../../src/client/reconnecting.ts'
import type { RetryEvent } from '../../src/reconnect/reconnecting.ts'
import { ChildServer } from './reconnect-child.ts'
import { within } from '../helpers/timing.ts'
import { refusedCode } from '../unit/reconnect/fake-clock.ts'

test('killed and restarted on the same port, the server gets the client back; retries were refused connections', async () => {
  const servers: ChildServer[] = [await ChildServer.start()]
  const controller = new AbortController()
  const retries: RetryEvent[] = []
  const ends: string[] = []
  let onRetry: (() => void) | undefined
  try {
    const url = `ws://127.0.0.1:${servers[0]!.port}`
    const loop = (async () => {
      let round = 0
      for await (const ws of reconnecting(url, { initialDelay: 50, maxDelay: 200, signal: controller.signal, onRetry: (e) => (retries.push(e), onRetry?.()) })) {
        round++
        await ws.send(`hello ${round}`)
        try {
          for await (const message of ws) assert.is(message.text(), `ack hello ${round}`)
          ends.push('clean')
        } catch (error) {
          assert.instance(error, ConnectionClosedError)
          ends.push(String((error as ConnectionClosedError).closeCode))
        }
      }
      return round
    })()
    await servers[0]!.until((s) => s.received.length === 1, 5000, 'the first hello')
    const refusedTwice = new Promise<void>((resolve) => {
      onRetry = () => {
        if (retries.filter((e) => refusedCode(e.reason) === 'ECONNREFUSED').length >= 2) resolve()
      }
    })
    await servers[0]!.kill()
    await within(refusedTwice, 10_000, 'two refused attempts while nothing listens')
    servers.push(await ChildServer.start(servers[0]!.port))
    await servers[1]!.until((s) => s.received.length === 1, 10_000, 'the hello after the restart')
    controller.abort()
    const rounds = await within(loop, 5000, 'the loop ends on abort')
    await servers[1]!.until((s) => s.lines.includes('closed 1001'), 5000, 'the abort closed with 1001')

    assert.equal(servers[0]!.received, ['hello 1'])
    assert.equal(servers[1]!.received, ['hello 2'])
    assert.is(rounds, 2)
    assert.equal(ends, ['1006', 'clean'])
    assert.is(retries[0]!.attempt, 1)
    assert.ok(retries.every((e) => e.delay >= 0 && e.delay < 200), `delays under maxDelay: ${retries.map((e) => e.delay).join(', ')}`)
  } finally {
    controller.abort()
    for (const server of servers) await server.kill()
  }
})

test.run()
