// Decodes a captured WebSocket byte stream (a file, or stdin) with the public transforms and
// prints each message: the sans-I/O core used without any socket.
//
//   node --import tsx examples/decode-capture.ts examples/capture.bin
//   cat examples/capture.bin | node --import tsx examples/decode-capture.ts
import { createReadStream } from 'node:fs'
import { pipe } from 'it-pipe'
import { parseClosePayload, type Frame } from '../src/core/index.ts'
import { assembleMessages, decodeFrames } from '../src/transforms/index.ts'

const file = process.argv[2]
const input = file ? createReadStream(file) : process.stdin

function onControlFrame(frame: Frame): void {
  if (frame.opcode === 0x8) {
    const { code, reason } = parseClosePayload(frame.payload)
    console.log(`close  ${code}${reason ? ` ${JSON.stringify(reason)}` : ''}`)
  } else {
    console.log(`${frame.opcode === 0x9 ? 'ping' : 'pong'}   ${frame.payload.length} bytes`)
  }
}

await pipe(
  input,
  decodeFrames(), // masked and unmasked frames alike: a capture may hold either side
  assembleMessages({ onControlFrame }),
  async (messages) => {
    for await (const message of messages) {
      if (message.type === 'text') console.log(`text   ${JSON.stringify(message.text())}`)
      else console.log(`binary ${message.data.length} bytes: ${Buffer.from(message.data.subarray(0, 16)).toString('hex')}${message.data.length > 16 ? '…' : ''}`)
    }
  },
)
