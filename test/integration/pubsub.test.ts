/**
 * Topics on a real server over loopback: `ws.subscribe` / `ws.unsubscribe` / `ws.topics`,
 * `server.publish` (text, binary, except the sender, the count returned), `subscriberCount`,
 * unsubscribe on close, bad topic names on a live connection, server-side consumers next to
 * sockets, and a `ws` client with permessage-deflate that gets the shared frame uncompressed.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket as WsSocket } from 'ws'
import { connect, ConnectionClosedError, InvalidArgumentError, PubSub, serve, type AdapterHost, type Message, type PubSubAdapter, type Server, type ServerOptions, type WebSocket } from '../../src/index.ts'
import { openWsClient } from '../helpers/peers.ts'
import { stop } from '../helpers/servers.ts'
import { within } from '../helpers/timing.ts'

interface TopicServer {
  server: Server
  /** The server side of each connection, in the order accepted. */
  accepted: WebSocket[]
  /** Resolves with the server side of the n-th connection (0-based). */
  nth(n: number): Promise<WebSocket>
}

/**
 * A server whose connections subscribe to the topics in their URL (`/?topics=a,b`) and then
 * answer commands: `sub <topic>`, `unsub <topic>` (answered with the result), `pub <topic> <text>`
 * (published to the others, answered with the count).
 */
async function topicServer(options: ServerOptions = {}): Promise<TopicServer> {
  const accepted: WebSocket[] = []
  const waiters = new Map<number, (ws: WebSocket) => void>()
  const server: Server = await serve({ host: '127.0.0.1', port: 0, ...options }, async (ws) => {
    const topics = new URL(ws.request!.url, 'ws://x').searchParams.get('topics')
    for (const topic of topics === null || topics === '' ? [] : topics.split(',')) ws.subscribe(topic)
    accepted.push(ws)
    waiters.get(accepted.length - 1)?.(ws)
    for await (const message of ws) {
      const [command, topic = '', ...rest] = message.text().split(' ')
      try {
        if (command === 'sub') await ws.send(`sub ${String(ws.subscribe(topic))}`)
        else if (command === 'unsub') await ws.send(`unsub ${String(ws.unsubscribe(topic))}`)
        else if (command === 'pub') await ws.send(`pub ${server.publish(topic, rest.join(' '), { except: ws })}`)
      } catch (error) {
        await ws.send(`error ${(error as Error).name} ${(error as Error).message}`)
      }
    }
  })
  return {
    server,
    accepted,
    nth: (n) => accepted[n] !== undefined ? Promise.resolve(accepted[n]) : within(new Promise((resolve) => waiters.set(n, resolve)), 3000, `connection ${n}`),
  }
}

async function recvText(ws: WebSocket, what: string): Promise<string> {
  return (await within(ws.recv(), 3000, what)).text()
}

test('server.publish reaches the subscribers of the topic only, text and binary, and counts them', async () => {
  const { server, nth } = await topicServer()
  const clients: WebSocket[] = []
  try {
    clients.push(await connect(`${server.url}/?topics=news`), await connect(`${server.url}/?topics=news,sport`), await connect(`${server.url}/?topics=sport`))
    await nth(2)
    assert.is(server.subscriberCount('news'), 2)
    assert.is(server.subscriberCount('sport'), 2)
    assert.is(server.subscriberCount('weather'), 0)
    assert.equal(server.pubsub.topics.sort(), ['news', 'sport'])
    assert.is(server.publish('news', 'headline'), 2)
    assert.is(server.publish('sport', new Uint8Array([1, 2, 3])), 2)
    assert.is(server.publish('weather', 'nobody'), 0)
    assert.is(await recvText(clients[0]!, 'news at 0'), 'headline')
    assert.is(await recvText(clients[1]!, 'news at 1'), 'headline')
    const binary: Message = await within(clients[1]!.recv(), 3000, 'sport at 1')
    assert.is(binary.type, 'binary')
    assert.equal([...binary.data], [1, 2, 3])
    assert.equal([...(await within(clients[2]!.recv(), 3000, 'sport at 2')).data], [1, 2, 3])
  } finally {
    for (const c of clients) c.terminate()
    await stop(server)
  }
})

test('a connection publishing with except: itself gets nothing back; ws.topics and the results of subscribe/unsubscribe', async () => {
  const { server, nth } = await topicServer()
  const a = await connect(`${server.url}/?topics=room`)
  const b = await connect(`${server.url}/?topics=room`)
  try {
    const serverA = await nth(0)
    await nth(1)
    assert.equal([...serverA.topics], ['room'])
    await a.send('pub room hello')
    assert.is(await recvText(a, 'count'), 'pub 1', 'one other subscriber')
    assert.is(await recvText(b, 'b gets it'), 'hello')
    await a.send('sub room')
    assert.is(await recvText(a, 'sub again'), 'sub false')
    await a.send('sub lobby')
    assert.is(await recvText(a, 'sub lobby'), 'sub true')
    assert.equal([...serverA.topics].sort(), ['lobby', 'room'])
    await a.send('unsub room')
    assert.is(await recvText(a, 'unsub room'), 'unsub true')
    await a.send('unsub room')
    assert.is(await recvText(a, 'unsub room twice'), 'unsub false')
    assert.equal([...serverA.topics], ['lobby'])
    assert.is(server.subscriberCount('room'), 1)
    // ws.topics is a snapshot: changing it changes nothing.
    ;(serverA.topics as Set<string>).add('forged')
    assert.equal([...serverA.topics], ['lobby'])
  } finally {
    a.terminate()
    b.terminate()
    await stop(server)
  }
})

