// wss:// with a self-signed certificate made on the spot by openssl: an echo server over TLS and a
// client that trusts exactly that certificate (and one that does not, which is refused).
//
//   node --import tsx examples/tls-echo.ts
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, serve } from '../src/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'wsflow-tls-'))
try {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' })
  const key = readFileSync(join(dir, 'key.pem'))
  const cert = readFileSync(join(dir, 'cert.pem'))

  const server = await serve({ port: 0, host: '127.0.0.1', key, cert }, async (ws) => {
    for await (const message of ws) await ws.send(message)
  })
  console.log(`listening on ${server.url}`)

  const ws = await connect(server.url, { ca: cert })
  await ws.send('hello over TLS')
  for await (const message of ws) {
    console.log(`echo: ${message.text()}`)
    break
  }
  await ws.close()

  try {
    await connect(server.url) // the system's CAs do not know this certificate
    console.log('unexpected: an untrusted certificate was accepted')
  } catch (error) {
    console.log(`without the CA: refused (${(error as NodeJS.ErrnoException).code})`)
  }
  await server.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
