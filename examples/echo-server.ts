// An echo server on an existing node:http server: GET / serves a small page that talks to it from
// the browser; ws://HOST:PORT/echo echoes every message back.
//
//   node --import tsx examples/echo-server.ts            (PORT=8080 HOST=127.0.0.1 by default)
//   then open http://127.0.0.1:8080/ or: node --import tsx examples/echo-client.ts ws://127.0.0.1:8080/echo
import { createServer } from 'node:http'
import { serve } from '../src/index.ts'

const port = Number(process.env.PORT ?? 8080)
const host = process.env.HOST ?? '127.0.0.1'

const page = `<!doctype html><meta charset="utf-8"><title>wsflow echo</title>
<h1>wsflow echo</h1><form id="f"><input id="i" autofocus value="hello"> <button>send</button></form><pre id="log"></pre>
<script>
const log = (line) => { document.getElementById('log').textContent += line + '\\n' }
const ws = new WebSocket('ws://' + location.host + '/echo')
ws.onopen = () => { log('open'); ws.send('hello from the browser') }
ws.onmessage = (e) => log('echo: ' + e.data)
ws.onclose = (e) => log('closed ' + e.code)
document.getElementById('f').onsubmit = (e) => { e.preventDefault(); ws.send(document.getElementById('i').value) }
</script>`

const http = createServer((request, response) => {
  if (request.url === '/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    response.end(page)
  } else {
    response.writeHead(404).end()
  }
})

const server = await serve({ server: http, path: '/echo' }, async (ws) => {
  console.log(`+ ${ws.request?.remoteAddress} (${server.clients.size} open)`)
  for await (const message of ws) await ws.send(message)
  console.log(`- ${ws.request?.remoteAddress}`)
})
http.listen(port, host, () => console.log(`echo server: http://${host}:${port}/ (page), ws://${host}:${port}/echo`))

process.once('SIGINT', () => {
  console.log('shutting down: 1001 to every client')
  void server.close().then(() => http.close())
})
