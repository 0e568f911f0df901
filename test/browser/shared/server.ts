// The test server of the browser client's tests: one http server on 127.0.0.1, port 0, that serves
// pages and esbuild bundles from memory, and wsflow's server on it, whose paths play the server's
// side of the shared behaviour suite (./cases.ts) and of the browser-only cases. Chromium is
// driven with playwright-core over Debian's /usr/bin/chromium (it downloads no browser).
import { existsSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { serve, type CloseInfo, type Server, type WebSocket } from '../../../src/index.ts'

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium'

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed`
}

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** A file served from memory. */
export interface ServedFile {
  readonly type: string
  readonly body: string | Uint8Array
}

/**
 * Bundles `entries` (name -> source path under the repository) for the browser with esbuild, in
 * memory; returns the outputs by URL path (`/bundle/<name>.js` and their chunks).
 */
export async function bundle(entries: Record<string, string>, minify = false): Promise<Map<string, ServedFile>> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: entries,
    outdir: '/bundle',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    write: false,
    logLevel: 'error',
  })
  const files = new Map<string, ServedFile>()
  for (const file of result.outputFiles) files.set(file.path.slice(file.path.indexOf('/bundle/')), { type: 'text/javascript', body: file.contents })
  return files
}

/** A page that imports `modules` (URL paths) and exposes them as `window.<name>`. */
export function modulePage(modules: Record<string, string>): string {
  const imports = Object.entries(modules).map(([name, path]) => `import * as ${name} from ${JSON.stringify(path)}; window.${name} = ${name};`).join('\n')
  return `<!doctype html><html><head><meta charset="utf-8"></head><body><script type="module">\n${imports}\nwindow.ready = true\n</script></body></html>`
}

/** A server-side handler for a path (the query string is in `ws.request.url`). */
export type Route = (ws: WebSocket, query: URLSearchParams) => Promise<void>

/** What the server saw of a connection opened with `?id=`. */
interface Record_ {
  messages: number
  closed: Promise<CloseInfo>
}

/** The test server. */
export interface TestServer {
  readonly port: number
  /** http://127.0.0.1:port */
  readonly origin: string
  /** ws://127.0.0.1:port + path */
  wsUrl(path: string): string
  /** Serves `file` at `path`. */
  addFile(path: string, file: ServedFile): void
  /** Adds a WebSocket path. */
  route(path: string, handler: Route): void
  /** Closes every connection and the server. */
  close(): Promise<void>
}

async function echo(ws: WebSocket, query: URLSearchParams, records: Map<string, Record_>): Promise<void> {
  const record: Record_ = { messages: 0, closed: ws.closed }
  const key = query.get('id')
  if (key !== null) records.set(key, record)
  for await (const message of ws) {
    record.messages++
    await ws.send(message)
  }
}

/** The server's side of the shared suite's paths. */
function suiteRoutes(records: Map<string, Record_>): Map<string, Route> {
  return new Map<string, Route>([
    ['/echo', (ws, query) => echo(ws, query, records)],
    ['/close-4001', async (ws) => {
      await ws.send('before the close')
      await ws.close(4001, 'server says bye')
    }],
    ['/close-1000', async (ws) => {
      await ws.send('one')
      await ws.send('two')
      await ws.close(1000, 'done')
    }],
    ['/terminate', async (ws) => {
      await ws.send('about to drop')
      // The message is written before the socket is destroyed: terminate after the write drained.
      await new Promise((resolve) => setTimeout(resolve, 0))
      ws.terminate()
    }],
    ['/greet', async (ws) => {
      for (let i = 1; i <= 5; i++) void ws.send(`greeting ${i}`)
      for await (const message of ws) await ws.send(message)
    }],
    ['/report', async (ws, query) => {
      const record = records.get(query.get('id') ?? '')
      if (record === undefined) {
        await ws.close(4404, 'no such id')
        return
      }
      const closed = await Promise.race([record.closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5000).unref())])
      await ws.send(JSON.stringify(closed === undefined ? { error: 'the connection did not close within 5 s' } : { ...closed, messages: record.messages }))
      for await (const _ of ws) {
        // wait for the client's close
      }
    }],
  ])
}

/** Starts the test server on 127.0.0.1, port 0. */
export async function startTestServer(): Promise<TestServer> {
  const files = new Map<string, ServedFile>()
  const records = new Map<string, Record_>()
  const routes = suiteRoutes(records)
  const http: HttpServer = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!
    const file = files.get(path)
    if (file === undefined) {
      response.writeHead(404).end()
      return
    }
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body)
  })
  // A path with no route is refused in the handshake (404), before any 101; /hang is answered
  // (503) only when the server closes, for the clients' handshake timeout and abort.
  const hanging = new Set<() => void>()
  const verify = (request: { url: string }): boolean | { status: number } | Promise<{ status: number }> => {
    const path = new URL(request.url, 'http://localhost').pathname
    if (path === '/hang') {
      return new Promise((resolve) => {
        const answer = (): void => {
          hanging.delete(answer)
          resolve({ status: 503 })
        }
        hanging.add(answer)
      })
    }
    return routes.has(path) || { status: 404 }
  }
  const server: Server = await serve({ server: http, protocols: ['chat.v2', 'chat.v1'], perMessageDeflate: false, verify }, async (ws) => {
    const url = new URL(ws.request?.url ?? '/', 'http://localhost')
    const route = routes.get(url.pathname)
    if (route === undefined) {
      await ws.close(4404, 'no such path')
      return
    }
    await route(ws, url.searchParams)
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const port = (http.address() as { port: number }).port
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    wsUrl: (path) => `ws://127.0.0.1:${port}${path}`,
    addFile: (path, file) => files.set(path, file),
    route: (path, handler) => routes.set(path, handler),
    async close() {
      for (const answer of [...hanging]) answer()
      await server.close({ timeout: 500 })
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
