/**
 * Fan-out in one process: one topic, every connection subscribed, 64-byte binary messages
 * published one per macrotask (each delivery a socket write of its own, for every contender) and
 * in bursts of 20 per macrotask (what a tick publishes may leave in one write per socket).
 * Contenders, each a server process of its own (bench/pubsub-server.ts,
 * pinned to one core) with its subscribers in a load generator process of its own
 * (bench/pubsub-loadgen.ts, pinned to the other; every frame checked): wsflow `server.publish`,
 * ws with the loop of its README (`wss.clients.forEach((c) => c.send(data))`), and the raw
 * ceiling (a node:net server writing the same pre-built frame to every socket). Rounds are
 * interleaved (the order flips every round); a round publishes m messages (as many as the
 * contender delivered in about 300 ms, 1 s in the full run, during its warm-up round) and ends when
 * every subscriber has every frame. Reported: deliveries per second (subscribers x messages / time)
 * and the server process's CPU per delivery (process.cpuUsage, user + system), medians.
 *
 * Then memory per idle connection: wsflow servers with N connections subscribed to one topic and
 * not subscribed, heapUsed and rss after two full GCs, per connection.
 *
 * `--quick`: 3 rounds of about 300 ms, memory at 1,000 connections; the full run 5 rounds of
 * about 1 s, memory at 5,000. 10,000 subscribers need 10,000 descriptors in the server and in the
 * load generator each (`ulimit -n` is checked; the row is skipped, with a message, below 10,100).
 * @module
 */
import { execSync } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { formatRate, formatSpread, median, renderTable, summarize } from './harness.ts'
import { CLIENT_CORE, LineProcess, SERVER_CORE, stopAll } from './processes.ts'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 3 : 5
const CONTENDERS = ['wsflow', 'ws', 'raw'] as const
const fileLimit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim())
// Per subscriber count, two publishing patterns: one publish per macrotask (every delivery is a
// socket write of its own, for every contender) and bursts of 20 per macrotask (a chat relaying a
// chunk of messages: what a tick publishes can leave in one write per socket). The warm-up round
// publishes `warmup` messages; each contender's rounds then publish as many as it delivers in
// about ROUND_MS (rates are per delivery, so contenders doing different counts compare), so that
// the slowest does not make the bench long.
const ROUND_MS = quick ? 300 : 1000
const ROWS = [
  { subscribers: 1000, batches: [{ batch: 1, warmup: 20 }, { batch: 20, warmup: 100 }] },
  { subscribers: 10_000, batches: [{ batch: 1, warmup: 3 }, { batch: 20, warmup: 20 }] },
]
const MAX_MESSAGES = 20_000
const MIN_DELIVERIES = 20_000 // a round is never shorter than this many deliveries

interface Pair {
  readonly name: string
  readonly server: LineProcess
  readonly loadgen: LineProcess
  sent: number
}

async function startPair(name: string, impl: string, subscribers: number): Promise<Pair> {
  const server = new LineProcess(`${name} server`, 'pubsub-server.ts', [impl], SERVER_CORE)
  const loadgen = new LineProcess(`${name} subscribers`, 'pubsub-loadgen.ts', [], CLIENT_CORE)
  try {
    const { port } = JSON.parse(await server.next(30_000, 'its port')) as { port: number }
    await loadgen.request({ cmd: 'open', port, connections: subscribers }, 180_000)
    return { name, server, loadgen, sent: 0 }
  } catch (error) {
    await stopAll([server, loadgen])
    throw error
  }
}

async function round(pair: Pair, subscribers: number, messages: number, batch: number): Promise<{ rate: number; cpuNs: number }> {
  pair.sent += messages
  const done = pair.loadgen.request({ cmd: 'expect', frames: pair.sent, timeout: 120_000 }, 125_000)
  const start = performance.now()
  await pair.server.request({ cmd: 'publish', messages, batch }, 10_000)
  await done
  const seconds = (performance.now() - start) / 1000
  const { cpu } = await pair.server.request<{ cpu: number }>({ cmd: 'cpu' }, 10_000)
  const deliveries = subscribers * messages
  return { rate: deliveries / seconds, cpuNs: (cpu * 1000) / deliveries }
}

