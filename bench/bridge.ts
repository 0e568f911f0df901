/**
 * `wsflow bridge ws-listen:… tcp:…` against Debian's `websockify` on the same TCP echo target, in
 * the same run: throughput (1 MiB binary messages, a window of 4 MiB in flight, MB/s of echoed
 * bytes) and the round trip of a 64 B message (median and p99, µs). The same client (npm `ws`)
 * drives both. wsflow runs as users run it: src/ compiled by tsc.
 *
 *   node --import tsx bench/bridge.ts [--quick]
 *
 * Every loop is bounded in count and time; the whole run takes about a minute (--quick: 30 s).
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { WebSocket } from 'ws'

/** Compiles src/ with tsc (no type check: others may be editing src/) into a temporary directory. */
export function buildWsflow(): { dir: string; cli: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-build-'))
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url))
  const project = fileURLToPath(new URL('../tsconfig.build.json', import.meta.url))
  const flags = ['--outDir', dir, '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false', '--noCheck']
  const result = spawnSync(process.execPath, [tsc, '-p', project, ...flags], { encoding: 'utf8', timeout: 120_000 })
  const cli = join(dir, 'cli', 'main.js')
  if (result.status !== 0 || !existsSync(cli)) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`bench: tsc could not build src/: ${result.error?.message ?? ''}${result.stdout}${result.stderr}`)
  }
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "version": "bench" }\n')
  return { dir, cli }
}

/** The median of some values. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
}

/** A free loopback port (websockify needs one named). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Starts a process and resolves once `pattern` appears on its stdout or stderr (bounded). */
function startProcess(command: string, args: readonly string[], pattern: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start: ${output}`)), 20_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = output.match(pattern)
      if (match !== null) {
        clearTimeout(timer)
        child.stdout!.off('data', onData)
        child.stderr!.off('data', onData)
        child.stdout!.resume()
        child.stderr!.resume()
        resolve({ child, match })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${command} exited (${code}) before starting: ${output}`)))
  })
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  process.kill(child.pid, 'SIGTERM')
  const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    ws.binaryType = 'nodebuffer'
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

function closeWs(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate()
      resolve()
    }, 2000)
    ws.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    ws.close()
  })
}

const MiB = 1024 * 1024

/** Sends 1 MiB messages for `ms` with up to `window` bytes not yet echoed; returns MB/s of echoed bytes (checked). */
async function throughput(url: string, ms: number, window = 4 * MiB): Promise<number> {
  const ws = await open(url)
  const message = Buffer.alloc(MiB)
  for (let i = 0; i < message.length; i++) message[i] = (i * 31) & 0xff
  let sent = 0
  let echoed = 0
  const start = performance.now()
  const result = await new Promise<number>((resolve, reject) => {
    let stopping = false
    const pump = (): void => {
      while (!stopping && sent - echoed < window) {
        ws.send(message)
        sent += MiB
      }
    }
    ws.on('message', (data: Buffer) => {
      // The echo comes back in TCP-sized pieces; each is checked against the pattern.
      const offset = echoed % MiB
      for (let i = 0; i < data.length; i += 4093) if (data[i] !== message[(offset + i) % MiB]) return reject(new Error('bench: a corrupted echo'))
      echoed += data.length
      if (!stopping && performance.now() - start >= ms) stopping = true
      if (stopping && echoed === sent) resolve(echoed / ((performance.now() - start) / 1000) / 1e6)
      else pump()
    })
    ws.once('close', () => reject(new Error('bench: closed during the throughput run')))
    const deadline = setTimeout(() => reject(new Error('bench: throughput run overran')), ms + 20_000)
    deadline.unref()
    pump()
  })
  ws.removeAllListeners('close')
  await closeWs(ws)
  return result
}

