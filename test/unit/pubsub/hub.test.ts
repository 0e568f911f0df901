/**
 * The hub without a server: topic validation, reference counts seen by an adapter, publish to
 * server-side consumers (order, except, counts), delivery from the adapter without a re-publish,
 * a slow consumer's counted drops, events, and close.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidArgumentError, Message } from '../../../src/index.ts'
import { MAX_TOPIC_LENGTH, type AdapterEvent, type AdapterHost, type Publication, type PubSubAdapter } from '../../../src/pubsub/adapter.ts'
import { PubSub } from '../../../src/pubsub/hub.ts'
import type { TopicSubscription } from '../../../src/pubsub/subscription.ts'

/** An adapter that records what the hub asks of it and lets the test deliver and report as another process would. */
class RecordingAdapter implements PubSubAdapter {
  host: AdapterHost | undefined
  readonly calls: string[] = []
  readonly published: Publication[] = []
  throwOnPublish = false
  attach(host: AdapterHost): void {
    this.host = host
    this.calls.push('attach')
  }
  subscribe(topic: string): void {
    this.calls.push(`subscribe ${topic}`)
  }
  unsubscribe(topic: string): void {
    this.calls.push(`unsubscribe ${topic}`)
  }
  publish(publication: Publication): void {
    if (this.throwOnPublish) throw new Error('link down')
    this.published.push(publication)
  }
  close(): Promise<void> {
    this.calls.push('close')
    return Promise.resolve()
  }
}

/** Takes what is buffered in a subscription now (it never waits for more). */
async function take(subscription: TopicSubscription, count: number): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    const { value, done } = await subscription.next()
    if (done === true) break
    out.push(value.text())
  }
  return out
}

function throwsInvalid(fn: () => unknown, pattern: RegExp, what: string): void {
  try {
    fn()
  } catch (error) {
    assert.instance(error, InvalidArgumentError, what)
    assert.match((error as Error).message, pattern, what)
    return
  }
  assert.unreachable(`${what}: did not throw`)
}

test('bad topic names: empty, too long, not a string, each named in the error', () => {
  const hub = new PubSub()
  throwsInvalid(() => hub.subscribe(''), /must not be empty/, 'empty')
  throwsInvalid(() => hub.publish('x'.repeat(MAX_TOPIC_LENGTH + 1), 'a'), new RegExp(`at most ${MAX_TOPIC_LENGTH} characters, not a string of ${MAX_TOPIC_LENGTH + 1} characters`), 'too long')
  throwsInvalid(() => hub.subscribe(42 as unknown as string), /must be a string, not 42/, 'a number')
  throwsInvalid(() => hub.subscriberCount(null as unknown as string), /must be a string, not null/, 'null')
  throwsInvalid(() => hub.publish({} as unknown as string, 'a'), /must be a string, not object/, 'an object')
  // The longest allowed name is accepted.
  assert.is(hub.publish('x'.repeat(MAX_TOPIC_LENGTH), 'a'), 0)
  assert.equal(hub.topics, [])
})

test('bad options and publish options are refused with the option named', () => {
  throwsInvalid(() => new PubSub({ maxBackpressure: -1 }), /maxBackpressure must be a whole number/, 'negative budget')
  throwsInvalid(() => new PubSub({ slowConsumer: 'kick' as 'drop' }), /slowConsumer must be 'drop' or 'close', not "kick"/, 'policy')
  throwsInvalid(() => new PubSub({ adapter: {} as PubSubAdapter }), /adapter must implement PubSubAdapter/, 'adapter')
  const hub = new PubSub()
  throwsInvalid(() => hub.publish('t', 'a', { maxBackpressure: Number.NaN }), /publish: maxBackpressure/, 'publish budget')
  throwsInvalid(() => hub.publish('t', 42 as unknown as string), /cannot send a value of type number/, 'data')
})