const lines: string[][] = [['subscribers', 'publishes/tick', 'contender', 'deliveries/s', 'server CPU/delivery', 'rate vs ws', 'ws CPU / this CPU', '% of raw']]
console.log(`pub/sub fan-out: 64 B binary, ${ROUNDS} rounds interleaved after one not measured; ulimit -n ${fileLimit}`)
for (const row of ROWS) {
  if (row.subscribers + 100 > fileLimit) {
    console.log(`skipped ${row.subscribers} subscribers: ulimit -n is ${fileLimit} (each process needs one descriptor per connection)`)
    continue
  }
  const pairs: Pair[] = []
  try {
    const opening = performance.now()
    for (const name of CONTENDERS) pairs.push(await startPair(name, name, row.subscribers))
    console.log(`${row.subscribers.toLocaleString('en-US')} subscribers connected to each contender in ${((performance.now() - opening) / 1000).toFixed(1)} s`)
    for (const { batch, warmup } of row.batches) {
      // One round each, not measured (the JIT's warm-up, and the count of messages a round takes), then the interleaved rounds.
      const counts = new Map<string, number>()
      for (const pair of pairs) {
        const { rate } = await round(pair, row.subscribers, warmup, batch)
        counts.set(pair.name, Math.min(MAX_MESSAGES, Math.max(batch, Math.ceil(MIN_DELIVERIES / row.subscribers), Math.round((rate * ROUND_MS) / 1000 / row.subscribers / batch) * batch)))
      }
      const results = new Map<string, { rate: number; cpuNs: number }[]>(pairs.map((p) => [p.name, []]))
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 === 0 ? pairs : [...pairs].reverse()
        for (const pair of order) results.get(pair.name)!.push(await round(pair, row.subscribers, counts.get(pair.name)!, batch))
      }
      const rate = (name: string): number => median(results.get(name)!.map((x) => x.rate))
      const cpu = (name: string): number => median(results.get(name)!.map((x) => x.cpuNs))
      const spread = (name: string): string => formatSpread(summarize(name, results.get(name)!.map((x) => x.rate)))
      for (const name of CONTENDERS) {
        lines.push([
          row.subscribers.toLocaleString('en-US'),
          String(batch),
          `${name} (${counts.get(name)} msgs)`,
          `${formatRate(rate(name)).trim()} ${spread(name)}`,
          `${cpu(name).toFixed(0)} ns`,
          `${(rate(name) / rate('ws')).toFixed(2)}x`,
          `${(cpu('ws') / cpu(name)).toFixed(2)}x`,
          `${((rate(name) / rate('raw')) * 100).toFixed(0)}%`,
        ])
      }
      const file = process.env.BENCH_RESULTS
      if (file !== undefined && file !== '') {
        const values = Object.fromEntries(CONTENDERS.map((name) => [name, { median: rate(name), spread: spread(name) }]))
        appendFileSync(file, `${JSON.stringify({ bench: 'pubsub', workload: `fan-out to ${row.subscribers.toLocaleString('en-US')} subs, 64 B, ${batch}/tick`, unit: 'msg/s', values })}\n`)
      }
    }
  } finally {
    await stopAll(pairs.flatMap((p) => [p.server, p.loadgen]))
  }
}
console.log(renderTable(lines))
console.log('deliveries/s = subscribers x messages / time until every subscriber had every frame; CPU = the server process (user + system) over the same interval, per delivery')

// Memory per idle connection: subscribed to one topic against not subscribed.
const N = quick ? 1000 : 5000
const memory: string[][] = [['wsflow server, idle connections', 'heapUsed KiB/conn', 'rss KiB/conn']]
const perConnection: Record<string, { heap: number; rss: number }> = {}
for (const impl of ['wsflow-idle', 'wsflow']) {
  const server = new LineProcess(`${impl} server`, 'pubsub-server.ts', [impl], SERVER_CORE)
  const loadgen = new LineProcess(`${impl} subscribers`, 'pubsub-loadgen.ts', [], CLIENT_CORE)
  try {
    const { port } = JSON.parse(await server.next(30_000, 'its port')) as { port: number }
    const before = await server.request<{ heapUsed: number; rss: number }>({ cmd: 'memory' }, 10_000)
    await loadgen.request({ cmd: 'open', port, connections: N }, 180_000)
    const after = await server.request<{ heapUsed: number; rss: number; connections: number }>({ cmd: 'memory' }, 10_000)
    if (after.connections !== N) throw new Error(`bench: ${impl} has ${after.connections} connections, expected ${N}`)
    perConnection[impl] = { heap: (after.heapUsed - before.heapUsed) / N / 1024, rss: (after.rss - before.rss) / N / 1024 }
    memory.push([impl === 'wsflow' ? `subscribed to 1 topic (${N.toLocaleString('en-US')})` : `not subscribed (${N.toLocaleString('en-US')})`, perConnection[impl].heap.toFixed(2), perConnection[impl].rss.toFixed(2)])
  } finally {
    await stopAll([server, loadgen])
  }
}
const sub = perConnection.wsflow!
const idle = perConnection['wsflow-idle']!
memory.push(['difference (the subscription)', (sub.heap - idle.heap).toFixed(2), (sub.rss - idle.rss).toFixed(2)])
console.log('')
console.log(renderTable(memory))
