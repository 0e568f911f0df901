/**
 * The cluster adapter's side of a worker, over an IPC channel given to it (the relay and real
 * workers are in test/integration/pubsub-cluster.test.ts): what it sends for subscriptions and
 * publications, what it delivers, and a channel that is gone (degraded once, each publication
 * counted lost, local delivery unaffected).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ClusterAdapter, CLUSTER_CHANNEL, InvalidArgumentError, PubSub, type AdapterEvent, type IpcChannel } from '../../../src/index.ts'

/** An IPC channel in memory: what is sent is kept; `receive` plays the primary. */
class MemoryChannel implements IpcChannel {
  connected = true
  readonly sent: unknown[] = []
  #listeners: ((message: unknown) => void)[] = []
  send = (message: unknown): boolean => {
    this.sent.push(message)
    return true
  }
  on(_event: 'message', listener: (message: unknown) => void): this {
    this.#listeners.push(listener)
    return this
  }
  off(_event: 'message', listener: (message: unknown) => void): this {
    this.#listeners = this.#listeners.filter((l) => l !== listener)
    return this
  }
  receive(message: unknown): void {
    for (const listener of this.#listeners) listener(message)
  }
  get listeners(): number {
    return this.#listeners.length
  }
}

test('no IPC channel: a clear error', () => {
  assert.throws(() => new ClusterAdapter({ on: () => undefined, off: () => undefined }), (e: Error) => e instanceof InvalidArgumentError && /no IPC channel/.test(e.message))
})

test('subscriptions, publications and deliveries on the channel; other messages left alone', async () => {
  const channel = new MemoryChannel()
  const hub = new PubSub({ adapter: new ClusterAdapter(channel) })
  const a = hub.subscribe('a')
  hub.subscribe('a')
  hub.publish('a', 'hi')
  hub.publish('b', new Uint8Array([1, 2]))
  a.unsubscribe()
  assert.equal(channel.sent, [
    { channel: CLUSTER_CHANNEL, op: 'sub', topic: 'a' },
    { channel: CLUSTER_CHANNEL, op: 'pub', topic: 'a', data: Buffer.from('hi').toString('base64'), text: true },
    { channel: CLUSTER_CHANNEL, op: 'pub', topic: 'b', data: 'AQI=', text: false },
  ])
  const c = hub.subscribe('c')
  channel.receive({ channel: CLUSTER_CHANNEL, op: 'pub', topic: 'c', data: Buffer.from('from another').toString('base64'), text: true })
  channel.receive({ channel: 'someone else', op: 'pub', topic: 'c', data: 'eA==', text: true })
  channel.receive('not an object')
  assert.is((await c.next()).value?.text(), 'from another')
  assert.is(c.bufferedAmount, 0, 'the foreign messages were ignored')
  await hub.close()
  assert.equal(channel.sent.slice(-1), [{ channel: CLUSTER_CHANNEL, op: 'unsub', topic: 'c' }], 'close unsubscribes what is left')
  assert.is(channel.listeners, 0)
})

test('a channel that is gone: degraded once, each publication counted lost, local delivery goes on', async () => {
  const channel = new MemoryChannel()
  const events: AdapterEvent[] = []
  const hub = new PubSub({ adapter: new ClusterAdapter(channel), onEvent: (event) => events.push(event) })
  const local = hub.subscribe('t')
  channel.connected = false
  assert.is(hub.publish('t', 'one'), 1)
  assert.is(hub.publish('t', 'two'), 1)
  assert.equal(events.map((e) => e.type), ['degraded', 'lost', 'lost'])
  assert.ok(hub.degraded)
  assert.is(hub.stats.lost, 2)
  assert.is((await local.next()).value?.text(), 'one')
  assert.is((await local.next()).value?.text(), 'two')
})

test.run()
