/**
 * Runs conformance cases against wsflow in either role and judges them the way Autobahn does:
 * OK, NON-STRICT or FAILED, from the events wsflow sent, its close frame, and how TCP ended.
 *
 * - role 'server': wsflow is an echo server written as users write it, the peer is a raw client;
 * - role 'client': the peer is a raw server, wsflow's `connect()` echoes what it receives.
 * @module
 */
import { connect, serve, type Server, type WebSocket } from '../../src/index.ts'
import { DEFAULT_OFFER, EMPTY_CLOSE, acceptOffer, type Case, type Expectation, type ExpectedEvent } from './cases.ts'
import { FakeServer, connectPeer, type Peer, type PeerEvent } from './peer.ts'
import { show } from './wire.ts'

/** Autobahn's verdicts. */
export type Verdict = 'OK' | 'NON-STRICT' | 'FAILED'

/** The outcome of one case in one role. */
export interface CaseResult {
  id: string
  section: string
  description: string
  role: 'server' | 'client'
  verdict: Verdict
  /** Why the verdict is not OK (or what was informational). */
  notes: string[]
  /** wsflow's close code as received ('-' for none, 'empty' for a close frame without a code). */
  close: string
  ms: number
  /** The peer's timeline, for failed cases. */
  log: string[]
  /** Messages wsflow sent compressed (permessage-deflate), of all it sent. */
  compressed: number
  messages: number
}

/** Runs cases in one role. */
export interface RoleRunner {
  readonly role: 'server' | 'client'
  run(c: Case): Promise<CaseResult>
  close(): Promise<void>
}

