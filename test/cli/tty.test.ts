// `wsflow connect` on a real pseudo-terminal (util-linux `script`): the interactive line mode,
// its prompt, the received lines, and the slash commands, against a `ws` server that records
// what it got and how the connection closed.
import type { AddressInfo } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocketServer } from 'ws'
import { within } from '../helpers/timing.ts'
import { BIN, hasCommand, spawnCli } from './helpers.ts'

const SCRIPT = hasCommand('script')
if (!SCRIPT) console.log('  (TTY tests skipped: `script` from util-linux is not installed)')
const run = SCRIPT ? test : test.skip

interface Recorded {
  messages: { data: string; binary: boolean }[]
  pings: number
  close: Promise<{ code: number; reason: string }>
}

async function recordingWsServer(): Promise<{ url: string; recorded: Recorded[]; close(): Promise<void> }> {
  const recorded: Recorded[] = []
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  server.on('connection', (ws) => {
    const entry: Recorded = {
      messages: [],
      pings: 0,
      close: new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) }))),
    }
    recorded.push(entry)
    ws.on('ping', () => entry.pings++)
    ws.on('message', (data, isBinary) => {
      entry.messages.push({ data: isBinary ? (data as Buffer).toString('hex') : String(data), binary: isBinary })
      ws.send(data, { binary: isBinary })
    })
  })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    recorded,
    close: () => {
      for (const client of server.clients) client.terminate()
      return within(new Promise<void>((resolve) => server.close(() => resolve())), 3000, 'ws server close')
    },
  }
}

/** `wsflow connect URL` under `script`, which gives it a pseudo-terminal for stdin and stdout. */
function onTerminal(url: string) {
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} connect ${url}`
  return spawnCli([], { command: ['script', '-qfec', command, '/dev/null'], env: { TERM: 'dumb' } })
}

run('interactive mode: a prompt, "<" lines for what arrives, /ping, /binary, /text and /close CODE REASON', async () => {
  const server = await recordingWsServer()
  try {
    const cli = onTerminal(server.url)
    await cli.stdout.waitFor(/\* connected to .*\/help for commands/)
    await cli.stdout.waitFor(/> /)
    cli.child.stdin.write('hello there\r')
    await cli.stdout.waitFor(/< hello there/)
    cli.child.stdin.write('/ping\r')
    await cli.stdout.waitFor(/\* pong: \d+\.\d\d ms/)
    cli.child.stdin.write('/binary 48 69 ff\r')
    await cli.stdout.waitFor(/< \[binary 3 B\] 48 69 ff/)
    cli.child.stdin.write('/text /not a command\r')
    await cli.stdout.waitFor(/< \/not a command/)
    cli.child.stdin.write('/frob\r')
    await cli.stdout.waitFor(/unknown command \/frob/)
    cli.child.stdin.write('/close 4000 all done\r')
    await cli.stdout.waitFor(/\* closed: 4000 "all done"/)
    assert.is(await cli.exit(), 0, cli.stdout.text)
    const [connection] = server.recorded
    assert.ok(connection !== undefined)
    assert.equal(connection.messages, [
      { data: 'hello there', binary: false },
      { data: '4869ff', binary: true },
      { data: '/not a command', binary: false },
    ])
    assert.is(connection.pings, 1)
    assert.equal(await connection.close, { code: 4000, reason: 'all done' })
  } finally {
    await server.close()
  }
})

run('interactive mode: Ctrl+D closes with 1000 and exits 0', async () => {
  const server = await recordingWsServer()
  try {
    const cli = onTerminal(server.url)
    await cli.stdout.waitFor(/> /)
    cli.child.stdin.write('\x04')
    assert.is(await cli.exit(), 0, cli.stdout.text)
    assert.match(cli.stdout.text, /\* closed: 1000/)
    assert.equal(await server.recorded[0]!.close, { code: 1000, reason: '' })
  } finally {
    await server.close()
  }
})

test.run()
