// Writes examples/capture.bin: a client's side of a short conversation (masked frames), with a
// fragmented text message, a ping between its fragments, a binary message and a close.
//
//   node --import tsx examples/make-capture.ts examples/capture.bin
import { writeFileSync } from 'node:fs'
import { buildClosePayload, encodeFrame, fragmentMessage, Message, Opcode, createFrame, type Frame } from '../src/core/index.ts'

const frames: Frame[] = []
frames.push(...fragmentMessage(Message.text('Hello, wsflow!'), Infinity))
const fragments = fragmentMessage(Message.text('fragmented: ünïcödé ✓ across frames'), 12)
// RFC 6455 §5.4: control frames MAY be injected in the middle of a fragmented message.
frames.push(fragments[0]!, createFrame(Opcode.PING, new TextEncoder().encode('are you there?')), ...fragments.slice(1))
frames.push(...fragmentMessage(Message.binary(Uint8Array.from({ length: 40 }, (_, i) => i)), Infinity))
frames.push(createFrame(Opcode.CLOSE, buildClosePayload(1000, 'bye')))

const chunks: Uint8Array[] = []
for (const frame of frames) encodeFrame(frame, { mask: true }, chunks)
writeFileSync(process.argv[2] ?? 'examples/capture.bin', Buffer.concat(chunks))
console.log(`${frames.length} frames written`)
