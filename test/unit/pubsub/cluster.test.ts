/**
 * The cluster adapter's side of a worker, over an IPC channel given to it (the relay and real
 * workers are in test/integration/pubsub-cluster.test.ts): what it sends for subscriptions and
 * publications, what it delivers, a channel that is gone (degraded once, each publication
 * counted lost, local delivery unaffected), and a primary that falls behind (the backlog bound).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ClusterAdapter, CLUSTER_CHANNEL, DEFAULT_CLUSTER_BACKLOG, InvalidArgumentError, PubSub, type AdapterEvent, type IpcChannel } from '../../../src/index.ts'

/** An IPC channel in memory: what is sent is kept; `receive` plays the primary. */
class MemoryChannel implements IpcChannel {
  connected = true
  readonly sent: unknown[] = []
  /** When set, write callbacks wait here (the OS has not taken the bytes) until `flush()`. */
  held: ((error: Error | null) => void)[] | undefined
  #listeners: ((message: unknown) => void)[] = []
  send = (message: unknown, callback?: (error: Error | null) => void): boolean => {
    this.sent.push(message)
    if (callback !== undefined) {
      if (this.held !== undefined) this.held.push(callback)
      else queueMicrotask(() => callback(null))
    }
    return true
  }
  flush(): void {
    for (const callback of this.held?.splice(0) ?? []) callback(null)
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

test('a primary that falls behind: past maxBacklog a publication is counted lost, subscriptions still go, and sending resumes when the channel drains', async () => {
  assert.throws(() => new ClusterAdapter(new MemoryChannel(), { maxBacklog: -1 }), (e: Error) => e instanceof InvalidArgumentError && /maxBacklog must be a whole number/.test(e.message))
  assert.throws(() => new ClusterAdapter(new MemoryChannel(), { maxBacklog: 1.5 }), (e: Error) => e instanceof InvalidArgumentError)
  assert.is(DEFAULT_CLUSTER_BACKLOG, 8 * 1024 * 1024)
  const channel = new MemoryChannel()
  channel.held = []
  const events: AdapterEvent[] = []
  const adapter = new ClusterAdapter(channel, { maxBacklog: 4096 })
  const hub = new PubSub({ adapter, onEvent: (event) => events.push(event) })
  const local = hub.subscribe('t')
  const payload = new Uint8Array(1000) // 1,336 bytes of base64, plus the envelope
  for (let i = 0; i < 5; i++) assert.is(hub.publish('t', payload), 1, 'local delivery goes on')
  const published = channel.sent.filter((m) => (m as { op: string }).op === 'pub').length
  assert.is(published, 2, 'two fit in 4 KiB, the rest were not queued')
  assert.is(hub.stats.lost, 3)
  assert.equal(events.map((e) => e.type), ['lost', 'lost', 'lost'])
  assert.not.ok(hub.degraded, 'a full backlog is not a broken link')
  assert.ok(adapter.backlog > 2 * 1336 && adapter.backlog <= 4096, `backlog ${adapter.backlog}`)
  hub.subscribe('u')
  assert.equal(channel.sent.at(-1), { channel: CLUSTER_CHANNEL, op: 'sub', topic: 'u' }, 'a subscription is never dropped')
  channel.flush()
  assert.is(adapter.backlog, 0, 'the OS took everything')
  channel.held = undefined
  hub.publish('t', payload)
  assert.is(channel.sent.filter((m) => (m as { op: string }).op === 'pub').length, 3, 'sending resumed')
  assert.is(hub.stats.lost, 3)
  for (let i = 0; i < 6; i++) assert.ok((await local.next()).value !== undefined)
  await hub.close()
})

test.run()
