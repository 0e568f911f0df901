/**
 * Pub/sub across two server processes sharing one Redis (Debian's redis-server, started here on
 * a free loopback port): wsflow's Redis broker against socket.io 4 with @socket.io/redis-adapter,
 * in the same run, on the same Redis. Per contender: two server processes (bench/pubsub-redis-server.ts,
 * pinned to one core) with S subscribers each, all in one load generator process
 * (bench/pubsub-redis-loadgen.ts, the `ws` client for both, pinned to the other core). Each
 * message is 64 characters of text carrying its publish time; every subscriber must get every
 * message exactly once (checked).
 *
 * Two measures per round, the contenders interleaved (the order flips every round):
 * - rate: both servers publish m/2 messages each as fast as they can (b per macrotask);
 *   deliveries/s = 2S x m / the time until every subscriber had every message;
 * - latency: both servers publish at a steady pace that both contenders sustain (one message every
 *   50 ms each, quick; 125 ms with the full run's subscribers); p50 and p99 of publish-to-receive over every delivery (server and load generator
 *   read the same clock: performance.timeOrigin + performance.now()).
 * Medians over the rounds; ratios wsflow / socket.io. `--quick`: 200 subscribers per process,
 * 3 rounds (under a minute); the full run 500 per process, 5 rounds.
 * @module
 */
import { formatRate, formatSpread, median, renderTable, summarize } from './harness.ts'
import { CLIENT_CORE, LineProcess, SERVER_CORE, stopAll } from './processes.ts'
import { redisSkipReason, startRedis } from '../test/helpers/redis-server.ts'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 3 : 5
const SUBSCRIBERS = quick ? 200 : 500 // per server process
const BURST = quick ? 400 : 1000 // messages per rate round, half from each server
// The latency rounds offer 40 messages/s in all (one per PACE_MS ms from each server) at 400
// subscribers, 16,000 deliveries/s: about half of what socket.io sustained here (some 32,000/s),
// so that its latency is not a backlog; the full run keeps the same deliveries/s at 1,000.
const PACE_MS = quick ? 50 : 125
const PACED = quick ? 30 : 40 // messages per server per latency round
const CONTENDERS = ['wsflow', 'socket.io'] as const

interface Contender {
  readonly name: string
  readonly servers: LineProcess[]
  readonly loadgen: LineProcess
}

interface Latency {
  readonly p50: number
  readonly p99: number
  readonly count: number
}

async function start(name: string, url: string): Promise<Contender> {
  const servers = [0, 1].map((i) => new LineProcess(`${name} server ${i}`, 'pubsub-redis-server.ts', [name, url], SERVER_CORE))
  const loadgen = new LineProcess(`${name} subscribers`, 'pubsub-redis-loadgen.ts', [], CLIENT_CORE)
  try {
    const ports = []
    for (const server of servers) ports.push((JSON.parse(await server.next(30_000, 'its port')) as { port: number }).port)
    await loadgen.request({ cmd: 'open', ports, connections: SUBSCRIBERS, protocol: name }, 120_000)
    return { name, servers, loadgen }
  } catch (error) {
    await stopAll([...servers, loadgen])
    throw error
  }
}

/** Both servers publish `perServer` messages; resolves with the time until every subscriber had them all, and their latencies. */
async function run(contender: Contender, perServer: number, batch: number, every: number): Promise<{ seconds: number; latency: Latency }> {
  const done = contender.loadgen.request<Latency>({ cmd: 'expect', messages: 2 * perServer, timeout: 120_000 }, 125_000)
  const start = performance.now()
  await Promise.all(contender.servers.map((server) => server.request({ cmd: 'publish', messages: perServer, batch, every }, 120_000)))
  const latency = await done
  return { seconds: (performance.now() - start) / 1000, latency }
}

if (redisSkipReason !== undefined) {
  console.log(`pub/sub over Redis: skipped (${redisSkipReason})`)
  process.exit(0)
}

const redis = await startRedis()
const contenders: Contender[] = []
try {
  for (const name of CONTENDERS) contenders.push(await start(name, redis.url))
  console.log(`pub/sub across 2 processes over one Redis: ${SUBSCRIBERS} subscribers per process, 64-character text messages, ${ROUNDS} rounds interleaved`)
  // One round of each measure per contender first, not counted (the JIT's warm-up; the first subscriptions).
  for (const contender of contenders) {
    await run(contender, BURST / 2, 10, 0)
    await run(contender, 10, 1, PACE_MS)
  }
  const rates = new Map<string, number[]>(CONTENDERS.map((name) => [name, []]))
  const p50 = new Map<string, number[]>(CONTENDERS.map((name) => [name, []]))
  const p99 = new Map<string, number[]>(CONTENDERS.map((name) => [name, []]))
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? contenders : [...contenders].reverse()
    for (const contender of order) {
      const burst = await run(contender, BURST / 2, 10, 0)
      rates.get(contender.name)!.push((2 * SUBSCRIBERS * BURST) / burst.seconds)
      const paced = await run(contender, PACED, 1, PACE_MS)
      p50.get(contender.name)!.push(paced.latency.p50)
      p99.get(contender.name)!.push(paced.latency.p99)
    }
  }
  const rate = (name: string): number => median(rates.get(name)!)
  const lines: string[][] = [['contender', 'deliveries/s', 'p50 latency', 'p99 latency', 'rate vs socket.io', 'p99 vs socket.io']]
  for (const name of CONTENDERS) {
    lines.push([
      name,
      `${formatRate(rate(name)).trim()} ${formatSpread(summarize(name, rates.get(name)!))}`,
      `${median(p50.get(name)!).toFixed(2)} ms`,
      `${median(p99.get(name)!).toFixed(2)} ms`,
      `${(rate(name) / rate('socket.io')).toFixed(2)}x`,
      `${(median(p99.get('socket.io')!) / median(p99.get(name)!)).toFixed(2)}x lower`,
    ])
  }
  console.log(renderTable(lines))
  console.log(`rate: ${BURST} messages (half from each server, 10 per macrotask) to ${2 * SUBSCRIBERS} subscribers, until all had all; latency: one message every ${PACE_MS} ms from each server, ${PACED} each, every delivery`)
} finally {
  await stopAll(contenders.flatMap((c) => [...c.servers, c.loadgen]))
  await redis.stop()
}
