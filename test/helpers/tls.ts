/**
 * A self-signed certificate made at run time for TLS tests (openssl, when installed), in a
 * temporary directory that `dispose()` removes.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A key and certificate (PEM) for CN=localhost with SANs IP:127.0.0.1 and DNS:localhost. */
export interface TestCertificate {
  key: string
  cert: string
  dispose(): Promise<void>
}

/** Whether `openssl` can be run (`which openssl`). */
export async function hasOpenssl(): Promise<boolean> {
  try {
    await run('which', ['openssl'], { timeout: 5000 })
    return true
  } catch {
    return false
  }
}

/**
 * Makes a self-signed certificate with openssl, or returns undefined when openssl is missing
 * (node:crypto can generate keys but not certificates, so TLS tests are then skipped).
 */
export async function makeCertificate(): Promise<TestCertificate | undefined> {
  if (!(await hasOpenssl())) return undefined
  const dir = await mkdtemp(join(tmpdir(), 'wsflow-tls-'))
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true })
  try {
    const keyFile = join(dir, 'k.pem')
    const certFile = join(dir, 'c.pem')
    await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { timeout: 30_000 })
    return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8'), dispose }
  } catch (error) {
    await dispose()
    throw error
  }
}