/** Round trips of a 64 B message, one at a time, up to `count` or `ms`; returns the times in µs. */
async function latency(url: string, count: number, ms: number): Promise<number[]> {
  const ws = await open(url)
  const message = Buffer.alloc(64, 7)
  const times: number[] = []
  const start = performance.now()
  await new Promise<void>((resolve, reject) => {
    let got = 0
    let sentAt = 0
    const next = (): void => {
      if (times.length >= count || performance.now() - start > ms) return resolve()
      got = 0
      sentAt = performance.now()
      ws.send(message)
    }
    ws.on('message', (data: Buffer) => {
      got += data.length
      if (got < message.length) return
      times.push((performance.now() - sentAt) * 1000)
      next()
    })
    ws.once('close', () => reject(new Error('bench: closed during the latency run')))
    next()
  })
  ws.removeAllListeners('close')
  await closeWs(ws)
  return times
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const rounds = quick ? 2 : 3
  const throughputMs = quick ? 1500 : 3000
  const pings = quick ? 1000 : 2000
  if (spawnSync('sh', ['-c', 'command -v websockify']).status !== 0) {
    console.log('bench/bridge.ts: websockify is not installed (apt-get install websockify): nothing to compare with')
    return
  }
  console.log(`load average at the start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  const build = buildWsflow()
  const processes: ChildProcess[] = []
  try {
    const echo = await startProcess(process.execPath, ['-e', `
      const net = require('net')
      net.createServer((s) => { s.setNoDelay(true); s.on('error', () => s.destroy()); s.pipe(s) }).listen(0, '127.0.0.1', function () { console.log('port ' + this.address().port) })
    `], /port (\d+)/)
    processes.push(echo.child)
    const target = `127.0.0.1:${echo.match[1]!}`
    const wsflow = await startProcess(process.execPath, [build.cli, 'bridge', 'ws-listen:0', `tcp:${target}`], /listening on (ws:\/\/\S+?),/)
    processes.push(wsflow.child)
    const port = await freePort()
    const websockify = await startProcess('websockify', [`127.0.0.1:${port}`, target], /Listen|listening/i)
    processes.push(websockify.child)
    const sides = [
      { name: 'wsflow bridge', url: wsflow.match[1]! },
      { name: 'websockify', url: `ws://127.0.0.1:${port}/` },
    ]
    const results = new Map<string, { mbps: number[]; rtts: number[] }>(sides.map((s) => [s.name, { mbps: [], rtts: [] }]))
    // Warm-up, then interleaved rounds (A B, B A, ...).
    for (const side of sides) await throughput(side.url, 500)
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? sides : [...sides].reverse()
      for (const side of order) {
        const entry = results.get(side.name)!
        entry.mbps.push(await throughput(side.url, throughputMs))
        entry.rtts.push(...(await latency(side.url, pings, 10_000)))
      }
    }
    const w = results.get('wsflow bridge')!
    const p = results.get('websockify')!
    const row = (name: string, r: { mbps: number[]; rtts: number[] }): string =>
      `| ${name} | ${median(r.mbps).toFixed(0)} (${Math.min(...r.mbps).toFixed(0)}-${Math.max(...r.mbps).toFixed(0)}) | ${median(r.rtts).toFixed(0)} | ${percentile(r.rtts, 0.99).toFixed(0)} |`
    console.log(`\nbridge to a TCP echo, ${rounds} rounds of ${throughputMs} ms (1 MiB messages, 4 MiB in flight) and ${pings} round trips of 64 B each`)
    console.log('| bridge | throughput MB/s (min-max) | 64 B round trip median µs | p99 µs |')
    console.log('| --- | ---: | ---: | ---: |')
    console.log(row('wsflow bridge', w))
    console.log(row('websockify', p))
    console.log(`| wsflow / websockify | ${(median(w.mbps) / median(p.mbps)).toFixed(2)}x | ${(median(w.rtts) / median(p.rtts)).toFixed(2)}x | ${(percentile(w.rtts, 0.99) / percentile(p.rtts, 0.99)).toFixed(2)}x |`)
  } finally {
    for (const child of processes.reverse()) await stop(child)
    rmSync(build.dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
