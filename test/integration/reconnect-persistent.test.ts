/**
 * persistent() against a real wsflow server in a child process killed (SIGKILL, by PID) in the
 * middle of a burst of sends and started again on the same port. The server prints every
 * message it receives; the test checks that no sequence number arrives twice (at most once),
 * that sends made during the outage queue up to the bound and the rest reject, and that the
 * queued ones arrive after the restart, in order, behind onOpen's own message.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionClosedError } from '../../src/index.ts'
import { persistent } from '../../src/client/reconnecting.ts'
import { QueueFullError } from '../../src/reconnect/queue.ts'
import { ChildServer } from './reconnect-child.ts'
import { within } from '../helpers/timing.ts'

function once(target: EventTarget, type: string, ms: number): Promise<void> {
  return within(new Promise<void>((resolve) => target.addEventListener(type, () => resolve(), { once: true })), ms, `event ${type}`)
}

test('a server killed mid-burst and restarted: nothing arrives twice, the outage queue is bounded, the queued arrive in order after onOpen', async () => {
  const servers: ChildServer[] = [await ChildServer.start()]
  const port = servers[0]!.port
  let opens = 0
  const rws = persistent(`ws://127.0.0.1:${port}`, {
    initialDelay: 20, maxDelay: 100, maxQueuedMessages: 50,
    onOpen: (ws) => ws.send(`hello ${++opens}`),
  })
  try {
    await once(rws, 'open', 5000)
    // 1. Sent and received before the drop.
    for (let seq = 1; seq <= 100; seq++) await rws.send(`seq ${seq}`)
    await servers[0]!.until((s) => s.received.includes('seq 100'), 5000, 'the first hundred')

    // 2. A burst of 200 x 64 KiB handed to the connection as it is killed (more than the socket's
    // buffers hold: some sends wait for drain); each settles one way or the other.
    const padding = ' ' + 'x'.repeat(64 * 1024)
    const burst = Array.from({ length: 200 }, (_, i) => rws.send(`seq ${1001 + i}${padding}`))
    await servers[0]!.until((s) => s.received.includes('seq 1010'), 5000, 'the burst under way')
    const killed = servers[0]!.kill()
    const burstOutcomes = await within(Promise.allSettled(burst), 5000, 'the burst settled')
    await killed
    if (rws.state !== 'connecting') await once(rws, 'connecting', 5000)

    // 3. The outage: 50 sends queue, the next 10 reject at once.
    const queued = Array.from({ length: 50 }, (_, i) => rws.send(`seq ${2001 + i}`))
    const refused = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => rws.send(`seq ${3001 + i}`)))
    assert.ok(refused.every((r) => r.status === 'rejected' && r.reason instanceof QueueFullError), 'sends past the bound reject with QueueFullError')
    assert.is(rws.queuedMessages, 50)

    // 4. The same port again: the queue flows behind onOpen's hello.
    servers.push(await ChildServer.start(port))
    await within(Promise.all(queued), 10_000, 'the queued sends went out')
    for (let seq = 4001; seq <= 4010; seq++) await rws.send(`seq ${seq}`)
    await servers[1]!.until((s) => s.received.includes('seq 4010'), 5000, 'the live sends after the restart')
    await rws.close()

    const first = servers[0]!.received
    const second = servers[1]!.received
    assert.equal(first.slice(0, 101), ['hello 1', ...Array.from({ length: 100 }, (_, i) => `seq ${i + 1}`)])
    assert.equal(second, ['hello 2', ...Array.from({ length: 50 }, (_, i) => `seq ${2001 + i}`), ...Array.from({ length: 10 }, (_, i) => `seq ${4001 + i}`)])
    const all = [...first, ...second]
    assert.is(new Set(all).size, all.length, 'no message arrived twice')
    // The burst: what the dead server printed is a prefix of it, and none of it went to the new one.
    const burstSeen = first.slice(101)
    assert.ok(burstSeen.length >= 10, 'the killed server had some of the burst')
    assert.equal(burstSeen, Array.from({ length: burstSeen.length }, (_, i) => `seq ${1001 + i}`))
    const rejected = burstOutcomes.filter((o) => o.status === 'rejected')
    assert.ok(rejected.every((o) => (o as PromiseRejectedResult).reason instanceof ConnectionClosedError), 'a burst send that failed rejects with ConnectionClosedError')
    // A send that rejected may still have arrived (its bytes were in the socket's buffer when the
    // drain it waited for never came): delivery is at most once, never "exactly once".
    assert.ok(second.every((text) => !(Number(text.split(' ')[1]) >= 1001 && Number(text.split(' ')[1]) <= 1200)), 'no burst message went to the new server')
    assert.is(rws.connections, 2)
    assert.is(rws.state, 'closed')
    console.log(`  burst of 200 x 64 KiB: ${burstOutcomes.length - rejected.length} resolved, ${burstSeen.length} printed by the killed server, ${rejected.length} rejected (its drain never came); none resent`)
  } finally {
    await rws.close()
    for (const server of servers) await server.kill()
  }
})

test.run()
