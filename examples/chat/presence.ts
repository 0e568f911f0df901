// Who is in a room, across every process of the chat. Each process publishes, on the room's
// presence topic (`presence:<room>`), the nicknames of its own members of the room: when they
// change, every `heartbeat` ms while it has any, and at once when another process asks (a
// process that gets its first member in a room asks, so it learns the others without waiting).
// A process's list that has not been refreshed for `expiry` ms is dropped (that process died or
// lost its link), so a crashed process's members disappear after at most `expiry` ms.
//
// Limits: membership is eventually consistent (a join is seen by other processes one publish
// later, at most a heartbeat later if that publication was lost); while the broker is down a
// process sees only its own members, and the others come back within a heartbeat of the link.
// Nicknames are not unique across processes: the same nickname in two tabs counts once.
import type { PubSub, TopicSubscription } from '../../src/index.ts'

/** Options of {@link Presence}; durations in milliseconds. */
export interface PresenceOptions {
  readonly heartbeat?: number
  readonly expiry?: number
}

interface Announcement {
  readonly node: string
  readonly members: string[]
  readonly ask?: boolean
}

interface RoomState {
  readonly local: Map<string, number> // nickname -> connections using it here
  readonly remote: Map<string, { members: string[]; seen: number }> // node -> its members
  readonly subscription: TopicSubscription
  shown: string
}

/** The members of each room, merged over every process of the chat. */
export class Presence {
  readonly #rooms = new Map<string, RoomState>()
  readonly #pubsub: PubSub
  readonly #node: string
  readonly #onChange: (room: string, members: string[]) => void
  readonly #expiry: number
  readonly #timer: ReturnType<typeof setInterval>

  constructor(pubsub: PubSub, node: string, onChange: (room: string, members: string[]) => void, options: PresenceOptions = {}) {
    this.#pubsub = pubsub
    this.#node = node
    this.#onChange = onChange
    this.#expiry = options.expiry ?? 15_000
    this.#timer = setInterval(() => this.#tick(), options.heartbeat ?? 5_000)
    this.#timer.unref()
  }

  /** Counts `nick` in `room` (once per connection). */
  join(room: string, nick: string): void {
    let state = this.#rooms.get(room)
    const first = state === undefined
    if (state === undefined) {
      const subscription = this.#pubsub.subscribe(`presence:${room}`)
      state = { local: new Map(), remote: new Map(), subscription, shown: '' }
      this.#rooms.set(room, state)
      void this.#listen(room, subscription)
    }
    state.local.set(nick, (state.local.get(nick) ?? 0) + 1)
    this.#announce(room, state, first)
    this.#changed(room, state)
  }

  /** Stops counting one connection of `nick` in `room`. */
  leave(room: string, nick: string): void {
    const state = this.#rooms.get(room)
    const count = state?.local.get(nick)
    if (state === undefined || count === undefined) return
    if (count > 1) state.local.set(nick, count - 1)
    else state.local.delete(nick)
    this.#announce(room, state, false)
    if (state.local.size === 0) {
      state.subscription.unsubscribe()
      this.#rooms.delete(room)
    } else {
      this.#changed(room, state)
    }
  }

  /** The room's members, sorted. */
  members(room: string): string[] {
    const state = this.#rooms.get(room)
    return state === undefined ? [] : merged(state)
  }

  /** Stops the heartbeat and leaves every room. */
  close(): void {
    clearInterval(this.#timer)
    for (const [room, state] of this.#rooms) {
      state.local.clear()
      this.#announce(room, state, false)
      state.subscription.unsubscribe()
    }
    this.#rooms.clear()
  }

  async #listen(room: string, subscription: TopicSubscription): Promise<void> {
    for await (const message of subscription) {
      let announcement: Announcement
      try {
        announcement = message.json<Announcement>()
      } catch {
        continue
      }
      const state = this.#rooms.get(room)
      if (state === undefined || typeof announcement.node !== 'string' || announcement.node === this.#node || !Array.isArray(announcement.members)) continue
      if (announcement.members.length === 0) state.remote.delete(announcement.node)
      else state.remote.set(announcement.node, { members: announcement.members.filter((m) => typeof m === 'string'), seen: Date.now() })
      if (announcement.ask === true) this.#announce(room, state, false)
      this.#changed(room, state)
    }
  }

  #announce(room: string, state: RoomState, ask: boolean): void {
    const announcement: Announcement = { node: this.#node, members: [...state.local.keys()], ...(ask ? { ask } : {}) }
    this.#pubsub.publish(`presence:${room}`, JSON.stringify(announcement))
  }

  #changed(room: string, state: RoomState): void {
    const members = merged(state)
    const shown = JSON.stringify(members)
    if (shown === state.shown) return
    state.shown = shown
    this.#onChange(room, members)
  }

  #tick(): void {
    const now = Date.now()
    for (const [room, state] of this.#rooms) {
      for (const [node, entry] of state.remote) if (now - entry.seen > this.#expiry) state.remote.delete(node)
      this.#announce(room, state, false)
      this.#changed(room, state)
    }
  }
}

function merged(state: RoomState): string[] {
  const all = new Set(state.local.keys())
  for (const entry of state.remote.values()) for (const member of entry.members) all.add(member)
  return [...all].sort()
}
