/**
 * The `wsflow` executable as a real subprocess (bin/wsflow.mjs on the TypeScript sources), with
 * its output collected and waited on by pattern; loopback peers for it to talk to; and the
 * external programs (python3 websockets, redis-server, script) found once.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createServer, type Server as NetServer, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { within } from '../helpers/timing.ts'

/** The executable, as the repository runs it. */
export const BIN = fileURLToPath(new URL('../../bin/wsflow.mjs', import.meta.url))

/** Collected output of a stream, with waits for a pattern. */
export class Output {
  text = ''
  readonly #waiters: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] = []

  /** Appends a chunk and wakes the waits it satisfies. */
  push(chunk: Buffer | string): void {
    this.text += chunk.toString()
    for (const waiter of [...this.#waiters]) {
      const match = this.text.match(waiter.pattern)
      if (match !== null) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1)
        waiter.resolve(match)
      }
    }
  }

  /** Resolves with the first match of `pattern` in what was collected (now or later); bounded by `ms`. */
  waitFor(pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    const match = this.text.match(pattern)
    if (match !== null) return Promise.resolve(match)
    const promise = new Promise<RegExpMatchArray>((resolve) => this.#waiters.push({ pattern, resolve }))
    return within(promise, ms, `output matching ${pattern} (got ${JSON.stringify(this.text.slice(-500))})`)
  }
}

/** A running `wsflow` subprocess. */
export interface Cli {
  readonly child: ChildProcessWithoutNullStreams
  readonly stdout: Output
  readonly stderr: Output
  /** Raw stdout bytes (for binary mode). */
  readonly bytes: Buffer[]
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>
  /** Waits for the exit, bounded. */
  exit(ms?: number): Promise<number | string>
  /** Sends SIGTERM (by PID) and waits for the exit. */
  stop(ms?: number): Promise<number | string>
}

/** Spawns `wsflow ...args`; `command` replaces the node + bin prefix (e.g. `script`). */
export function spawnCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; command?: readonly string[] } = {}): Cli {
  const [file, ...prefix] = options.command ?? [process.execPath, BIN]
  // WSFLOW_CLI_SOURCE: the sources under test, never a dist/ left by an earlier build.
  const child = spawn(file!, [...prefix, ...args], { env: { ...process.env, NO_COLOR: '1', WSFLOW_CLI_SOURCE: '1', ...options.env }, stdio: 'pipe' })
  const stdout = new Output()
  const stderr = new Output()
  const bytes: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => {
    bytes.push(chunk)
    stdout.push(chunk)
  })
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  child.stdin.on('error', () => undefined) // EPIPE when it exited first
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  const exit = (ms = 10_000): Promise<number | string> => within(exited, ms, `wsflow ${args.join(' ')} to exit (stderr: ${stderr.text.slice(-400)})`)
  const stop = (ms = 10_000): Promise<number | string> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM')
    return exit(ms)
  }
  return { child, stdout, stderr, bytes, exited, exit, stop }
}

/** Spawns a listening command (serve, bridge) and resolves with it and the address it printed. */
export async function spawnListening(args: readonly string[], pattern = /listening on (\S+?)(?:,|\s|$)/): Promise<{ cli: Cli; address: string }> {
  const cli = spawnCli(args)
  const match = await Promise.race([
    cli.stderr.waitFor(pattern, 15_000),
    cli.exited.then((code) => {
      throw new Error(`wsflow ${args.join(' ')} exited (${code}) before listening: ${cli.stderr.text}`)
    }),
  ])
  return { cli, address: match[1]! }
}

/** Runs `wsflow ...args` to its end with `input` on stdin; bounded. */
export async function runCli(args: readonly string[], input = '', ms = 15_000): Promise<{ code: number | string; stdout: string; stderr: string; bytes: Buffer }> {
  const cli = spawnCli(args)
  cli.child.stdin.end(input)
  const code = await cli.exit(ms)
  return { code, stdout: cli.stdout.text, stderr: cli.stderr.text, bytes: Buffer.concat(cli.bytes) }
}

/** A TCP echo server on 127.0.0.1:0 (half-open allowed: a FIN is answered with a FIN after the echo). */
export async function tcpEcho(): Promise<{ server: NetServer; port: number; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    server, port, sockets,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return within(new Promise<void>((resolve) => server.close(() => resolve())), 3000, 'tcp echo close')
    },
  }
}

/** The Python with the `websockets` package: Debian's /usr/bin/python3 first (python3-websockets), then `python3`; or undefined. */
export const PYTHON_WEBSOCKETS: string | undefined = ['/usr/bin/python3', 'python3'].find(
  (python) => spawnSync(python, ['-c', 'import websockets'], { timeout: 10_000 }).status === 0,
)

/** Whether an executable is on PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { timeout: 5000 }).status === 0
}

/** Resolves once `cli` has written at least `length` bytes to stdout; bounded in time and in reads. */
export async function waitForBytes(cli: Cli, length: number, ms = 15_000): Promise<Buffer> {
  const deadline = Date.now() + ms
  for (let reads = 0; reads < 1_000_000; reads++) {
    const bytes = Buffer.concat(cli.bytes)
    if (bytes.length >= length) return bytes
    const left = deadline - Date.now()
    if (left <= 0) break
    await within(new Promise((resolve) => cli.child.stdout.once('data', resolve)), left, `${length} bytes on stdout (got ${bytes.length})`)
  }
  throw new Error(`timed out after ${ms} ms: ${length} bytes on stdout (got ${Buffer.concat(cli.bytes).length})`)
}
