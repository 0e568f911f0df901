/**
 * CLI start-up: the time from spawning the process to its first message arriving at a server,
 * for `wsflow connect -x MSG URL` (compiled by tsc, as installed from npm; and from the
 * TypeScript sources through tsx, as in a checkout) against `wscat -c URL -x MSG` (npm), in the
 * same run, interleaved. Each process is killed by PID once its message has arrived.
 *
 *   node --import tsx bench/cli-startup.ts [--quick]
 *
 * Bounded: `runs` spawns per side (10, --quick 5), each given at most 10 s.
 * @module
 */
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { WebSocketServer } from 'ws'
import { buildWsflow, median } from './bridge.ts'

const quick = process.argv.includes('--quick')
const runs = quick ? 5 : 10
const root = fileURLToPath(new URL('..', import.meta.url))

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
await new Promise<void>((resolve) => server.once('listening', resolve))
const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/`
let onFirstMessage: ((text: string) => void) | undefined
server.on('connection', (ws) => {
  ws.once('message', (data) => onFirstMessage?.(String(data)))
  ws.on('error', () => undefined)
})

/** Spawns `command`, resolves with the ms until the server got `expected`, then kills it by PID. */
function once(command: string, args: readonly string[], expected: string, env: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'], cwd: root, env: { ...process.env, ...env } })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => {
      onFirstMessage = undefined
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
      reject(new Error(`${command} ${args.join(' ')}: no message within 10 s: ${stderr}`))
    }, 10_000)
    onFirstMessage = (text) => {
      const elapsed = performance.now() - start
      onFirstMessage = undefined
      clearTimeout(timer)
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM')
      child.once('exit', () => (text === expected ? resolve(elapsed) : reject(new Error(`got ${text}`))))
      if (child.exitCode !== null) text === expected ? resolve(elapsed) : reject(new Error(`got ${text}`))
    }
  })
}

console.log(`load average at the start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
const build = buildWsflow()
try {
  const sides: { name: string; command: string; args: string[]; env?: Record<string, string> }[] = [
    { name: 'wsflow connect (tsc build, as installed)', command: process.execPath, args: [build.cli, 'connect', '-q', '-x', 'hello', url] },
    { name: 'wsflow connect (bin/wsflow.mjs on src/ via tsx, a checkout)', command: process.execPath, args: ['bin/wsflow.mjs', 'connect', '-q', '-x', 'hello', url], env: { WSFLOW_CLI_SOURCE: '1' } },
    { name: 'wscat -c URL -x (npm wscat 6)', command: process.execPath, args: ['node_modules/wscat/bin/wscat', '-c', url, '-x', 'hello'] },
  ]
  const times = new Map<string, number[]>(sides.map((side) => [side.name, []]))
  for (const side of sides) await once(side.command, side.args, 'hello', side.env) // warm the file cache
  for (let run = 0; run < runs; run++) {
    for (const side of run % 2 === 0 ? sides : [...sides].reverse()) times.get(side.name)!.push(await once(side.command, side.args, 'hello', side.env))
  }
  const wscat = median(times.get(sides[2]!.name)!)
  console.log(`\nstart-up to the first message received by a local server, ${runs} runs each (median, min-max)`)
  console.log('| client | ms | vs wscat |')
  console.log('| --- | ---: | ---: |')
  for (const side of sides) {
    const t = times.get(side.name)!
    console.log(`| ${side.name} | ${median(t).toFixed(0)} (${Math.min(...t).toFixed(0)}-${Math.max(...t).toFixed(0)}) | ${(median(t) / wscat).toFixed(2)}x |`)
  }
} finally {
  rmSync(build.dir, { recursive: true, force: true })
  for (const client of server.clients) client.terminate()
  server.close()
}
