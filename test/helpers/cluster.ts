/** Talking to the node:cluster workers of test/fixtures/pubsub-cluster-worker.ts from the primary. */
import type { Worker } from 'node:cluster'
import { within } from './timing.ts'

/** The worker's next message tagged `fixture: fixtureName`; rejects after 20 s with `what`. */
export function nextMessage<T>(worker: Worker, fixtureName: string, what: string): Promise<T> {
  return within(new Promise<T>((resolve) => {
    const listener = (message: { fixture?: string } & T): void => {
      if (message.fixture !== fixtureName) return
      worker.off('message', listener)
      resolve(message)
    }
    worker.on('message', listener)
  }), 20_000, what)
}

/** Asks the worker to stop and waits for its exit; kills it (SIGKILL, by its own PID) if it does not exit within 5 s. */
export async function stopWorker(worker: Worker): Promise<void> {
  if (worker.isDead()) return
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  if (worker.isConnected()) worker.send({ fixture: 'stop' })
  try {
    await within(exited, 5000, `worker ${worker.id} exit`)
  } catch {
    worker.process.kill('SIGKILL')
    await within(exited, 5000, `worker ${worker.id} killed`)
  }
}
