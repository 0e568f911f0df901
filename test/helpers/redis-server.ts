/**
 * A real redis-server (Debian's) for the tests, on a free loopback port, with no persistence;
 * ready when its log says so; killed by PID; restartable on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'

/** The redis-server binary the tests run. */
export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path))

/** Why the Redis tests are skipped, or undefined if redis-server is installed. */
export const redisSkipReason: string | undefined = REDIS_SERVER === undefined ? 'redis-server is not installed (.ci/run installs Debian\'s redis-server)' : undefined

/** A free TCP port on 127.0.0.1 (bound on port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** A running redis-server. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** The PID of the current process (changes on restart). */
  readonly pid: number
  /** Kills it (SIGKILL, as a crash) and waits for its exit. */
  kill(): Promise<void>
  /** Starts it again on the same port (after {@link RedisServer.kill}). */
  restart(): Promise<void>
  /** Kills it if it runs; safe to call twice. */
  stop(): Promise<void>
}

const READY_TIMEOUT = 10_000

function launch(port: number): Promise<ChildProcess> {
  if (REDIS_SERVER === undefined) return Promise.reject(new Error(redisSkipReason))
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice'], { stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let log = ''
    const timer = setTimeout(() => fail(new Error(`redis-server on port ${port} not ready after ${READY_TIMEOUT} ms:\n${log}`)), READY_TIMEOUT)
    const onData = (chunk: Buffer): void => {
      log += chunk.toString()
      if (log.includes('Ready to accept connections')) {
        cleanup()
        child.stdout?.resume()
        resolve(child)
      }
    }
    const onExit = (code: number | null): void => fail(new Error(`redis-server exited (${code}) before ready:\n${log}`))
    function cleanup(): void {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
    }
    function fail(error: Error): void {
      cleanup()
      if (child.exitCode === null) child.kill('SIGKILL')
      reject(error)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
    child.once('exit', onExit)
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Starts redis-server on a free loopback port (tries another port if the chosen one was taken meanwhile, three times). */
export async function startRedis(): Promise<RedisServer> {
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    try {
      let child = await launch(port)
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        get pid() {
          return child.pid ?? -1
        },
        async kill() {
          const done = exited(child)
          if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
          await done
        },
        async restart() {
          child = await launch(port)
        },
        async stop() {
          const done = exited(child)
          if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
          await done
        },
      }
    } catch (error) {
      lastError = error
    }
  }
  throw lastError
}
