/**
 * `--static DIR`: plain HTTP files served on the WebSocket's port, so that a page and its socket
 * share an origin. GET and HEAD only; paths cannot leave DIR.
 * @module
 */
import { createReadStream, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.ico': 'image/x-icon', '.wasm': 'application/wasm', '.map': 'application/json',
}

function answer(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers })
  response.end(text)
}

/** Returns a request handler serving the files under `dir` (`index.html` for a directory). */
export function staticFiles(dir: string): (request: IncomingMessage, response: ServerResponse) => void {
  const root = resolve(dir)
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return answer(response, 405, 'method not allowed\n', { allow: 'GET, HEAD' })
    let path: string
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname)
    } catch {
      return answer(response, 400, 'bad path\n')
    }
    let file = resolve(join(root, path))
    if (file !== root && !file.startsWith(root + sep)) return answer(response, 403, 'forbidden\n')
    let stat = statSync(file, { throwIfNoEntry: false })
    if (stat?.isDirectory() === true) {
      file = join(file, 'index.html')
      stat = statSync(file, { throwIfNoEntry: false })
    }
    if (stat?.isFile() !== true) return answer(response, 404, 'not found\n')
    response.writeHead(200, { 'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': stat.size })
    if (request.method === 'HEAD') return void response.end()
    const stream = createReadStream(file)
    stream.on('error', () => response.destroy())
    stream.pipe(response)
  }
}
