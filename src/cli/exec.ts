/**
 * `--exec 'command'`: each connection wired to a child process, as websocketd does: messages to
 * its stdin, its stdout back as messages (a line each, or raw chunks with `--binary`).
 * @module
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Writable } from 'node:stream'
import type { WebSocket } from '../index.ts'

/** Options of {@link execSession}. Durations in milliseconds. */
export interface ExecOptions {
  /** Raw bytes both ways instead of lines. */
  binary: boolean
  /** How long the child may run after its stdin was closed before it is sent SIGTERM (default 5000 ms). */
  exitTimeout?: number | undefined
}

function noop(): void {}

/** Writes to a child's stdin, resolving once it can take more. */
function write(stream: Writable, data: Uint8Array | string): Promise<void> | undefined {
  if (stream.destroyed || stream.writableEnded) return undefined
  if (stream.write(data)) return undefined
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done)
      stream.off('close', done)
      resolve()
    }
    stream.on('drain', done)
    stream.on('close', done)
  })
}

/**
 * Runs `command` (through /bin/sh) for one connection. Its environment gets REMOTE_ADDR,
 * REMOTE_PORT, REQUEST_URI and WEBSOCKET_PROTOCOL. The connection closes with 1000 when the
 * child's stdout ends and it exits with status 0, with 1011 otherwise; the child's stdin is
 * ended when the connection closes, and the child is sent SIGTERM if it has not exited
 * `exitTimeout` ms later. Backpressure both ways: a child that does not read its stdin stops the
 * messages being read, and its output is read only as fast as the connection sends it.
 */
export async function execSession(ws: WebSocket, command: string, options: ExecOptions): Promise<void> {
  const request = ws.request
  const env = {
    ...process.env,
    REMOTE_ADDR: request?.remoteAddress ?? '',
    REMOTE_PORT: String(request?.remotePort ?? ''),
    REQUEST_URI: request?.url ?? '',
    WEBSOCKET_PROTOCOL: ws.protocol,
  }
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'inherit'], env })
  child.stdin.on('error', noop) // EPIPE when the child exits without reading: its exit decides
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal === null ? code : null))
    child.once('error', () => resolve(null))
  })

  // child stdout -> WebSocket
  const output = (async () => {
    try {
      if (options.binary) {
        for await (const chunk of child.stdout) await ws.send(chunk as Uint8Array)
      } else {
        for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) await ws.send(line)
      }
    } catch {
      // the connection closed: the child's stdout is drained below
    }
    child.stdout.resume()
  })()

  // WebSocket -> child stdin
  const input = (async () => {
    try {
      for await (const message of ws) {
        await write(child.stdin, message.data)
        if (!options.binary) await write(child.stdin, '\n')
      }
    } catch {
      // abnormal end: the child's stdin is ended all the same
    }
    child.stdin.end()
  })()

  let timer: ReturnType<typeof setTimeout> | undefined
  void ws.closed.then(() => {
    timer = setTimeout(() => child.kill('SIGTERM'), options.exitTimeout ?? 5000)
  })
  const status = await exited
  await output
  clearTimeout(timer)
  if (ws.readyState === 'open') await ws.close(status === 0 ? 1000 : 1011, status === 0 ? '' : `the command exited with ${status ?? 'a signal'}`)
  await input
}
