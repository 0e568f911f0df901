// The chat: one port serves the page (plain HTTP, GET /) and the WebSocket (/chat). Rooms are
// topics: joining subscribes the connection to `room:<name>`, a message is one server.publish to
// it, so it reaches every member on every process sharing the pub/sub hub's broker (in-process,
// node:cluster or Redis). Who is in a room: ./presence.ts.
//
// The page speaks JSON. Client to server: {type:'hello',nick}, {type:'join',room},
// {type:'leave',room}, {type:'say',room,text}. Server to client: {type:'welcome',node},
// {type:'joined',room}, {type:'left',room}, {type:'message',room,nick,text,node,seq},
// {type:'presence',room,members}, {type:'error',message}.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { randomBytes } from 'node:crypto'
import { CloseCode, PubSub, serve, type Server, type WebSocket } from '../../src/index.ts'
import { Presence, type PresenceOptions } from './presence.ts'

/** Options of {@link startChat}. */
export interface ChatOptions {
  readonly host?: string
  readonly port?: number
  /** The hub (and through its adapter, the other processes); default: a hub of this process only. */
  readonly pubsub?: PubSub
  /** This process's name, shown on the page (default: random). */
  readonly node?: string
  readonly presence?: PresenceOptions
}

/** A running chat. */
export interface Chat {
  readonly server: Server
  readonly port: number
  readonly node: string
  close(): Promise<void>
}

const PAGE = readFileSync(new URL('./index.html', import.meta.url))
const NAME = /^[\p{L}\p{N}_\- .]{1,32}$/u
const MAX_TEXT = 2000

/** Starts the chat's page and WebSocket on one port. */
export async function startChat(options: ChatOptions = {}): Promise<Chat> {
  const node = options.node ?? `node-${randomBytes(3).toString('hex')}`
  const http = createServer((request, response) => {
    if (request.method === 'GET' && (request.url === '/' || request.url?.startsWith('/?') === true)) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': PAGE.byteLength })
      response.end(PAGE)
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    }
  })
  const local = new Map<string, Set<WebSocket>>() // room -> this process's connections in it
  let server: Server | undefined = undefined
  const pubsub = options.pubsub ?? new PubSub()
  const presence = new Presence(pubsub, node, (room, members) => {
    const frame = JSON.stringify({ type: 'presence', room, members })
    for (const ws of local.get(room) ?? []) void ws.send(frame).catch(() => undefined)
  }, options.presence)
  let seq = 0
  server = await serve({ server: http, path: '/chat', maxMessageSize: 16 * 1024, pubsub }, async (ws) => {
    let nick: string | undefined = undefined
    const rooms = new Set<string>()
    const reply = (value: unknown): void => void ws.send(JSON.stringify(value)).catch(() => undefined)
    reply({ type: 'welcome', node })
    try {
      for await (const message of ws) {
        let command: { type?: unknown; nick?: unknown; room?: unknown; text?: unknown }
        try {
          command = message.json()
        } catch {
          await ws.close(CloseCode.UNSUPPORTED_DATA, 'JSON expected')
          break
        }
        const room = typeof command.room === 'string' && NAME.test(command.room) ? command.room : undefined
        if (command.type === 'hello') {
          if (typeof command.nick !== 'string' || !NAME.test(command.nick)) reply({ type: 'error', message: 'a nickname is 1 to 32 letters, digits, spaces, . _ or -' })
          else if (rooms.size > 0) reply({ type: 'error', message: 'leave your rooms before changing your nickname' })
          else nick = command.nick
        } else if (nick === undefined) {
          reply({ type: 'error', message: 'say hello with a nickname first' })
        } else if (room === undefined) {
          reply({ type: 'error', message: 'a room name is 1 to 32 letters, digits, spaces, . _ or -' })
        } else if (command.type === 'join') {
          if (rooms.has(room)) continue
          rooms.add(room)
          ws.subscribe(`room:${room}`)
          let set = local.get(room)
          if (set === undefined) local.set(room, (set = new Set()))
          set.add(ws)
          reply({ type: 'joined', room })
          presence.join(room, nick)
          reply({ type: 'presence', room, members: presence.members(room) })
        } else if (command.type === 'leave') {
          if (!rooms.delete(room)) continue
          ws.unsubscribe(`room:${room}`)
          local.get(room)?.delete(ws)
          presence.leave(room, nick)
          reply({ type: 'left', room })
        } else if (command.type === 'say') {
          if (!rooms.has(room)) reply({ type: 'error', message: `join ${room} first` })
          else if (typeof command.text !== 'string' || command.text.length === 0 || command.text.length > MAX_TEXT) reply({ type: 'error', message: `a message is 1 to ${MAX_TEXT} characters` })
          else server?.publish(`room:${room}`, JSON.stringify({ type: 'message', room, nick, text: command.text, node, seq: ++seq }))
        } else {
          reply({ type: 'error', message: 'unknown command' })
        }
      }
    } catch {
      // the page went away abnormally; its rooms are left below
    } finally {
      for (const room of rooms) {
        local.get(room)?.delete(ws)
        if (nick !== undefined) presence.leave(room, nick)
      }
    }
  })
  await new Promise<void>((resolve) => http.listen(options.port ?? 8080, options.host ?? '127.0.0.1', resolve))
  const port = (http.address() as { port: number }).port
  return {
    server,
    port,
    node,
    async close() {
      presence.close()
      await server?.close({ timeout: 500 })
      if (options.pubsub === undefined) await pubsub.close()
    },
  }
}
