/**
 * A connection's options, their defaults (`core/defaults.ts`) and the settings that connections
 * made with the same options share.
 * @module
 */
import { DEFAULTS } from '../core/defaults.ts'
import type { Outgoing } from '../core/message.ts'
import type { ProtocolOptions } from '../core/protocol.ts'
import { sharedWheel, type TimerWheels } from '../internal/timer-wheel.ts'

/** What a `keepAlive` hook gets: the connection, to send a ping or an application message. */
export interface KeepAliveTarget {
  /** Sends a message (see `WebSocket.send`). */
  send(data: Outgoing): Promise<void>
  /** Sends a ping and resolves with the round trip in milliseconds (see `WebSocket.ping`). */
  ping(payload?: string | Uint8Array): Promise<number>
}

/**
 * Options of a connection, shared by `connect` and `serve`. Sizes in bytes, durations in milliseconds.
 * @category Connections
 */
export interface ConnectionOptions {
  /** Largest message accepted, summed over its fragments (default 64 MiB); more fails the connection with 1009. */
  maxMessageSize?: number | undefined
  /** Largest frame payload accepted (default: `maxMessageSize`); more fails with 1009. */
  maxFrameSize?: number | undefined
  /** Most fragments in one message (default 2^20); more fails with 1009. */
  maxFragments?: number | undefined
  /** Outgoing messages larger than this are sent as several frames of this size (default: one frame). */
  fragmentSize?: number | undefined
  /** How long to wait for the peer's close frame and for TCP to close after ours (default 5000 ms). */
  closeTimeout?: number | undefined
  /**
   * Heartbeat: after `stallTimeout / 2` ms without any byte from the peer, `keepAlive` runs (a
   * ping by default); after `stallTimeout` ms of silence the connection fails with a
   * `StallError`. Default 40,000 ms (a ping after 20 s of silence, as python websockets pings),
   * so that a peer that vanished without closing is found; 0 turns it off.
   */
  stallTimeout?: number | undefined
  /**
   * Closes the connection (1001, "idle timeout") after this many milliseconds without a data
   * message either way; 0 (the default) turns it off. Pings do not count as activity.
   */
  idleTimeout?: number | undefined
  /** Replaces the keep-alive ping, e.g. with an application message for peers that ignore pings. */
  keepAlive?: ((ws: KeepAliveTarget) => unknown) | undefined
  /**
   * Streaming mode: messages arrive as streams of chunks (`WebSocket.streams()`), so that a
   * message never has to fit in memory; `maxMessageSize` (and so `maxFrameSize`) then defaults to
   * no limit. A frame longer than 64 KiB is handed on in pieces as it arrives (a 1 GiB frame held
   * 16 MiB at most); each piece counts against `maxFragments`. Plain iteration still works and
   * collects each message.
   */
  streaming?: boolean | undefined
  /**
   * Where the connection's timers (heartbeat, idle and close deadlines) are kept: a function
   * giving the timer wheel for a shortest delay in ms. The default is wsflow's shared wheels on
   * the real clock; tests pass wheels on a clock of their own.
   */
  timers?: TimerWheels | undefined
  /** Messages buffered for a consumer that is not reading before the socket stops being read (default 16). */
  highWaterMark?: number | undefined
  /** Bytes of buffered messages before the socket stops being read (default 1 MiB). */
  highWaterMarkBytes?: number | undefined
}

/** What the connections made with equal options share: one object, where each had a field per option. */
export interface Settings {
  readonly timers: TimerWheels
  readonly closeTimeout: number
  readonly highWaterMark: number
  readonly highWaterMarkBytes: number
  readonly streaming: boolean
  readonly maxMessageSize: number
  readonly keepAlive: ((ws: KeepAliveTarget) => unknown) | undefined
}

const SETTINGS = new WeakMap<ConnectionOptions, Settings>()

/** The settings of a connection: those made last from `options` if they still say the same. */
export function settingsFor(options: ConnectionOptions): Settings {
  const streaming = options.streaming === true
  const maxMessageSize = options.maxMessageSize ?? (streaming ? Infinity : DEFAULTS.maxMessageSize)
  const closeTimeout = options.closeTimeout ?? DEFAULTS.closeTimeout
  const highWaterMark = options.highWaterMark ?? DEFAULTS.highWaterMark
  const highWaterMarkBytes = options.highWaterMarkBytes ?? DEFAULTS.highWaterMarkBytes
  const timers = options.timers ?? sharedWheel
  const keepAlive = options.keepAlive
  const last = SETTINGS.get(options)
  if (
    last !== undefined && last.timers === timers && last.streaming === streaming && last.maxMessageSize === maxMessageSize && last.closeTimeout === closeTimeout &&
    last.highWaterMark === highWaterMark && last.highWaterMarkBytes === highWaterMarkBytes && last.keepAlive === keepAlive
  ) {
    return last
  }
  const settings: Settings = { timers, closeTimeout, highWaterMark, highWaterMarkBytes, streaming, maxMessageSize, keepAlive }
  SETTINGS.set(options, settings)
  return settings
}

// The protocol options made for each connection options object, by role and compression: one
// object serves every connection of a server, so the protocol's settings are shared too.
const PROTOCOL_OPTIONS = new WeakMap<ConnectionOptions, ProtocolOptions[]>()

export function protocolOptionsFor(options: ConnectionOptions, role: 'client' | 'server', compression: boolean, allocate: ((length: number) => Uint8Array) | undefined): ProtocolOptions {
  const list = PROTOCOL_OPTIONS.get(options) ?? []
  const streaming = options.streaming === true
  for (const o of list) {
    if (
      o.role === role && o.compression === compression && o.allocate === allocate && o.streaming === streaming && o.maxMessageSize === options.maxMessageSize &&
      o.maxFrameSize === options.maxFrameSize && o.maxFragments === options.maxFragments && o.fragmentSize === options.fragmentSize
    ) {
      return o
    }
  }
  const made: ProtocolOptions = {
    role, compression, allocate, streaming, deferClose: true,
    maxMessageSize: options.maxMessageSize, maxFrameSize: options.maxFrameSize, maxFragments: options.maxFragments, fragmentSize: options.fragmentSize,
  }
  if (list.length >= 4) list.shift()
  list.push(made)
  PROTOCOL_OPTIONS.set(options, list)
  return made
}
