/**
 * The interactive line mode of `wsflow connect` on a terminal: `> ` prompts for a message,
 * `< ` shows what arrives, and slash commands ping, close and send binary.
 * @module
 */
import { createInterface } from 'node:readline'
import type { Message, WebSocket } from '../index.ts'
import { boolFlag, durationFlag, ExitCode, type Flags } from './args.ts'
import { startPings } from './pings.ts'
import { describeClose, describeError, isCleanClose } from './report.ts'

const HELP = `commands:
  /ping [text]            send a ping, print the round trip
  /close [code] [reason]  start the closing handshake (default 1000)
  /binary HEX             send a binary message (e.g. /binary 48 69 or /binary 4869)
  /text TEXT              send TEXT as it is (for text starting with /)
  /quit                   close (1000) and exit
  /help                   this list
anything else is sent as a text message; Ctrl+D closes, Ctrl+C closes and exits`

/** Parses hex digits (spaces allowed) into bytes, or undefined if they are not hex. */
export function parseHex(text: string): Uint8Array | undefined {
  const digits = text.replace(/\s+/g, '')
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) return undefined
  const bytes = new Uint8Array(digits.length / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16)
  return bytes
}

/** How a received message is shown: its text, or for binary its size and first bytes in hex. */
export function formatMessage(message: Message): string {
  if (message.type === 'text') return message.text()
  const shown = message.data.subarray(0, 32)
  const hex = Array.from(shown, (b) => b.toString(16).padStart(2, '0')).join(' ')
  return `[binary ${message.data.length} B] ${hex}${message.data.length > shown.length ? ' …' : ''}`
}

/** Runs one connection interactively until it is over; resolves with who closed it and the exit code. */
export async function interactive(ws: WebSocket, url: string, flags: Flags): Promise<{ closedByUs: boolean; exitCode: number }> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true, prompt: '> ' })
  // A line printed above the prompt, with what is being typed redrawn after it.
  const show = (line: string): void => {
    process.stdout.write(`\r\x1b[2K${line}\n`)
    if (ws.readyState === 'open') rl.prompt(true)
  }
  let closedByUs = false
  let sentCode: number | undefined
  const close = (code = 1000, reason = ''): void => {
    closedByUs = true
    sentCode = code
    ws.close(code, reason).catch((error: unknown) => show(`* ${describeError(error)}`))
  }
  show(`* connected to ${url}${ws.protocol ? ` (subprotocol ${ws.protocol})` : ''}${ws.extensions.length > 0 ? ` (${ws.extensions.map((e) => e.name).join(', ')})` : ''}; /help for commands`)
  const pingInterval = durationFlag(flags, 'ping-interval')
  const stopPings = pingInterval === undefined || pingInterval === 0 ? () => undefined : startPings(
    ws, pingInterval,
    (rtt) => boolFlag(flags, 'print-ping-rtts') && show(`* pong: ${rtt.toFixed(2)} ms`),
    (error) => show(`* ping failed: ${describeError(error)}`),
  )

  rl.on('line', (line) => {
    if (ws.readyState !== 'open') return
    const send = (data: string | Uint8Array): void => void ws.send(data).catch((error: unknown) => show(`* ${describeError(error)}`))
    if (!line.startsWith('/') || line.startsWith('//')) {
      send(line.startsWith('//') ? line.slice(1) : line)
    } else {
      const [command = '', ...words] = line.slice(1).split(' ')
      const rest = line.slice(command.length + 2)
      switch (command) {
        case 'ping':
          ws.ping(rest === '' ? undefined : rest, { timeout: 10_000 }).then((rtt) => show(`* pong: ${rtt.toFixed(2)} ms`), (error: unknown) => show(`* ${describeError(error)}`))
          break
        case 'close': {
          const code = words[0] === undefined || words[0] === '' ? 1000 : Number(words[0])
          if (!Number.isInteger(code)) show(`* /close: "${words[0]!}" is not a close code`)
          else close(code, words.slice(1).join(' '))
          break
        }
        case 'binary': {
          const bytes = parseHex(rest)
          if (bytes === undefined) show('* /binary: expected hex digits, e.g. /binary 48 69')
          else send(bytes)
          break
        }
        case 'text':
          send(rest)
          break
        case 'quit':
        case 'exit':
          close()
          break
        case 'help':
          show(HELP)
          break
        default:
          show(`* unknown command /${command}; /help lists them (// sends a line starting with /)`)
      }
    }
    rl.prompt()
  })
  rl.on('close', () => close()) // Ctrl+D
  rl.on('SIGINT', () => close())
  rl.prompt()

  let failure: unknown
  try {
    for await (const message of ws) show(`< ${formatMessage(message)}`)
  } catch (error) {
    failure = error
  }
  const info = await ws.closed
  stopPings()
  const clean = isCleanClose(info, sentCode)
  show(`* ${failure !== undefined && !clean ? describeError(failure) : describeClose(info)}`)
  rl.removeAllListeners('close')
  rl.close()
  return { closedByUs, exitCode: clean ? ExitCode.OK : ExitCode.FAILURE }
}
