/**
 * Public, composable stages in the it-pipe style: each is a function of options returning
 * `(source) => AsyncIterable`. Stages pass batches (arrays) between them, so a pipeline costs
 * one async hop per chunk, not one per frame per stage.
 *
 * ```ts
 * await pipe(createReadStream('capture.bin'), decodeFrames(), assembleMessages(), async (messages) => {
 *   for await (const message of messages) console.log(message.text())
 * })
 * ```
 * @module wsflow/transforms
 */
export { decodeFrames } from './decode.ts'
export { assembleMessages, type AssembleMessagesOptions } from './assemble.ts'
export { fragmentMessages, type FragmentOptions } from './fragment.ts'
export { encodeFrames } from './encode.ts'
export { flatten } from './flatten.ts'
export { controlFrames, type ControlFramesOptions } from './control.ts'
