/**
 * Child processes running test/helpers/redis-node.ts (a wsflow server with the Redis broker):
 * started, read line by line (JSON), waited on with bounded waits, and killed by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const FIXTURE = fileURLToPath(new URL('./redis-node.ts', import.meta.url))

/** One server process and what it printed. */
export class NodeProcess {
  readonly lines: Array<Record<string, unknown>> = []
  readonly #child: ChildProcess
  readonly #waiters = new Set<() => void>()
  #stderr = ''

  private constructor(child: ChildProcess) {
    this.#child = child
    let buffered = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const text = buffered.slice(0, newline)
        buffered = buffered.slice(newline + 1)
        try {
          this.lines.push(JSON.parse(text) as Record<string, unknown>)
        } catch {
          this.lines.push({ raw: text })
        }
      }
      for (const waiter of [...this.#waiters]) waiter()
    })
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr += chunk))
    child.once('exit', () => {
      for (const waiter of [...this.#waiters]) waiter()
    })
  }

  /** Starts a server process against `redisUrl` and waits for its port. */
  static async start(redisUrl: string): Promise<NodeProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, redisUrl], { stdio: ['pipe', 'pipe', 'pipe'] })
    const node = new NodeProcess(child)
    try {
      await node.until(() => node.port !== undefined, 'its port', 20_000)
    } catch (error) {
      await node.kill()
      throw error
    }
    return node
  }

  /** The port it listens on (once printed). */
  get port(): number | undefined {
    const found = this.lines.find((l) => l.port !== undefined)
    return found === undefined ? undefined : Number(found.port)
  }

  /** The adapter events it printed, in order. */
  get events(): Array<{ type: string; count?: number; direction?: string; resubscribed?: number }> {
    return this.lines.filter((l) => l.event !== undefined).map((l) => l.event as { type: string })
  }

  /** The sum of its `lost` counts in `direction`. */
  lost(direction = 'out'): number {
    return this.events.filter((e) => e.type === 'lost' && e.direction === direction).reduce((sum, e) => sum + (e.count ?? 0), 0)
  }

  /** Resolves once `condition()` holds (checked on each line), rejects after `timeout` ms or if the process exits first. */
  until(condition: () => boolean, what: string, timeout = 10_000): Promise<void> {
    if (condition()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (condition()) done()
        else if (this.#child.exitCode !== null || this.#child.signalCode !== null) done(new Error(`the server process exited waiting for ${what}:\n${this.#stderr}`))
      }
      const done = (error?: Error): void => {
        clearTimeout(timer)
        this.#waiters.delete(check)
        if (error) reject(error)
        else resolve()
      }
      const timer = setTimeout(() => done(new Error(`timed out after ${timeout} ms waiting for ${what}:\n${this.#stderr}`)), timeout)
      this.#waiters.add(check)
    })
  }

  /** Kills it (SIGKILL, by PID) and waits for its exit. */
  async kill(): Promise<void> {
    const child = this.#child
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
    await exited
  }
}
