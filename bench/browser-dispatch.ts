/**
 * The browser client's own time per message, without a network: a page-side loop where a stand-in
 * channel hands the connection a message each time the application sends one (the echo loop
 * users write: `for await (const message of ws) await ws.send(message)`), so that what is timed
 * is the wrapper alone: the Message, the inbox, the iterator's promise and the send path. Bundled
 * into bench/browser.ts's page by esbuild; it imports nothing of Node.
 * @module
 */
import { Message } from '../src/core/message.ts'
import { textMessage } from '../src/browser/text.ts'
import type { Channel, ChannelEvents } from '../src/browser/channel.ts'
import { BrowserWebSocket } from '../src/browser/websocket.ts'

/** A channel that answers every send with a message of the same kind, at once. */
class EchoChannel implements Channel {
  readonly protocol = ''
  readonly extensions = ''
  readonly bufferedAmount = 0
  readonly canPause = false
  readonly open = true
  #events: ChannelEvents | undefined
  attach(events: ChannelEvents): void {
    this.#events = events
  }
  send(data: string | Uint8Array): undefined {
    this.#events!.message(typeof data === 'string' ? textMessage(data) : new Message('binary', data))
    return undefined
  }
  close(code: number, reason: string): void {
    this.#events!.close(code, reason, true)
  }
  pause(): void {}
  resume(): void {}
  fail(): void {}
}

/** Echoes `count` messages of 64 bytes (text or binary) through the wrapper; returns messages per second. */
export async function dispatchRate(count: number, text: boolean): Promise<number> {
  const settings = { highWaterMark: 16, highWaterMarkBytes: 1024 * 1024, maxUnreadBytes: 16 * 1024 * 1024, maxMessageSize: 64 * 1024 * 1024, closeTimeout: 5000 }
  const ws = new BrowserWebSocket(new EchoChannel(), settings, 'ws://stand-in/')
  const start = performance.now()
  await ws.send(text ? 'x'.repeat(64) : new Uint8Array(64))
  let n = 0
  for await (const message of ws) {
    if (++n >= count) break
    await ws.send(text ? message.text() : message.data)
  }
  const seconds = (performance.now() - start) / 1000
  await ws.close()
  return n / seconds
}