test('the adapter sees one subscribe per topic at the first subscriber and one unsubscribe after the last', async () => {
  const adapter = new RecordingAdapter()
  const hub = new PubSub({ adapter })
  await hub.ready
  const a1 = hub.subscribe('a')
  const a2 = hub.subscribe('a')
  const b = hub.subscribe('b')
  assert.equal(adapter.calls, ['attach', 'subscribe a', 'subscribe b'])
  assert.is(hub.subscriberCount('a'), 2)
  assert.is(hub.subscriberCount('nobody'), 0)
  assert.equal(hub.topics.sort(), ['a', 'b'])
  assert.equal([...adapter.host!.topics()].sort(), ['a', 'b'])
  a1.unsubscribe()
  assert.equal(adapter.calls.slice(3), [], 'a still has a subscriber')
  a1.unsubscribe() // twice is harmless
  a2.unsubscribe()
  assert.equal(adapter.calls.slice(3), ['unsubscribe a'])
  assert.equal(hub.topics, ['b'])
  await b.return()
  assert.equal(adapter.calls.slice(3), ['unsubscribe a', 'unsubscribe b'])
  // A topic subscribed again is subscribed again at the adapter.
  hub.subscribe('a')
  assert.equal(adapter.calls.slice(5), ['subscribe a'])
})

test('publish reaches every consumer of the topic in order, but the one excepted, and returns the count', async () => {
  const adapter = new RecordingAdapter()
  const hub = new PubSub({ adapter })
  const one = hub.subscribe('news')
  const two = hub.subscribe('news')
  const other = hub.subscribe('sport')
  assert.is(hub.publish('news', 'first'), 2)
  assert.is(hub.publish('news', 'second', { except: two }), 1)
  assert.is(hub.publish('news', new Uint8Array([1, 2, 3])), 2)
  assert.equal(await take(one, 2), ['first', 'second'])
  assert.equal(await take(two, 1), ['first'])
  const bytes = await two.next()
  assert.is(bytes.value?.type, 'binary')
  assert.equal([...bytes.value!.data], [1, 2, 3])
  assert.is(other.bufferedAmount, 0, 'another topic got nothing')
  // Each publication is handed to the adapter once, text flagged.
  assert.equal(adapter.published.map((p) => [p.topic, p.text, p.data.length]), [['news', true, 5], ['news', true, 6], ['news', false, 3]])
  assert.equal(hub.stats.published, 3)
  assert.equal(hub.stats.delivered, 5)
})

test('a consumer waiting in next() is handed the message at once; a for-await loop ends when it breaks, and unsubscribes', async () => {
  const adapter = new RecordingAdapter()
  const hub = new PubSub({ adapter })
  const subscription = hub.subscribe('t')
  const seen: string[] = []
  const loop = (async () => {
    for await (const message of subscription) {
      seen.push(message.text())
      if (seen.length === 3) break
    }
  })()
  for (let i = 0; i < 5; i++) {
    hub.publish('t', `m${i}`)
    await Promise.resolve() // the loop runs between publications
  }
  await loop
  assert.equal(seen, ['m0', 'm1', 'm2'])
  assert.ok(subscription.ended)
  assert.is(hub.subscriberCount('t'), 0)
  assert.ok(adapter.calls.includes('unsubscribe t'))
  assert.is(hub.publish('t', 'late'), 0)
})

test('a publication from another process is delivered locally and not handed back to the adapter', async () => {
  const adapter = new RecordingAdapter()
  const hub = new PubSub({ adapter })
  const subscription = hub.subscribe('t')
  const text = new TextEncoder().encode('from afar')
  adapter.host!.deliver({ topic: 't', data: text, text: true })
  adapter.host!.deliver({ topic: 'unknown', data: text, text: true })
  adapter.host!.deliver({ topic: 't', data: new Uint8Array([9]), text: false })
  const first = await subscription.next()
  assert.is(first.value?.text(), 'from afar')
  assert.is((await subscription.next()).value?.type, 'binary')
  assert.is(adapter.published.length, 0, 'nothing re-published')
  assert.is(hub.stats.received, 3)
})

