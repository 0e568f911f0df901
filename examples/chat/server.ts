// The chat, on one port: the page at http://HOST:PORT/ and its WebSocket at /chat.
//
//   npm run example:chat                                  one process (in-process broker)
//   npm run example:chat -- --workers 4                   node:cluster workers sharing the port
//   npm run example:chat -- --redis redis://127.0.0.1:6379   run several (other ports, other machines)
//
// Options: --port N (default 8080; 0 picks a free one), --host H (default 127.0.0.1). Each
// process prints `chat <node> listening on http://HOST:PORT/` once it listens, and the broker's
// events (`pubsub degraded|restored|lost ...`) as they happen.
import cluster from 'node:cluster'
import { parseArgs } from 'node:util'
import { ClusterAdapter, createRedisAdapter, PubSub, startClusterRelay, type AdapterEvent } from '../../src/index.ts'
import { startChat } from './chat.ts'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    workers: { type: 'string' },
    redis: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help === true) {
  console.log('usage: npm run example:chat -- [--port 8080] [--host 127.0.0.1] [--workers N | --redis redis://127.0.0.1:6379]')
  process.exit(0)
}
const port = Number(values.port)
const workers = values.workers === undefined ? 0 : Number(values.workers)
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, got ${values.port}`)
if (!Number.isInteger(workers) || workers < 0 || workers > 64) fail(`--workers must be a number of workers (1 to 64), got ${values.workers}`)
if (workers > 0 && values.redis !== undefined) fail('--workers and --redis are exclusive here (run several --redis processes instead)')

function fail(message: string): never {
  console.error(`chat: ${message}`)
  process.exit(2)
}

function onEvent(event: AdapterEvent): void {
  if (event.type === 'degraded') console.log(`pubsub degraded: ${event.error.message}`)
  else if (event.type === 'restored') console.log(`pubsub restored: ${event.resubscribed} topics resubscribed`)
  else console.log(`pubsub lost ${event.count} (${event.direction})`)
}

if (workers > 0 && cluster.isPrimary) {
  startClusterRelay()
  for (let i = 0; i < workers; i++) cluster.fork()
  cluster.on('exit', (worker, code, signal) => console.log(`worker ${worker.id} exited (${signal ?? code})`))
  const stop = (): void => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill()
    process.exit(0)
  }
  process.once('SIGINT', stop).once('SIGTERM', stop)
} else {
  let pubsub: PubSub | undefined = undefined
  if (workers > 0) pubsub = new PubSub({ adapter: new ClusterAdapter(), onEvent })
  else if (values.redis !== undefined) {
    try {
      pubsub = new PubSub({ adapter: await createRedisAdapter({ url: values.redis }), onEvent })
    } catch (error) {
      fail((error as Error).message)
    }
  }
  await pubsub?.ready
  const node = cluster.isWorker ? `worker-${cluster.worker?.id}-${process.pid}` : `node-${process.pid}`
  const chat = await startChat({ host: values.host, port, node, ...(pubsub ? { pubsub } : {}) })
  console.log(`chat ${chat.node} listening on http://${values.host}:${chat.port}/`)
  const stop = (): void => {
    void chat.close().then(() => pubsub?.close()).finally(() => process.exit(0))
  }
  process.once('SIGINT', stop).once('SIGTERM', stop)
}