test('a connection that closes leaves its topics, cleanly or not', async () => {
  const { server, nth } = await topicServer()
  const left: string[] = []
  const hub = server.pubsub
  try {
    const a = await connect(`${server.url}/?topics=t1,t2`)
    const b = await connect(`${server.url}/?topics=t1`)
    const [serverA, serverB] = [await nth(0), await nth(1)]
    assert.is(hub.subscriberCount('t1'), 2)
    await a.close(1000)
    await within(serverA.closed, 3000, 'a closed on the server')
    left.push('a')
    assert.is(hub.subscriberCount('t1'), 1)
    assert.is(hub.subscriberCount('t2'), 0)
    assert.equal(hub.topics, ['t1'])
    assert.equal([...serverA.topics], [])
    b.terminate() // no closing handshake
    await within(serverB.closed, 3000, 'b closed on the server')
    assert.equal(hub.topics, [])
    assert.is(server.publish('t1', 'anyone?'), 0)
    // A closed connection cannot subscribe again.
    assert.is(serverA.subscribe('t1'), false)
    assert.equal(hub.topics, [])
  } finally {
    await stop(server)
  }
  assert.equal(left, ['a'])
})

test('the adapter sees one subscribe per topic for three connections, and one unsubscribe after the last closes', async () => {
  const calls: string[] = []
  const adapter: PubSubAdapter = {
    attach: () => undefined,
    subscribe: (topic) => void calls.push(`subscribe ${topic}`),
    unsubscribe: (topic) => void calls.push(`unsubscribe ${topic}`),
    publish: (publication) => void calls.push(`publish ${publication.topic}`),
    close: () => Promise.resolve(),
  }
  const { server, nth } = await topicServer({ pubsub: { adapter } })
  const clients: WebSocket[] = []
  try {
    for (let i = 0; i < 3; i++) clients.push(await connect(`${server.url}/?topics=shared`))
    const sides = [await nth(0), await nth(1), await nth(2)]
    server.publish('shared', 'once')
    assert.equal(calls, ['subscribe shared', 'publish shared'])
    for (const [i, client] of clients.entries()) {
      await client.close()
      await within(sides[i]!.closed, 3000, `connection ${i} closed`)
    }
    assert.equal(calls, ['subscribe shared', 'publish shared', 'unsubscribe shared'])
  } finally {
    for (const c of clients) c.terminate()
    await stop(server)
  }
})

