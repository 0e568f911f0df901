/**
 * `wsflow serve PORT`: an echo server by default; `--broadcast` relays every message to every
 * client; `--exec` wires each connection to a child process; `--static` serves files on the
 * same port; `--sniff` takes raw TCP on the same port too.
 * @module
 */
import type { Duplex } from 'node:stream'
import { prepareMessage, type Server, type WebSocket } from '../index.ts'
import { boolFlag, ExitCode, parseFlags, parsePort, stringFlag, UsageError, type OptionsConfig } from './args.ts'
import { execSession } from './exec.ts'
import { LISTEN_HELP, LISTEN_OPTIONS, listen, untilSignal } from './listen.ts'
import { describeClose, warn } from './report.ts'
import { spawn } from 'node:child_process'

/** The help of `wsflow serve`. */
export const SERVE_HELP = `Usage: wsflow serve [options] PORT

A WebSocket server on PORT (0 picks a free one; the URL is printed on stderr). It echoes every
message back, unless told otherwise:
  -B, --broadcast              send every message to every connected client (the sender too)
  -e, --exec 'COMMAND'         run COMMAND (through /bin/sh) per connection: messages to its
                               stdin, its stdout back as messages (a line each; --binary: raw)
  -b, --binary                 with --exec: raw bytes instead of lines
${LISTEN_HELP}  -h, --help                   this help

With --sniff, raw TCP clients on the same port get the same service (echo, broadcast, exec).
It runs until SIGINT or SIGTERM, then closes every connection (1001) and exits 0.
`

const OPTIONS: OptionsConfig = {
  ...LISTEN_OPTIONS,
  broadcast: { type: 'boolean', short: 'B' },
  exec: { type: 'string', short: 'e' },
  binary: { type: 'boolean', short: 'b' },
}

/** Most bytes waiting to be written to one broadcast client (WebSocket or raw) before messages to it are dropped, in bytes. */
const BROADCAST_BUDGET = 4 * 1024 * 1024

/** Runs `wsflow serve`; resolves with the exit code once stopped by a signal. */
export async function runServe(argv: readonly string[]): Promise<number> {
  const { flags, positionals } = parseFlags(argv, OPTIONS)
  if (boolFlag(flags, 'help')) {
    process.stdout.write(SERVE_HELP)
    return ExitCode.OK
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'serve needs a PORT' : `unexpected argument ${positionals[1]!}`)
  const port = parsePort(positionals[0]!, 'PORT')
  const command = stringFlag(flags, 'exec')
  const broadcast = boolFlag(flags, 'broadcast')
  if (command !== undefined && broadcast) throw new UsageError('--exec and --broadcast cannot go together')
  const binary = boolFlag(flags, 'binary')
  const verbose = boolFlag(flags, 'verbose')
  let server: Server | undefined
  const raws = new Set<Duplex>()

  const handler = async (ws: WebSocket): Promise<void> => {
    const who = `${ws.request?.remoteAddress ?? '?'}:${ws.request?.remotePort ?? '?'}`
    if (verbose) warn(`open ${who} ${ws.request?.url ?? ''}`)
    if (command !== undefined) {
      await execSession(ws, command, { binary })
    } else if (broadcast) {
      for await (const message of ws) {
        const prepared = prepareMessage(message)
        for (const client of server?.clients ?? []) client.sendPrepared(prepared, BROADCAST_BUDGET)
        for (const raw of raws) if (raw.writableLength <= BROADCAST_BUDGET) raw.write(message.data)
      }
    } else {
      for await (const message of ws) await ws.send(message)
    }
    if (verbose) warn(`${describeClose(await ws.closed)} ${who}`)
  }

  const onRaw = (stream: Duplex): void => {
    stream.on('error', () => stream.destroy())
    if (command !== undefined) {
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'inherit'] })
      child.stdin.on('error', () => undefined)
      stream.pipe(child.stdin)
      child.stdout.pipe(stream)
      stream.once('close', () => child.stdin.destroy())
    } else if (broadcast) {
      raws.add(stream)
      stream.once('close', () => raws.delete(stream))
      stream.on('data', (chunk: Uint8Array) => {
        const prepared = prepareMessage(chunk)
        for (const client of server?.clients ?? []) client.sendPrepared(prepared, BROADCAST_BUDGET)
        for (const raw of raws) if (raw.writableLength <= BROADCAST_BUDGET) raw.write(chunk)
      })
      stream.on('end', () => stream.end())
    } else {
      stream.pipe(stream) // echo, FIN answered with FIN
    }
  }

  const listening = await listen(flags, port, handler, onRaw)
  server = listening.webSocketServer
  warn(`listening on ${listening.url}`)
  const signal = await untilSignal()
  if (verbose) warn(`${signal}: closing`)
  await listening.close()
  return ExitCode.OK
}
