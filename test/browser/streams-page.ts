// The page's side of the WHATWG stream pair's Chromium tests: toWebStreams over the browser
// client (the platform WebSocket or WebSocketStream). Bundled with the browser entry by esbuild;
// each export is called from the test with page.evaluate.
import { connect, toWebStreams, type BrowserConnectOptions } from '../../src/browser/index.ts'

/**
 * Writes `count` binary messages of `size` bytes (each starting with its index) through the
 * writable side, reads the echo with `pipeTo` into a WritableStream that waits a macrotask per
 * chunk, and returns how many came back and whether in order.
 */
export async function echoPipe(url: string, count: number, size: number, options: BrowserConnectOptions): Promise<{ received: number; inOrder: boolean; bytes: number }> {
  const ws = await connect(url, options)
  const { readable, writable } = toWebStreams(ws, { readAs: 'bytes' })
  let next = 0
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next === count) {
        controller.close()
        return
      }
      const data = new Uint8Array(size)
      new DataView(data.buffer).setUint32(0, next++)
      controller.enqueue(data)
    },
  }, { highWaterMark: 1 })
  let received = 0
  let bytes = 0
  let inOrder = true
  const slow = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (new DataView(chunk.buffer, chunk.byteOffset).getUint32(0) !== received) inOrder = false
      received++
      bytes += chunk.length
      if (received === count) void ws.close()
      await new Promise((resolve) => setTimeout(resolve, 0))
    },
  })
  await Promise.all([source.pipeTo(writable, { preventClose: true }), readable.pipeTo(slow)])
  return { received, inOrder, bytes }
}

/** Reads from a server that sends one message and closes with 4001: what the reads and a write saw. */
export async function closed4001(url: string, options: BrowserConnectOptions): Promise<{ first: string; readError: number | undefined; writeError: number | undefined }> {
  const { readable, writable } = toWebStreams(await connect(url, options), { readAs: 'data' })
  const reader = readable.getReader()
  const first = (await reader.read()).value as string
  const readError = await reader.read().then(() => undefined, (error: { closeCode?: number }) => error.closeCode)
  const writeError = await writable.getWriter().write('late').then(() => undefined, (error: { closeCode?: number }) => error.closeCode)
  return { first, readError, writeError }
}

/** Aborts the writable side with an error on `echoUrl`, then asks `reportUrl` how the server saw that connection close. */
export async function abortWithError(echoUrl: string, reportUrl: string, options: BrowserConnectOptions): Promise<unknown> {
  const { writable } = toWebStreams(await connect(echoUrl, options))
  await writable.abort(new Error('the producer failed'))
  const report = await connect(reportUrl, options)
  for await (const message of report) {
    await report.close()
    return JSON.parse(message.text())
  }
  return undefined
}
