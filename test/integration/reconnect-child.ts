/**
 * The reconnect tests' server in a child process (`reconnect-server.ts`), started on a port and
 * killed by its PID, so that the same port can be served again by a new process.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('./reconnect-server.ts', import.meta.url))

/** One run of the server: its output lines as they come, and a way to kill it. */
export class ChildServer {
  readonly port: number
  readonly lines: string[] = []
  readonly #child: ChildProcess
  #watchers: Array<() => void> = []
  readonly exited: Promise<void>

  private constructor(child: ChildProcess, port: number) {
    this.#child = child
    this.port = port
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
  }

  /** Starts the server on `port` (0: a free one) and resolves once it listens (within 20 s). */
  static async start(port = 0): Promise<ChildServer> {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let buffered = ''
    let server: ChildServer | undefined
    const listening = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the child server did not listen within 20 s')), 20_000)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`the child server exited (${code}) before listening`))
      })
      child.stdout!.setEncoding('utf8')
      child.stdout!.on('data', (chunk: string) => {
        buffered += chunk
        let newline: number
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline)
          buffered = buffered.slice(newline + 1)
          if (server === undefined) {
            const match = /^listening (\d+)$/.exec(line)
            if (match !== null) {
              clearTimeout(timer)
              resolve(Number(match[1]))
            }
            continue
          }
          server.lines.push(line)
          for (const watch of server.#watchers) watch()
        }
      })
    })
    try {
      server = new ChildServer(child, await listening)
    } catch (error) {
      child.kill('SIGKILL')
      throw error
    }
    return server
  }

  /** The texts of the messages this run received, in order. */
  get received(): string[] {
    return this.lines.filter((l) => l.startsWith('recv ')).map((l) => l.slice(5))
  }

  /** Resolves once `predicate` holds over the lines (checked on each new line); rejects after `ms`. */
  until(predicate: (server: ChildServer) => boolean, ms: number, what: string): Promise<void> {
    if (predicate(this)) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#watchers = this.#watchers.filter((w) => w !== watch)
        reject(new Error(`timed out after ${ms} ms: ${what} (lines: ${this.lines.slice(-5).join(' | ')})`))
      }, ms)
      const watch = (): void => {
        if (!predicate(this)) return
        clearTimeout(timer)
        this.#watchers = this.#watchers.filter((w) => w !== watch)
        resolve()
      }
      this.#watchers.push(watch)
    })
  }

  /** Kills the process (SIGKILL, by its PID) and resolves once it has exited. */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) process.kill(this.#child.pid!, 'SIGKILL')
    await this.exited
  }
}