test('a slow consumer keeps at most its budget of bytes and counts the messages it lost', async () => {
  const hub = new PubSub()
  // Each 20-byte message is charged 22 bytes: 4 fit in 100.
  const slow = hub.subscribe('t', { maxBufferedAmount: 100 })
  const fast = hub.subscribe('t', { maxBufferedAmount: 100_000 })
  const payload = 'x'.repeat(20)
  let deliveries = 0
  for (let i = 0; i < 10; i++) deliveries += hub.publish('t', payload)
  assert.is(deliveries, 14)
  assert.is(slow.bufferedAmount, 88)
  assert.is(slow.dropped, 6)
  assert.is(fast.dropped, 0)
  assert.is(hub.stats.dropped, 6)
  assert.is((await take(slow, 4)).length, 4)
  assert.is(slow.bufferedAmount, 0)
  // Room again: the next message is kept.
  hub.publish('t', payload)
  assert.is(slow.bufferedAmount, 22)
  // Empty messages are charged too, so a flood of them is bounded.
  const empty = hub.subscribe('e', { maxBufferedAmount: 10 })
  for (let i = 0; i < 100; i++) hub.publish('e', new Uint8Array(0))
  assert.is(empty.bufferedAmount, 10)
  assert.is(empty.dropped, 95)
})

test('a topic policy is checked when set', () => {
  const hub = new PubSub()
  throwsInvalid(() => hub.setTopicPolicy('', {}), /setTopicPolicy: a topic must not be empty/, 'bad topic')
  throwsInvalid(() => hub.setTopicPolicy('t', { maxBackpressure: -5 }), /setTopicPolicy: maxBackpressure/, 'bad budget')
  throwsInvalid(() => hub.setTopicPolicy('t', { slowConsumer: 'kick' as 'drop' }), /setTopicPolicy: slowConsumer/, 'bad policy')
  hub.setTopicPolicy('t', { slowConsumer: 'close' })
  hub.setTopicPolicy('t', undefined)
})

test('the adapter\'s events set degraded, count losses and reach onEvent; a throwing adapter loses a counted publication', async () => {
  const adapter = new RecordingAdapter()
  const events: AdapterEvent[] = []
  const hub = new PubSub({ adapter, onEvent: (event) => events.push(event) })
  assert.is(hub.degraded, false)
  adapter.host!.report({ type: 'degraded', error: new Error('gone') })
  assert.is(hub.degraded, true)
  adapter.host!.report({ type: 'lost', count: 3, direction: 'out' })
  adapter.host!.report({ type: 'restored', resubscribed: 2 })
  assert.is(hub.degraded, false)
  adapter.throwOnPublish = true
  const subscription = hub.subscribe('t')
  assert.is(hub.publish('t', 'still local'), 1, 'local delivery goes on')
  assert.is((await subscription.next()).value?.text(), 'still local')
  assert.is(hub.stats.lost, 4)
  assert.equal(events.map((e) => e.type), ['degraded', 'lost', 'restored', 'lost', 'degraded'])
})

test('an adapter whose attach fails makes ready reject and the hub degraded; local delivery still works', async () => {
  const adapter = new RecordingAdapter()
  adapter.attach = () => Promise.reject(new Error('no route'))
  const hub = new PubSub({ adapter })
  let error: unknown
  await hub.ready.catch((e: unknown) => (error = e))
  assert.match(String(error), /no route/)
  assert.ok(hub.degraded)
  const subscription = hub.subscribe('t')
  hub.publish('t', 'here')
  assert.is((await subscription.next()).value?.text(), 'here')
})

test('close ends waiting consumers, closes the adapter, and later subscriptions end at once', async () => {
  const adapter = new RecordingAdapter()
  const hub = new PubSub({ adapter })
  const subscription = hub.subscribe('t')
  const waiting = subscription.next()
  await hub.close()
  assert.equal(await waiting, { value: undefined, done: true })
  assert.ok(adapter.calls.includes('close'))
  const late = hub.subscribe('t')
  assert.ok(late.ended)
  assert.equal(await late.next(), { value: undefined, done: true })
  // Publishing after close still works locally and is not handed to the closed adapter.
  assert.is(hub.publish('t', 'x'), 0)
  assert.is(adapter.published.length, 0)
})

test('a subscription has one reader at a time', async () => {
  const hub = new PubSub()
  const subscription = hub.subscribe('t')
  const first = subscription.next()
  let error: unknown
  await subscription.next().catch((e: unknown) => (error = e))
  assert.match(String(error), /one reader/)
  hub.publish('t', Message.text('ok'))
  assert.is((await first).value?.text(), 'ok')
})

test.run()