test('bad topic names from a live connection: a clear InvalidArgumentError, and the connection goes on', async () => {
  const { server, nth } = await topicServer()
  const a = await connect(server.url)
  try {
    const serverA = await nth(0)
    for (const bad of ['', 'x'.repeat(1025)]) {
      let error: unknown
      try {
        serverA.subscribe(bad)
      } catch (e) {
        error = e
      }
      assert.instance(error, InvalidArgumentError)
    }
    assert.throws(() => serverA.subscribe(undefined as unknown as string), (e: Error) => e instanceof InvalidArgumentError && /not undefined/.test(e.message))
    assert.throws(() => serverA.unsubscribe(7 as unknown as string), (e: Error) => e instanceof InvalidArgumentError && /not 7/.test(e.message))
    assert.throws(() => server.publish('', 'x'), (e: Error) => e instanceof InvalidArgumentError && /must not be empty/.test(e.message))
    await a.send('sub ')
    assert.match(await recvText(a, 'error reply'), /^error InvalidArgumentError subscribe: a topic must not be empty/)
    await a.send('sub fine')
    assert.is(await recvText(a, 'still open'), 'sub true')
    // A client's connection has no hub.
    assert.throws(() => a.subscribe('t'), (e: Error) => e instanceof InvalidArgumentError && /server's connections/.test(e.message))
    assert.equal([...a.topics], [])
  } finally {
    a.terminate()
    await stop(server)
  }
})

test('server-side consumers and sockets share a topic; a hub passed in is shared by two servers and not closed with them', async () => {
  const hub = new PubSub()
  const one = await topicServer({ pubsub: hub })
  const two = await topicServer({ pubsub: hub })
  const consumer = hub.subscribe('feed')
  const a = await connect(`${one.server.url}/?topics=feed`)
  const b = await connect(`${two.server.url}/?topics=feed`)
  try {
    await one.nth(0)
    await two.nth(0)
    assert.is(hub.subscriberCount('feed'), 3)
    assert.is(one.server.publish('feed', 'to all'), 3)
    assert.is(await recvText(a, 'a'), 'to all')
    assert.is(await recvText(b, 'b'), 'to all')
    assert.is((await consumer.next()).value?.text(), 'to all')
    await a.send('pub feed from-a')
    assert.is(await recvText(a, 'count'), 'pub 2')
    assert.is(await recvText(b, 'b from a'), 'from-a')
    assert.is((await consumer.next()).value?.text(), 'from-a')
  } finally {
    a.terminate()
    b.terminate()
    await stop(one.server)
    await stop(two.server)
  }
  assert.is(consumer.ended, false, 'the hub outlives servers it does not belong to')
  await hub.close()
  assert.ok(consumer.ended)
})

test('a topic policy of its own: a budget of 0 drops every message for that topic only (local and remote publications), then closes with 1013; a publish\'s options come first', async () => {
  let host: AdapterHost | undefined
  const adapter: PubSubAdapter = { attach: (h) => void (host = h), subscribe: () => undefined, unsubscribe: () => undefined, publish: () => undefined, close: () => Promise.resolve() }
  const { server, nth } = await topicServer({ pubsub: { adapter } })
  const client = await connect(`${server.url}/?topics=strict,loose`)
  try {
    const serverSide = await nth(0)
    server.pubsub.setTopicPolicy('strict', { maxBackpressure: 0 })
    assert.is(server.publish('strict', 'dropped'), 0)
    host!.deliver({ topic: 'strict', data: new TextEncoder().encode('dropped too'), text: true })
    assert.is(serverSide.droppedMessages, 2)
    assert.is(server.publish('loose', 'delivered'), 1, 'another topic keeps the hub\'s budget')
    assert.is(server.publish('strict', 'allowed', { maxBackpressure: 1024 }), 1, 'the publish\'s own budget comes first')
    assert.is(await recvText(client, 'loose'), 'delivered')
    assert.is(await recvText(client, 'allowed'), 'allowed')
    server.pubsub.setTopicPolicy('strict', { maxBackpressure: 0, slowConsumer: 'close' })
    assert.is(server.publish('strict', 'closes'), 0)
    assert.is(server.pubsub.stats.closedSlow, 1)
    const error = await within(client.recv().then(() => undefined, (e: unknown) => e), 3000, 'the close')
    assert.instance(error, ConnectionClosedError)
    assert.is((error as ConnectionClosedError).closeCode, 1013)
  } finally {
    client.terminate()
    await stop(server)
  }
})

test('permessage-deflate: a ws client is sent the shared frame uncompressed, after a compressed send queued before it', async () => {
  const { server, nth } = await topicServer({ perMessageDeflate: { threshold: 0 } })
  const client = await openWsClient(`${server.url}/?topics=t`, undefined, { perMessageDeflate: true })
  try {
    assert.match(client.extensions, /permessage-deflate/)
    const serverSide = await nth(0)
    const big = 'a'.repeat(20_000)
    const received: string[] = []
    const socket = (client as unknown as { _socket: { bytesRead: number } })._socket
    const got = new Promise<void>((resolve) => {
      client.on('message', (data: Buffer) => {
        received.push(`${data.length}:${data.subarray(0, 4).toString()}`)
        if (received.length === 2) resolve()
      })
    })
    const before = socket.bytesRead
    void serverSide.send(`sent${big}`) // compressed, asynchronously
    assert.is(server.publish('t', `publ${big}`), 1) // queued behind it, uncompressed
    await within(got, 5000, 'both messages')
    assert.equal(received, [`${big.length + 4}:sent`, `${big.length + 4}:publ`], 'in the order they were sent')
    const wire = socket.bytesRead - before
    // The compressed send is a few hundred bytes; the publication its 20,004 bytes and a header.
    assert.ok(wire > 20_004 && wire < 21_000, `bytes on the wire: ${wire}`)
  } finally {
    client.terminate()
    await stop(server)
  }
})

test('a ws client (no deflate) subscribed through the same server gets what a wsflow client gets', async () => {
  const { server, nth } = await topicServer()
  const wsClient = await openWsClient(`${server.url}/?topics=t`, undefined)
  const wsflowClient = await connect(`${server.url}/?topics=t`)
  try {
    await nth(1)
    const got: string[] = []
    const done = new Promise<void>((resolve) => {
      wsClient.on('message', (data: Buffer, isBinary: boolean) => {
        got.push(isBinary ? `binary ${data.length}` : data.toString())
        if (got.length === 3) resolve()
      })
    })
    server.publish('t', 'one')
    server.publish('t', new Uint8Array(300))
    server.publish('t', 'three')
    await within(done, 3000, 'ws client messages')
    assert.equal(got, ['one', 'binary 300', 'three'])
    assert.is(await recvText(wsflowClient, 'wsflow 1'), 'one')
    assert.is((await within(wsflowClient.recv(), 3000, 'wsflow 2')).data.length, 300)
    assert.is(await recvText(wsflowClient, 'wsflow 3'), 'three')
    assert.is(wsClient.readyState, WsSocket.OPEN)
  } finally {
    wsClient.terminate()
    wsflowClient.terminate()
    await stop(server)
  }
})

test.run()