const SETTLE_MS = 20 // after the expected events, to catch frames that should not come
const FAIL_WAIT_MS = 1000 // for wsflow to fail the connection
const TCP_CLOSE_WAIT_MS = 2000 // for TCP to close after the closing handshake
const CLEANUP_WAIT_MS = 1000 // for wsflow's side of the connection to notice

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Uncaught errors while a case runs (a crash of wsflow would land here). */
const crashes: string[] = []
const onCrash = (error: unknown): void => {
  crashes.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error))
}
let listening = 0
function watchCrashes(on: boolean): void {
  listening += on ? 1 : -1
  if (on && listening === 1) {
    process.on('uncaughtException', onCrash)
    process.on('unhandledRejection', onCrash)
  } else if (!on && listening === 0) {
    process.off('uncaughtException', onCrash)
    process.off('unhandledRejection', onCrash)
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The 'close-on-request' application: echoes, and starts the closing handshake on "close-me". */
async function echoUntilAsked(ws: WebSocket): Promise<void> {
  for await (const m of ws) {
    if (m.type === 'text' && m.text() === 'close-me') {
      await ws.close(1000, 'bye')
      return
    }
    await ws.send(m)
  }
}

/** Runs a case's script on a connected peer, closes as the case says, and waits for TCP to end. */
async function drive(c: Case, peer: Peer): Promise<Expectation> {
  const waitMs = c.waitMs ?? 1000
  const expectation = await withTimeout(c.run(peer), 30_000, `case ${c.id}`)
  if (peer.closeSent === undefined && !peer.stopped) {
    if (expectation.close.byPeer || expectation.informational === true) {
      const want = Math.max(0, ...expectation.ok.map((events) => events.length))
      await peer.waitEvents(want, waitMs)
      await peer.sleep(SETTLE_MS)
    } else {
      await peer.waitClose(Math.max(waitMs, FAIL_WAIT_MS))
      if (!peer.stopped) peer.note('wsflow has not failed the connection: the peer closes it normally')
    }
    if (!peer.stopped && peer.closeSent === undefined) await peer.sendClose(1000)
  }
  await peer.waitTcpClose(TCP_CLOSE_WAIT_MS)
  return expectation
}

function sameEvent(a: PeerEvent, b: ExpectedEvent): boolean {
  return a.kind === b.kind && Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(b.data)
}

function matches(events: readonly PeerEvent[], expected: readonly ExpectedEvent[]): boolean {
  return events.length === expected.length && events.every((e, i) => sameEvent(e, expected[i]!))
}

/** Events in short form, runs of equal events folded ("1000× text [16 B: …]"). */
export function describeEvents(events: readonly { kind: string; data: Uint8Array }[]): string {
  if (events.length === 0) return 'nothing'
  const parts: string[] = []
  for (let i = 0; i < events.length; ) {
    const e = events[i]!
    let j = i + 1
    while (j < events.length && events[j]!.kind === e.kind && Buffer.from(events[j]!.data).equals(e.data)) j++
    parts.push(`${j - i > 1 ? `${j - i}× ` : ''}${e.kind} ${show(e.data)}`)
    i = j
  }
  return parts.join(', ')
}

/** Judges a finished case (Autobahn's behaviour and close behaviour, folded into one verdict). */
export function judge(expectation: Expectation, peer: Peer, extra: string[]): { verdict: Verdict; notes: string[] } {
  const failures: string[] = [...peer.violations, ...extra]
  const lenient: string[] = []
  if (peer.tcpClosedBy === 'timeout') failures.push(`hang: TCP still open ${TCP_CLOSE_WAIT_MS} ms after the peer finished`)
  if (expectation.informational === true) {
    const notes = [`informational: got ${describeEvents(peer.events)}, close ${closeOf(peer)}`]
    return failures.length > 0 ? { verdict: 'FAILED', notes: [...failures, ...notes] } : { verdict: 'OK', notes }
  }
  if (!expectation.ok.some((seq) => matches(peer.events, seq))) {
    const seen = `got ${describeEvents(peer.events)}`
    const wanted = expectation.ok.map((seq) => describeEvents(seq)).join(' or ')
    if (expectation.nonStrict?.some((seq) => matches(peer.events, seq)) === true) lenient.push(`${seen}; OK would be ${wanted}`)
    else failures.push(`events: expected ${wanted}; ${seen}`)
  }
  const close = peer.closeReceived
  const codes = expectation.close.codes
  if (close === undefined) {
    failures.push('no close frame from wsflow: TCP ended without a closing handshake')
  } else if (expectation.close.byPeer && !peer.closedByMe) {
    failures.push(`wsflow failed the connection (close ${closeOf(peer)}) where the exchange was valid`)
  } else if (!expectation.close.byPeer && peer.closedByMe) {
    failures.push(`wsflow did not fail the connection (expected close ${codes.join(' or ')}); it answered the peer's close with ${closeOf(peer)}`)
  } else if (!codes.includes(close.code ?? EMPTY_CLOSE)) {
    if (close.code === undefined) lenient.push(`close frame without a code (expected ${codes.join(' or ')})`)
    else failures.push(`close code ${close.code}, expected ${codes.map((c) => (c === EMPTY_CLOSE ? 'empty' : c)).join(' or ')}`)
  }
  if (expectation.failFast === true && peer.failFastMissed && close !== undefined) {
    lenient.push('not fail-fast: failed only after the rest of the message arrived')
  }
  if (expectation.check !== undefined) failures.push(...expectation.check(peer))
  const info = expectation.info?.(peer) ?? []
  if (failures.length > 0) return { verdict: 'FAILED', notes: [...failures, ...lenient, ...info] }
  if (lenient.length > 0) return { verdict: 'NON-STRICT', notes: [...lenient, ...info] }
  return { verdict: 'OK', notes: info }
}

function closeOf(peer: Peer): string {
  const close = peer.closeReceived
  if (close === undefined) return '-'
  return close.code === undefined ? 'empty' : String(close.code)
}

async function runCase(role: 'server' | 'client', c: Case, open: () => Promise<{ peer: Peer; extra: () => Promise<string[]> }>): Promise<CaseResult> {
  const start = performance.now()
  const crashesBefore = crashes.length
  const base = { id: c.id, section: c.section, description: c.description, role }
  let peer: Peer | undefined
  try {
    const opened = await open()
    peer = opened.peer
    const expectation = await drive(c, peer)
    const extra = await opened.extra()
    for (const crash of crashes.slice(crashesBefore)) extra.push(`crash: ${crash}`)
    if (c.deflate !== undefined) {
      // RFC 7692: the handshake agrees on permessage-deflate exactly when the case says it must.
      const want = c.deflate.negotiated ?? true
      if (want !== (peer.deflate !== undefined)) {
        extra.push(`permessage-deflate ${want ? 'was not negotiated' : 'was negotiated where it must not be'} (wsflow's ${role === 'server' ? 'response' : 'offer'}: ${peer.wsflowExtensions ?? 'none'})`)
      }
    }
    const { verdict, notes } = judge(expectation, peer, extra)
    const data = peer.events.filter((e) => e.kind === 'text' || e.kind === 'binary')
    return { ...base, verdict, notes, close: closeOf(peer), ms: performance.now() - start, log: peer.log, compressed: data.filter((e) => e.compressed === true).length, messages: data.length }
  } catch (error) {
    return { ...base, verdict: 'FAILED', notes: [`harness: ${(error as Error).message}`], close: peer === undefined ? '-' : closeOf(peer), ms: performance.now() - start, log: peer?.log ?? [], compressed: 0, messages: 0 }
  } finally {
    peer?.destroy()
  }
}

/** wsflow as an echo server, exactly as a user writes it; one server per option set. */
export async function startServerRole(): Promise<RoleRunner> {
  watchCrashes(true)
  const servers = new Map<string, Server>()
  const serverFor = async (c: Case): Promise<Server> => {
    const perMessageDeflate = c.deflate === undefined ? undefined : (c.deflate.wsflow ?? true)
    const key = JSON.stringify([c.options ?? {}, c.app ?? 'echo', perMessageDeflate ?? null])
    let server = servers.get(key)
    if (server === undefined) {
      const options = { port: 0, host: '127.0.0.1', ...c.options, ...(perMessageDeflate === undefined ? {} : { perMessageDeflate }) }
      server = c.app === 'close-on-request'
        ? await serve(options, (ws) => echoUntilAsked(ws))
        : await serve(options, async (ws) => {
          for await (const m of ws) await ws.send(m)
        })
      servers.set(key, server)
    }
    return server
  }
  return {
    role: 'server',
    run: (c) =>
      runCase('server', c, async () => {
        const server = await serverFor(c)
        const offer = c.deflate === undefined ? undefined : c.deflate.offer === undefined ? DEFAULT_OFFER : c.deflate.offer === '' ? undefined : c.deflate.offer
        const peer = await connectPeer(server.port, { extensions: offer })
        const extra = async (): Promise<string[]> => {
          // wsflow's side must notice the end of TCP and forget the connection.
          for (let i = 0; i < CLEANUP_WAIT_MS / 10 && server.clients.size > 0; i++) await sleep(10)
          if (server.clients.size === 0) return []
          const states = [...server.clients].map((ws) => ws.readyState).join(', ')
          for (const ws of server.clients) ws.terminate()
          return [`wsflow still holds the connection (${states}) ${CLEANUP_WAIT_MS} ms after TCP closed`]
        }
        return { peer, extra }
      }),
    close: async () => {
      for (const server of servers.values()) await server.close({ timeout: 1000 })
      watchCrashes(false)
    },
  }
}

/** wsflow's client echoing what it receives, against the peer as a raw server. */
export async function startClientRole(): Promise<RoleRunner> {
  watchCrashes(true)
  const fake = await FakeServer.start()
  return {
    role: 'client',
    run: (c) =>
      runCase('client', c, async () => {
        const answer = c.deflate === undefined ? undefined : (c.deflate.answer ?? acceptOffer())
        const peerPromise = fake.nextPeer(2000, c.coalesceHandshake === true, answer)
        const perMessageDeflate = c.deflate?.wsflow ?? true
        const wsPromise = connect(fake.url, { ...c.options, handshakeTimeout: 2000, ...(c.deflate === undefined ? {} : { perMessageDeflate }) })
        wsPromise.catch(() => undefined)
        peerPromise.catch(() => undefined)
        const peer = await peerPromise
        let ws: WebSocket | undefined
        let connectError: unknown
        const echo = (async () => {
          try {
            ws = await wsPromise
          } catch (error) {
            connectError = error
            return
          }
          try {
            if (c.app === 'close-on-request') await echoUntilAsked(ws)
            else for await (const m of ws) await ws.send(m)
          } catch {
            // a failed connection ends the loop with an error: the peer judges what went on the wire
          }
        })()
        const extra = async (): Promise<string[]> => {
          if (connectError !== undefined) return [`connect() rejected: ${(connectError as Error).message}`]
          const out: string[] = []
          // wsflow's client must agree with what went over the wire.
          const agreed = ws?.extensions.some((e) => e.name === 'permessage-deflate') === true
          if (ws !== undefined && agreed !== (peer.deflate !== undefined)) out.push(`ws.extensions says permessage-deflate ${agreed ? 'was' : 'was not'} agreed; the handshake says otherwise`)
          const closedInTime = await Promise.race([echo.then(() => true), sleep(CLEANUP_WAIT_MS).then(() => false)])
          const socket = ws
          if (socket !== undefined && (!closedInTime || socket.readyState !== 'closed')) {
            await Promise.race([socket.closed, sleep(CLEANUP_WAIT_MS)])
            if (socket.readyState !== 'closed') {
              out.push(`wsflow's client is still ${socket.readyState} ${CLEANUP_WAIT_MS} ms after TCP closed`)
              socket.terminate()
            }
          }
          return out
        }
        return { peer, extra }
      }),
    close: async () => {
      await fake.close()
      watchCrashes(false)
    },
  }
}

/** Counts of verdicts per section, and the totals line `N OK, N NON-STRICT, N FAILED`. */
export function summarize(results: readonly CaseResult[]): string {
  const sections = new Map<string, Record<Verdict, number>>()
  const total: Record<Verdict, number> = { OK: 0, 'NON-STRICT': 0, FAILED: 0 }
  for (const r of results) {
    let counts = sections.get(r.section)
    if (counts === undefined) sections.set(r.section, (counts = { OK: 0, 'NON-STRICT': 0, FAILED: 0 }))
    counts[r.verdict]++
    total[r.verdict]++
  }
  const role = results[0]?.role ?? '?'
  const lines = [`wsflow as ${role}: conformance summary`]
  for (const [name, counts] of sections) {
    lines.push(`  ${name.padEnd(30)} ${String(counts.OK).padStart(4)} OK ${String(counts['NON-STRICT']).padStart(3)} NON-STRICT ${String(counts.FAILED).padStart(3)} FAILED`)
  }
  lines.push(`  ${total.OK} OK, ${total['NON-STRICT']} NON-STRICT, ${total.FAILED} FAILED (${results.length} cases)`)
  const compressed = results.reduce((n, r) => n + r.compressed, 0)
  if (compressed > 0) lines.push(`  permessage-deflate: ${compressed} of the ${results.reduce((n, r) => n + r.messages, 0)} messages wsflow sent were compressed`)
  return lines.join('\n')
}

/** One line per case: id, verdict, close code, time, description and notes. */
export function formatRow(r: CaseResult): string {
  const notes = r.notes.length > 0 ? ` — ${r.notes.join('; ')}` : ''
  return `${r.id.padEnd(12)} ${r.verdict.padEnd(10)} ${r.close.padEnd(5)} ${`${r.ms.toFixed(0)} ms`.padStart(8)}  ${r.description}${notes}`
}
